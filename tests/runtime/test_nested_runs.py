"""The runnables a node runs inside itself (a prompt, an LCEL sequence, a parser, a lambda, a
retriever): recorded as ``chain.*`` events of its task, so the ``events`` mode replayed from
the log equals what ``astream_events`` showed live (side by side with LangGraph: sbs_82, sbs_83).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda

from rewind import open_log
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.events import EventType, StoredEvent
from rewind.graph import END, START, StateGraph
from rewind.log.codec import encode


class _Notes(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [Document(page_content=f"{query} purr", metadata={"rank": 0})]


class _State(TypedDict, total=False):
    topic: str
    notes: list[str]
    joke: str
    verdict: str
    kept: Any


def _model(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=text, id="reply")]))


def _counted(docs: list[Document]) -> list[str]:
    dispatch_custom_event("counted", {"documents": len(docs)})
    return [d.page_content for d in docs]


def _build(saver: Any) -> Any:
    research = _Notes() | RunnableLambda(_counted)
    joke = (
        ChatPromptTemplate.from_template("A joke about {topic}, knowing {notes}")
        | _model("Cats nap.")
        | StrOutputParser()
    )
    review = ChatPromptTemplate.from_template("Rate: {joke}") | _model("Good") | StrOutputParser()

    def look_up(state: _State, config: RunnableConfig) -> dict[str, Any]:
        return {"notes": research.invoke(state["topic"], config)}

    async def write(state: _State) -> dict[str, Any]:
        return {"joke": await joke.ainvoke(state)}

    def rate(state: _State) -> dict[str, Any]:
        return {"verdict": "".join(review.stream(state))}

    g = StateGraph(_State)
    g.add_node("look_up", look_up)
    g.add_node("write", write)
    g.add_node("rate", rate)
    g.add_edge(START, "look_up")
    g.add_edge("look_up", "write")
    g.add_edge("write", "rate")
    g.add_edge("rate", END)
    return g.compile(checkpointer=saver)


async def _live_events(path: Path, build: Any, given: Any) -> list[dict[str, Any]]:
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        graph = build(saver)
        config = {"configurable": {"thread_id": "t"}}
        return [e async for e in graph.astream_events(given, config, version="v2")]


async def _stored(path: Path) -> tuple[str, list[StoredEvent]]:
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id="t")
        return run.run_id, list(await store.read(run.run_id))
    finally:
        await store.aclose()


async def _replayed(path: Path, run_id: str) -> list[Any]:
    from rewind import areplay

    store = await open_log(path)
    try:
        return [c async for c in areplay(store, run_id, stream_mode="events")]
    finally:
        await store.aclose()


def test_replay_of_nested_runs_equals_the_live_events(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    live = asyncio.run(_live_events(path, _build, {"topic": "cats"}))
    kinds = {(e["event"], e["name"]) for e in live}
    assert {
        ("on_retriever_end", "_Notes"),
        ("on_custom_event", "counted"),
        ("on_prompt_start", "ChatPromptTemplate"),
        ("on_chain_end", "RunnableSequence"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_parser_stream", "StrOutputParser"),
    } <= kinds
    run_id, _ = asyncio.run(_stored(path))
    replayed = asyncio.run(_replayed(path, run_id))
    assert [encode(e) for e in replayed] == [encode(e) for e in live]


def test_a_nested_run_given_its_node_s_input_names_it_instead_of_copying_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.db"
    live = asyncio.run(_live_events(path, _build, {"topic": "cats"}))
    _, events = asyncio.run(_stored(path))
    (sequence,) = [
        e.payload
        for e in events
        if e.type == EventType.CHAIN_STARTED
        and e.node == "write"
        and e.payload["name"] == "RunnableSequence"
    ]
    assert sequence["node_input"] is True and "input" not in sequence
    # ... and the events show it as given (the state the node was given).
    (shown,) = [
        e
        for e in live
        if e["event"] == "on_chain_start"
        and e["name"] == "RunnableSequence"
        and e["metadata"]["langgraph_node"] == "write"
    ]
    assert shown["data"] == {"input": {"topic": "cats", "notes": ["cats purr"]}}


def test_a_node_that_runs_no_runnable_records_no_nested_run(tmp_path: Path) -> None:
    def plain(state: _State) -> dict[str, Any]:
        return {"joke": state["topic"].upper()}

    def build(saver: Any) -> Any:
        g = StateGraph(_State)
        g.add_node("plain", plain)
        g.add_edge(START, "plain")
        return g.compile(checkpointer=saver)

    path = tmp_path / "runs.db"
    asyncio.run(_live_events(path, build, {"topic": "cats"}))
    _, events = asyncio.run(_stored(path))
    assert not [e for e in events if e.type.startswith("chain.")]


def test_a_value_the_log_cannot_store_is_named_by_its_type(tmp_path: Path) -> None:
    """A nested run's live object (a client, a lock) does not fail the run: the log names it."""
    import threading

    lock = threading.Lock()

    def keep(state: _State) -> dict[str, Any]:
        made = RunnableLambda(lambda _: {"lock": lock, "n": 1}, name="make").invoke(state)
        return {"kept": made["n"]}

    def build(saver: Any) -> Any:
        g = StateGraph(_State)
        g.add_node("keep", keep)
        g.add_edge(START, "keep")
        return g.compile(checkpointer=saver)

    path = tmp_path / "runs.db"
    live = asyncio.run(_live_events(path, build, {"topic": "cats"}))
    assert live[-1]["data"]["output"] == {"topic": "cats", "kept": 1}
    _, events = asyncio.run(_stored(path))
    (ended,) = [e.payload for e in events if e.type == EventType.CHAIN_ENDED]
    assert ended["output"] == {"lock": "<not recorded: _thread.lock>", "n": 1}


def test_a_failed_nested_run_is_recorded_and_shows_no_end(tmp_path: Path) -> None:
    def fail(value: Any) -> Any:
        raise ValueError("no verdict")

    def check(state: _State) -> dict[str, Any]:
        try:
            RunnableLambda(fail, name="strict").invoke(state)
        except ValueError:
            return {"verdict": "unchecked"}
        return {"verdict": "checked"}

    def build(saver: Any) -> Any:
        g = StateGraph(_State)
        g.add_node("check", check)
        g.add_edge(START, "check")
        return g.compile(checkpointer=saver)

    path = tmp_path / "runs.db"
    live = asyncio.run(_live_events(path, build, {"topic": "cats"}))
    assert [e["event"] for e in live if e["name"] == "strict"] == ["on_chain_start"]
    _, events = asyncio.run(_stored(path))
    (ended,) = [e.payload for e in events if e.type == EventType.CHAIN_ENDED]
    assert ended["error"] == {"type": "ValueError", "message": "no verdict"}


def test_a_runnable_node_streams_its_steps_and_replays_as_it_streamed(tmp_path: Path) -> None:
    """A sequence added as a node runs its steps under the node's run, streamed step into step
    under astream_events (as LangGraph runs it), and the replay shows the same."""
    classify = (
        RunnableLambda(lambda state: {"topic": state["topic"]}, name="prepare")
        | ChatPromptTemplate.from_template("Classify {topic}")
        | _model("animal")
        | StrOutputParser()
        | RunnableLambda(lambda kind: {"verdict": kind}, name="to_update")
    )

    def build(saver: Any) -> Any:
        g = StateGraph(_State)
        g.add_node("classify", classify)
        g.add_edge(START, "classify")
        return g.compile(checkpointer=saver)

    path = tmp_path / "runs.db"
    live = asyncio.run(_live_events(path, build, {"topic": "cats"}))
    assert live[-1]["data"]["output"] == {"topic": "cats", "verdict": "animal"}
    steps = [e for e in live if e["metadata"].get("langgraph_node") == "classify"]
    node_run = next(e["run_id"] for e in steps if e["name"] == "classify")
    (prepare,) = [e for e in steps if e["name"] == "prepare" and e["event"] == "on_chain_start"]
    assert prepare["parent_ids"][-1] == node_run and prepare["data"] == {}  # streamed: no input
    assert "RunnableSequence" not in {e["name"] for e in steps}
    assert ("on_parser_stream", "StrOutputParser") in {(e["event"], e["name"]) for e in steps}
    run_id, _ = asyncio.run(_stored(path))
    replayed = asyncio.run(_replayed(path, run_id))
    assert [encode(e) for e in replayed] == [encode(e) for e in live]


def _pregel(checkpointer: Any) -> Any:
    from rewind.channels import EphemeralValue, LastValue
    from rewind.pregel import NodeBuilder, Pregel

    def double(x: str) -> str:
        return x + x

    one = NodeBuilder().subscribe_only("a").do(lambda x: x + "!").write_to("b")
    two = NodeBuilder().subscribe_only("b").do(double).do(str.upper).write_to("c")
    return Pregel(
        nodes={"one": one, "two": two},
        channels={"a": EphemeralValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels="a",
        output_channels=["b", "c"],
        checkpointer=checkpointer,
    )


def test_a_pregel_node_s_functions_are_runs_of_their_own_live_and_replayed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.db"

    async def live_events() -> list[dict[str, Any]]:
        # (the graph's own stream in "updates", as a replay of the events gives it)
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            config = {"configurable": {"thread_id": "t"}}
            events = _pregel(saver).astream_events("x", config, stream_mode="updates")
            return [e async for e in events]

    live = asyncio.run(live_events())
    shown = [
        (e["event"], e["name"], e["tags"][:1], e["data"].get("output"))
        for e in live
        if e["name"] != "LangGraph"
    ]
    # As LangGraph's: each function a run (a lambda's unnamed) inside its node's, tagged as
    # the node's steps; the node's output is what its last function returned, not its writes.
    assert shown == [
        ("on_chain_start", "one", ["graph:step:0"], None),
        ("on_chain_start", "Unnamed", ["seq:step:1"], None),
        ("on_chain_end", "Unnamed", ["seq:step:1"], "x!"),
        ("on_chain_stream", "one", ["graph:step:0"], None),
        ("on_chain_end", "one", ["graph:step:0"], "x!"),
        ("on_chain_start", "two", ["graph:step:1"], None),
        ("on_chain_start", "double", ["seq:step:1"], None),
        ("on_chain_end", "double", ["seq:step:1"], "x!x!"),
        ("on_chain_start", "upper", ["seq:step:2"], None),
        ("on_chain_end", "upper", ["seq:step:2"], "X!X!"),
        ("on_chain_stream", "two", ["graph:step:1"], None),
        ("on_chain_end", "two", ["graph:step:1"], "X!X!"),
    ]
    run_id, _ = asyncio.run(_stored(path))
    replayed = asyncio.run(_replayed(path, run_id))
    assert [encode(e) for e in replayed] == [encode(e) for e in live]
