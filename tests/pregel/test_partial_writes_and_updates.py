"""A ``Pregel`` node's writer that fails after a ``ChannelWrite`` wrote, and state updates made
one after the other on a program, side by side with LangGraph (the programs of
``partial_writes_programs.py``, written for LangGraph, run on both engines by the side-by-side
harness: every call's stream chunks, what it returned or raised, ``get_state`` and
``get_state_history``, as written, as a stream of every mode, and through
``astream_events``), and replayed from the log alone."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rewind import areplay, open_log
from rewind.log.codec import encode
from tests.pregel.test_pregel import _run_ids  # (a thread "t"'s runs, oldest first)
from tests.runtime.side_by_side import harness

PROGRAMS = Path(__file__).with_name("partial_writes_programs.py")
PASSES = [None, harness.MODES, "astream_events"]
MODES = ["values", "updates", "tasks", "debug", "checkpoints"]


def _scenarios(doc: dict[str, Any]) -> dict[str, Any]:
    return {s["scenario"]: s for s in doc["scenarios"]}


@pytest.mark.parametrize("api", PASSES, ids=["as_written", "every_stream_mode", "events"])
def test_the_programs_run_as_on_langgraph(api: str | None) -> None:
    reference = harness.run_graph(PROGRAMS, "langgraph", api)
    candidate = harness.run_graph(PROGRAMS, "rewind", api)
    assert candidate["warnings_and_leftovers"] == reference["warnings_and_leftovers"]
    for name, expected in _scenarios(reference).items():
        got = _scenarios(candidate)[name]
        diff = harness.first_diff(expected, got)
        assert diff is None, f"{name}: {harness.explain_diff(expected, got, diff)}"


def test_the_comparison_covers_the_kept_writes_and_the_pending_tasks() -> None:
    """What the comparison above holds rewind to is there in LangGraph's own run: the writes
    before the failure stream and apply, a resume streams them cached without running the
    node (no error), and tasks left pending by an update stay next after the next update."""
    scenarios = _scenarios(harness.run_graph(PROGRAMS, "langgraph"))
    failed, resumed = scenarios["writer_fails_after_a_write"]["calls"][:2]
    updates = [c["v"][1] for c in failed["chunks"] if c["v"][0] == "updates"]
    assert failed["error"]["type"] == "ValueError" and updates == [{"n": {"b": "X"}}]
    assert failed["get_state"]["next"] == [] and failed["get_state"]["values"]["b"] == "X"
    assert resumed["error"] is None
    cached = next(c["v"][1] for c in resumed["chunks"] if c["v"][0] == "updates")
    assert cached == {"n": {"b": "X"}, "__metadata__": {"cached": True}}
    first, second = scenarios["two_updates"]["calls"][:2]
    assert first["get_state"]["next"] == ["two", "both"]
    assert second["get_state"]["next"] == ["two", "three", "both"]


@contextlib.contextmanager
def _rewind_programs() -> Iterator[Any]:
    """The programs' module, its LangGraph imports served by rewind."""
    with harness.engine_imports("rewind"), harness.graph_module(PROGRAMS, "rewind") as module:
        yield module


async def _collected(stream: Any, into: list[Any]) -> None:
    try:
        async for item in stream:
            into.append(item)
    except ValueError:  # (the failing writer's: what came before it counts)
        pass


async def _live(path: Path, build: str, calls: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Each stream call's run id and chunks (``"events"``: its ``astream_events``), made on a
    SQLite-backed thread; the updates are made between them."""
    from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver

    config = {"configurable": {"thread_id": "t"}}
    runs: list[tuple[str, Any]] = []
    with _rewind_programs() as programs:
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            app = getattr(programs, build)(saver)
            for kind, given in calls:
                chunks: list[Any] = []
                if kind == "update":
                    await app.aupdate_state(config, given[0], as_node=given[1])
                    continue
                if kind == "events":
                    made = app.astream_events(given, config, version="v2", stream_mode=MODES)
                else:
                    made = app.astream(given, config, stream_mode=MODES)
                await _collected(made, chunks)
                runs.append(((await _run_ids(path))[-1], chunks))
    return runs


async def _replayed(path: Path, run_id: str, events: bool) -> list[Any]:
    store = await open_log(path)
    kwargs: dict[str, Any] = {"stream_mode": MODES}
    if events:
        kwargs = {"stream_mode": "events", "events_stream_mode": MODES}
    try:
        return [c async for c in areplay(store, run_id, **kwargs)]
    finally:
        await store.aclose()


@pytest.mark.parametrize(
    ("build", "calls"),
    [
        ("build", [("stream", "x"), ("stream", None), ("events", "y"), ("events", None)]),
        ("build_handled", [("stream", "x"), ("events", "y")]),
        (
            "build_chain",
            [("update", ("p", "one")), ("update", ("q", "two")), ("stream", None)],
        ),
        (
            "build_breakpoint",
            [("stream", "x"), ("update", ("q", "three")), ("events", None)],
        ),
    ],
    ids=["writer_fails_after_a_write", "failure_handled", "two_updates", "update_at_a_breakpoint"],
)
def test_a_replay_equals_the_live_stream(
    tmp_path: Path, build: str, calls: list[tuple[str, Any]]
) -> None:
    """The writes kept from a failure (streamed, then cached by the resume), and the tasks an
    update left pending (run by the resume, in node order), are in the log as they streamed."""
    path = tmp_path / "runs.db"
    runs = asyncio.run(_live(path, build, calls))
    kinds = [kind for kind, _ in calls if kind != "update"]
    assert len(runs) == len(kinds)
    for kind, (run_id, live) in zip(kinds, runs, strict=True):
        assert live
        replayed = asyncio.run(_replayed(path, run_id, events=kind == "events"))
        assert [encode(c) for c in replayed] == [encode(c) for c in live]
