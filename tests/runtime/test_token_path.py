"""The token path: a plain token of a model call joins its call's pack in the log and goes to a
bare ``messages`` stream as its chunk, with no event made of it; everything else (the first
token of a call, a token unlike its call's others, streams that read tokens as events, logs in
memory) takes the event path. Both leave the same log and the same stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk

from rewind import EventType, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.replay import replay
from rewind.runtime import callbacks

WORDS = 60
REPLY = " ".join(f"w{i}" for i in range(WORDS))
TOKENS = 2 * WORDS - 1  # the words and the spaces between them


class State(TypedDict, total=False):
    reply: str


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        yield saver


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The types of the events the recorder makes (the chunk path makes none)."""
    types: list[str] = []
    real = callbacks.made_event

    def counted(type_: str, *args: Any) -> Any:
        types.append(type_)
        return real(type_, *args)

    monkeypatch.setattr(callbacks, "made_event", counted)
    return types


def graph(checkpointer: Any = None, reply: str = REPLY) -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage(reply)]))

    def talk(state: State) -> dict[str, Any]:
        return {"reply": str(model.invoke("go").content)}

    g = StateGraph(State)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    g.add_edge("talk", END)
    return g.compile(checkpointer=checkpointer)


async def stored_tokens(path: Path) -> list[str]:
    store = await open_log(path)
    try:
        return [str(e.payload["token"]) for e in await store.read_all() if e.type == "chat.token"]
    finally:
        await store.aclose()


def test_a_plain_token_makes_no_event_yet_reaches_the_log_and_the_stream(
    saver: SqliteSaver, tmp_path: Path, made: list[str]
) -> None:
    config = {"configurable": {"thread_id": "t"}}
    live = list(graph(saver).stream({}, config, stream_mode="messages"))
    assert "".join(str(chunk.content) for chunk, _ in live) == REPLY
    assert len(live) == TOKENS
    # Only two tokens are made events: the call's first (it opens the call's pack) and its
    # last (LangChain marks the last chunk, so it is not plain like the others).
    assert made.count(EventType.CHAT_TOKEN) == 2
    assert asyncio.run(stored_tokens(tmp_path / "runs.db")) == [
        str(chunk.content) for chunk, _ in live
    ]

    async def replayed() -> list[Any]:
        log = await open_log(tmp_path / "runs.db")
        try:
            (run,) = await log.list_runs(thread_id="t")
            return list(replay(log, run.run_id, stream_mode="messages"))
        finally:
            await log.aclose()

    # Live equals replay: the same chunks (ids included) with the same metadata.
    again = asyncio.run(replayed())
    assert [(c.content, c.id, m) for c, m in again] == [(c.content, c.id, m) for c, m in live]


def test_streams_that_read_tokens_as_events_get_them_as_events(
    saver: SqliteSaver, tmp_path: Path, made: list[str]
) -> None:
    config = {"configurable": {"thread_id": "t"}}
    live = list(graph(saver).stream({}, config, stream_mode=["messages", "updates"]))
    chunks = [item[0] for mode, item in live if mode == "messages"]
    assert "".join(str(c.content) for c in chunks) == REPLY
    assert made.count(EventType.CHAT_TOKEN) == TOKENS  # a stream of mode lists: every token
    assert len(asyncio.run(stored_tokens(tmp_path / "runs.db"))) == TOKENS


def test_a_graph_without_a_checkpointer_keeps_each_token_as_its_event(made: list[str]) -> None:
    live = list(graph().stream({}, stream_mode="messages"))
    assert "".join(str(chunk.content) for chunk, _ in live) == REPLY
    assert made.count(EventType.CHAT_TOKEN) == TOKENS


def test_a_token_unlike_its_call_s_others_takes_the_event_path(
    saver: SqliteSaver, tmp_path: Path, made: list[str]
) -> None:
    # A chunk with fields of its own (here a provider's response metadata mid-stream) cannot
    # join its call's pack: it is recorded as its event, and the stream and log keep order.
    class Tagged(GenericFakeChatModel):
        def _stream(self, *args: Any, **kwargs: Any) -> Any:
            for i, chunk in enumerate(super()._stream(*args, **kwargs)):
                if i == 5:
                    chunk.message = AIMessageChunk(
                        content=chunk.message.content,
                        id=chunk.message.id,
                        response_metadata={"note": "odd"},
                    )
                yield chunk

    model = Tagged(messages=iter([AIMessage(REPLY)]))

    def talk(state: State) -> dict[str, Any]:
        return {"reply": str(model.invoke("go").content)}

    g = StateGraph(State)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    g.add_edge("talk", END)
    config = {"configurable": {"thread_id": "odd"}}
    live = list(g.compile(checkpointer=saver).stream({}, config, stream_mode="messages"))
    assert "".join(str(chunk.content) for chunk, _ in live) == REPLY
    assert live[5][0].response_metadata == {"note": "odd"}
    # The first, the odd one, the one after it (a new pack), the last.
    assert made.count(EventType.CHAT_TOKEN) == 4
    assert asyncio.run(stored_tokens(tmp_path / "runs.db")) == [str(c.content) for c, _ in live]
