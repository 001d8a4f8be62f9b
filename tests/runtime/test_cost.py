"""What a thread costs does not grow with its history: guarded by figures, not by times.

Bytes on disk after a looping run (with every stream mode consumed and the telemetry mirror
on), bytes each turn of a chat adds to the log, and the events read to start a run, to read a
thread's state and to list its newest checkpoints: each is deterministic, so each is checked
exactly. ``bench/storage.py`` and ``bench/growth.py`` measure the same things against LangGraph.
"""

from __future__ import annotations

import itertools
import operator
import random
import sqlite3
import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.graph.message import add_messages
from rewind.log import codec
from rewind.projections.stream import MODES
from rewind.telemetry import attach_mirror

SUFFIXES = ("", "-wal", "-shm")


def on_disk(path: Path) -> int:
    """Bytes in every file of the database at ``path``."""
    return sum(
        Path(str(path) + suffix).stat().st_size
        for suffix in SUFFIXES
        if Path(str(path) + suffix).exists()
    )


# --- storage stays linear ---------------------------------------------------------------------


class Notes(TypedDict):
    count: int
    notes: Annotated[list[str], operator.add]


def looping(steps: int) -> Any:
    """One node that loops ``steps`` times, appending a different 1 KB string each time."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " "
    payloads = ["".join(rng.choices(alphabet, k=1024)) for _ in range(steps)]

    def step(state: Notes) -> dict[str, Any]:
        return {"count": state["count"] + 1, "notes": [payloads[state["count"]]]}

    def again(state: Notes) -> str:
        return "step" if state["count"] < steps else END

    builder = StateGraph(Notes)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", again, ["step", END])
    return builder


async def consume(stream: AsyncIterator[Any]) -> int:
    return sum([1 async for _ in stream])


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize(("steps", "limit"), [(200, 500_000), (400, 1_000_000)])
async def test_a_looping_run_leaves_storage_linear_in_what_it_wrote(
    tmp_path: Path, durability: str, steps: int, limit: int
) -> None:
    # 1 KB written per step: the database holds that and the log's own bookkeeping, never
    # the state again per step (which would be 20 MB at 200 steps, as LangGraph's SqliteSaver).
    # Measured over an empty database's size (the schema's tables and indexes).
    empty = tmp_path / "empty.db"
    await (await open_log(empty)).aclose()
    path = tmp_path / "loop.db"
    saver = SqliteSaver(str(path))
    graph = looping(steps).compile(checkpointer=saver)
    spans = InMemorySpanExporter()
    mirror = attach_mirror(await saver.log(), exporter=spans)
    config = {"configurable": {"thread_id": "loop"}, "recursion_limit": steps + 10}
    stream = graph.astream(
        {"count": 0, "notes": []}, config, stream_mode=list(MODES), durability=durability
    )
    assert await consume(stream) > steps
    state = await graph.aget_state(config)
    assert state.values["count"] == steps and len(state.values["notes"]) == steps
    await mirror.aclose()
    await saver.aclose()
    assert mirror.dropped_spans == 0 and len(spans.get_finished_spans()) > steps
    grown = on_disk(path) - on_disk(empty)
    assert grown <= limit, (grown, limit)


# --- a long conversation ----------------------------------------------------------------------


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def chat() -> Any:
    def answer(state: Chat) -> dict[str, Any]:
        asked = state["messages"][-1].content
        return {"messages": [AIMessage(content=f"You said {asked!s}; here is a reply " * 4)]}

    builder = StateGraph(Chat)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder


def run_bytes(path: Path, run_id: str) -> int:
    """What a run stored in the log, as the database holds it: its events' payloads and
    columns."""
    with sqlite3.connect(path) as conn:
        (total,) = conn.execute(
            "SELECT SUM(LENGTH(e.payload) + LENGTH(e.hash) + LENGTH(e.type) + 32"
            " + IFNULL(LENGTH(e.node), 0) + IFNULL(LENGTH(e.task_id), 0)"
            " + IFNULL(LENGTH(e.ns), 0))"
            " FROM events e JOIN runs r ON r.run_key = e.run_key WHERE r.run_id = ?",
            (run_id,),
        ).fetchone()
    return int(total)


def cache_bytes(path: Path) -> int:
    """What the caches hold: the threads' heads and the snapshots."""
    with sqlite3.connect(path) as conn:
        (heads,) = conn.execute("SELECT IFNULL(SUM(LENGTH(state)), 0) FROM thread_heads").fetchone()
        (kept,) = conn.execute("SELECT IFNULL(SUM(LENGTH(state)), 0) FROM snapshots").fetchone()
    return int(heads) + int(kept)


async def test_a_chat_turn_stores_the_same_however_long_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    saver = SqliteSaver(str(path))
    graph = chat().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "chat"}}
    store = await saver.log()
    per_turn: list[int] = []
    for turn in range(1, 51):
        await graph.ainvoke({"messages": [HumanMessage(content=f"question {turn:03d}")]}, config)
        await store.flush()
        newest = (await store.list_runs(thread_id="chat", limit=1))[0]
        per_turn.append(run_bytes(path, newest.run_id))
    state = await graph.aget_state(config)
    assert len(state.values["messages"]) == 100
    assert per_turn[49] <= 1.2 * per_turn[4], (per_turn[4], per_turn[49])
    # The caches (the head, the snapshots) stay a bounded share of what was logged: at most
    # a quarter of it, besides one head and one snapshot of the state.
    logged = sum(per_turn)
    state_size = len(codec.encode(state.values))
    assert cache_bytes(path) <= logged / 4 + 2 * state_size + 4096, (cache_bytes(path), logged)
    await saver.aclose()


def chat_with_a_model() -> Any:
    """A chat whose node calls a chat model with the whole conversation, as agents do."""
    replies = (AIMessage(content="Sure. " * 20) for _ in itertools.count())
    model = GenericFakeChatModel(messages=replies)

    def answer(state: Chat) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(Chat)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder


async def test_a_chat_models_input_names_the_conversation_instead_of_copying_it(
    tmp_path: Path,
) -> None:
    # The model is given the whole conversation every turn; the log holds each message once,
    # and the recorded input names the state's messages by id.
    path = tmp_path / "agent.db"
    saver = SqliteSaver(str(path))
    graph = chat_with_a_model().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "agent"}}
    store = await saver.log()
    per_turn: list[int] = []
    for turn in range(1, 51):
        # (A dict, not a message object: the reducer gives an object an id in place, so a
        # live chunk holding it would change after it was streamed.)
        question = {"messages": [{"role": "user", "content": f"question {turn:03d}"}]}
        if turn == 50:  # the events stream shows the model the whole conversation, as live
            live = [e async for e in graph.astream_events(question, config, version="v2")]
        else:
            await graph.ainvoke(question, config)
        await store.flush()
        newest = (await store.list_runs(thread_id="agent", limit=1))[0]
        per_turn.append(run_bytes(path, newest.run_id))
    # Turn 50 streamed (its tokens are in the log too): turn 49 is the one to compare.
    assert per_turn[48] <= 1.2 * per_turn[4], (per_turn[4], per_turn[48])
    started = [e for e in live if e["event"] == "on_chat_model_start"]
    shown = started[0]["data"]["input"]["messages"][0]
    assert len(shown) == 99 and all(isinstance(m, BaseMessage) for m in shown)
    assert shown[-1].content == "question 050"
    replayed = [e async for e in areplay(store, newest.run_id, stream_mode="events")]
    assert replayed == live
    await saver.aclose()


# --- reads do not grow with the thread's history ----------------------------------------------


class Counter(TypedDict):
    count: int
    note: str


def counting() -> Any:
    builder = StateGraph(Counter)
    builder.add_node("bump", lambda s: {"count": s["count"] + 1, "note": "x" * 40})
    builder.add_edge(START, "bump")
    builder.add_edge("bump", END)
    return builder


async def test_starting_a_run_and_reading_state_read_the_same_however_many_runs_came_before(
    tmp_path: Path,
) -> None:
    saver = SqliteSaver(str(tmp_path / "many.db"))
    graph = counting().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "many"}}
    store = await saver.log()

    async def events_read(call: Any) -> int:
        before = store.stats.events_read
        await call
        return store.stats.events_read - before

    starts: dict[int, int] = {}
    states: dict[int, int] = {}
    for n in range(1, 121):
        read = await events_read(graph.ainvoke({"count": n, "note": ""}, config))
        if n in (5, 40, 120):
            starts[n] = read
            states[n] = await events_read(graph.aget_state(config))
    assert starts[120] == starts[40] == starts[5], starts
    assert states[120] == states[40] == states[5], states
    assert (await graph.aget_state(config)).values["count"] == 121
    await saver.aclose()


async def test_history_reads_only_what_it_lists(tmp_path: Path) -> None:
    saver = SqliteSaver(str(tmp_path / "history.db"))
    graph = counting().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "h"}}
    store = await saver.log()
    reads: dict[int, int] = {}
    for n in range(1, 241):
        await graph.ainvoke({"count": n, "note": ""}, config)
        if 45 <= n <= 60 or 225 <= n <= 240:
            before = store.stats.events_read
            listed = [s async for s in graph.aget_state_history(config, limit=3)]
            reads[n] = store.stats.events_read - before
            assert [s.values["count"] for s in listed] == [n + 1, n, n]
    # The newest three checkpoints come from the head and the nearest snapshot before them: a
    # bounded number of events (more the further the snapshot, which comes every few runs),
    # as many at most for a thread four times as long.
    early = max(v for n, v in reads.items() if n <= 60)
    late = max(v for n, v in reads.items() if n >= 225)
    assert late <= early + 8, reads
    assert late < 100, reads
    await saver.aclose()


async def test_a_short_invoke_commits_once(tmp_path: Path) -> None:
    # Its first events wait (LogOptions.commit_delay) for the flush that ends the invoke:
    # one transaction for the whole run, however many steps it has. (The window is long here
    # so that the count does not depend on how fast the machine is: by default it is 5 ms,
    # which a short run on an idle machine stays within.)
    from rewind.log import LogOptions

    store = await open_log(tmp_path / "short.db", options=LogOptions(commit_delay=30))
    graph = counting().compile(checkpointer=store)
    config = {"configurable": {"thread_id": "short"}}
    await graph.ainvoke({"count": 0, "note": ""}, config)
    before = store.commit_count
    await graph.ainvoke({"count": 1, "note": ""}, config)  # (returns at once: not after 30 s)
    assert store.commit_count - before == 1
    assert (await graph.aget_state(config)).values["count"] == 2
    await store.aclose()
