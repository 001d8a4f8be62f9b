"""The node cache: what a hit skips, what it records in the log, how entries expire and are
cleared, and what is never cached."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest

from rewind import EventType, areplay, open_log
from rewind.cache.memory import InMemoryCache
from rewind.cache.sqlite import SqliteCache
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import START, StateGraph
from rewind.log.codec import encode
from rewind.types import CachePolicy, interrupt


class State(TypedDict, total=False):
    x: int
    result: int
    ask: bool


def graph_counting(runs: list[int], cache: Any, *, ttl: int | None = None, saver: Any = None):
    def expensive(state: State) -> dict[str, Any]:
        runs.append(state["x"])
        if state.get("ask"):
            interrupt("sure?")
        if state["x"] < 0:
            raise ValueError("negative")
        return {"result": state["x"] * 2}

    g = StateGraph(State)
    g.add_node("expensive", expensive, cache_policy=CachePolicy(ttl=ttl))
    g.add_node("cheap", lambda state: {"result": state["x"]}, cache_policy=CachePolicy())
    g.add_edge(START, "expensive")
    g.add_edge("expensive", "cheap")
    return g.compile(cache=cache, checkpointer=saver)


def test_a_hit_is_not_run_and_gives_the_same_result() -> None:
    runs: list[int] = []
    graph = graph_counting(runs, InMemoryCache())
    assert graph.invoke({"x": 3}) == {"x": 3, "result": 3}
    assert graph.invoke({"x": 3}) == {"x": 3, "result": 3}
    assert graph.invoke({"x": 4}) == {"x": 4, "result": 4}
    assert runs == [3, 4]


def test_an_entry_expires_after_its_ttl() -> None:
    runs: list[int] = []
    graph = graph_counting(runs, InMemoryCache(), ttl=1)
    graph.invoke({"x": 1})
    graph.invoke({"x": 1})
    time.sleep(1.05)
    graph.invoke({"x": 1})
    assert runs == [1, 1]


def test_a_failed_or_interrupted_node_is_not_cached(tmp_path: Path) -> None:
    runs: list[int] = []
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        graph = graph_counting(runs, InMemoryCache(), saver=saver)
        for _ in range(2):
            with pytest.raises(ValueError, match="negative"):
                graph.invoke({"x": -1}, {"configurable": {"thread_id": "fails"}})
        for thread in ("asks-1", "asks-2"):
            out = graph.invoke({"x": 2, "ask": True}, {"configurable": {"thread_id": thread}})
            assert "__interrupt__" in out
    assert runs == [-1, -1, 2, 2]


def test_clear_cache_forgets_the_nodes_named_or_all() -> None:
    runs: list[int] = []
    cache: InMemoryCache[Any] = InMemoryCache()
    graph = graph_counting(runs, cache)
    graph.invoke({"x": 5})
    graph.clear_cache(["cheap"])
    assert list(graph.stream({"x": 5}, stream_mode="updates")) == [
        {"expensive": {"result": 10}, "__metadata__": {"cached": True}},
        {"cheap": {"result": 5}},
    ]
    asyncio.run(graph.aclear_cache())
    graph.invoke({"x": 5})
    assert runs == [5, 5]
    with pytest.raises(ValueError, match="No cache is set for this graph"):
        graph_counting(runs, None).clear_cache()


def test_a_sqlite_cache_outlives_the_process_that_wrote_it(tmp_path: Path) -> None:
    runs: list[int] = []
    path = str(tmp_path / "cache.db")
    first = SqliteCache(path=path)
    graph_counting(runs, first).invoke({"x": 7})
    first.close()
    graph = graph_counting(runs, SqliteCache(path=path))
    assert graph.invoke({"x": 7}) == {"x": 7, "result": 7}
    assert runs == [7]
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT count(*) FROM cache").fetchone()
    assert count == 2  # one entry per node


def test_a_file_that_is_no_database_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"not a database at all, just text" * 200)
    with pytest.raises(ValueError, match=r"cannot use .*notes\.txt.* as a node cache"):
        SqliteCache(path=str(bad))


def test_a_hit_is_in_the_log_and_replays_as_it_streamed(tmp_path: Path) -> None:
    """The log records the hit (its task's start and end say ``cached``), so a replay of the
    run gives the chunks the live stream gave, ``__metadata__`` included."""
    db = tmp_path / "runs.db"
    modes = ["updates", "tasks", "values", "debug"]
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = graph_counting([], InMemoryCache(), saver=saver)
        graph.invoke({"x": 1}, {"configurable": {"thread_id": "first"}})
        live = list(graph.stream({"x": 1}, {"configurable": {"thread_id": "t"}}, stream_mode=modes))
    assert ("updates", {"expensive": {"result": 2}, "__metadata__": {"cached": True}}) in live

    async def read() -> tuple[list[Any], list[Any]]:
        log = await open_log(db)
        try:
            (run,) = await log.list_runs(thread_id="t")
            events = await log.read(run.run_id)
            replayed = [c async for c in areplay(log, run.run_id, stream_mode=modes)]
            return events, replayed
        finally:
            await log.aclose()

    events, replayed = asyncio.run(read())
    hits = [
        e
        for e in events
        if e.type in (EventType.TASK_STARTED, EventType.TASK_ENDED)
        and (e.payload or {}).get("cached")
    ]
    assert [(e.type, e.node) for e in hits] == [
        (EventType.TASK_STARTED, "expensive"),
        (EventType.TASK_ENDED, "expensive"),
        (EventType.TASK_STARTED, "cheap"),
        (EventType.TASK_ENDED, "cheap"),
    ]
    assert [encode(c) for c in replayed] == [encode(c) for c in live]
