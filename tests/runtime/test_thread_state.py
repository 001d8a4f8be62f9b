"""Thread heads and snapshots are caches: rebuilt from the log, checked against it, droppable
without changing anything a user sees."""

from __future__ import annotations

import operator
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rewind import replay
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.log import LogOptions
from rewind.projections.stream import MODES
from rewind.thread_state import read_head, verify_caches
from rewind.types import Command, interrupt


class State(TypedDict):
    count: int
    log: Annotated[list[str], operator.add]


def graph_with_an_interrupt() -> Any:
    def ask(state: State) -> dict[str, Any]:
        answer = interrupt({"question": f"go on from {state['count']}?"})
        return {"count": state["count"] + 1, "log": [f"asked {answer}"]}

    def step(state: State) -> dict[str, Any]:
        return {"count": state["count"] + 1, "log": ["stepped"]}

    def again(state: State) -> str:
        return "step" if state["count"] % 3 else END

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_node("step", step)
    builder.add_edge(START, "ask")
    builder.add_conditional_edges("ask", again, ["step", END])
    builder.add_edge("step", END)
    return builder


def build_thread(saver: SqliteSaver) -> tuple[Any, dict[str, Any]]:
    """Runs, an interrupt and its resume, an update and a fork: a thread worth caching."""
    graph = graph_with_an_interrupt().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    for n in range(4):
        graph.invoke({"count": n, "log": []}, config)
        graph.invoke(Command(resume=f"yes {n}"), config)
    graph.update_state(config, {"log": ["edited"]})
    older = list(graph.get_state_history(config))[5].config
    graph.invoke(None, older)
    graph.invoke(Command(resume="forked"), config)
    return graph, config


def seen(graph: Any, config: dict[str, Any], saver: SqliteSaver) -> dict[str, Any]:
    """Everything a user sees of the thread: state, history, state at each checkpoint, and
    every run's replay in every mode."""
    from rewind.runtime.loops import run_sync

    history = list(graph.get_state_history(config))
    store = run_sync(saver.log())
    runs = run_sync(store.list_runs(thread_id="t", oldest_first=True))
    return {
        "state": graph.get_state(config),
        "history": history,
        "at": [graph.get_state(s.config) for s in history],
        "replays": [list(replay(store, r.run_id, stream_mode=list(MODES))) for r in runs],
    }


def test_dropping_the_caches_changes_nothing_a_user_sees(tmp_path: Path) -> None:
    from rewind.runtime.loops import run_sync

    saver = SqliteSaver(str(tmp_path / "caches.db"))
    graph, config = build_thread(saver)
    before = seen(graph, config, saver)
    store = run_sync(saver.log())
    checked, problems = run_sync(verify_caches(store))
    assert checked >= 1 and problems == []
    assert run_sync(store.drop_caches()) >= 1
    assert run_sync(store.get_head("t")) is None
    after = seen(graph, config, saver)
    assert after == before
    # Read again, the head is back, and it agrees with the log.
    assert run_sync(store.get_head("t")) is not None
    assert run_sync(verify_caches(store))[1] == []
    saver.close()


def test_verify_names_a_head_that_disagrees_with_the_log(tmp_path: Path) -> None:
    path = tmp_path / "stale.db"
    saver = SqliteSaver(str(path))
    build_thread(saver)
    saver.close()
    with sqlite3.connect(path) as conn:  # another program edits the cache behind rewind
        (state,) = conn.execute("SELECT state FROM thread_heads").fetchone()
        assert '"stepped"' in state
        conn.execute("UPDATE thread_heads SET state = ?", (state.replace('"stepped"', '"x"'),))
    cli = [sys.executable, "-m", "rewind.cli", "--db", str(path), "db"]
    found = subprocess.run([*cli, "verify"], capture_output=True, text=True, timeout=120)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "STALE head of thread t" in found.stdout and "values" in found.stdout
    dropped = subprocess.run([*cli, "drop-caches"], capture_output=True, text=True, timeout=120)
    assert dropped.returncode == 0, dropped.stderr
    again = subprocess.run([*cli, "verify"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr


async def test_with_a_redaction_hook_the_head_is_folded_from_the_redacted_log(
    tmp_path: Path,
) -> None:
    # The runtime's state holds what the hook removes: it is never kept as a head. A reader
    # folds the (redacted) log and keeps that.
    def redact(event: Any) -> Any:
        payload = event.payload
        return _masked(payload)

    saver = SqliteSaver(str(tmp_path / "redacted.db"), redact=redact)
    builder = StateGraph(State)
    builder.add_node("n", lambda s: {"count": s["count"] + 1, "log": ["secret-123"]})
    builder.add_edge(START, "n")
    builder.add_edge("n", END)
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "r"}}
    await graph.ainvoke({"count": 0, "log": []}, config)
    store = await saver.log()
    assert store.options.redact is not None and isinstance(store.options, LogOptions)
    assert await store.get_head("r") is None
    state = (await read_head(store, "r")).view
    assert state is not None and state.values["log"] == ["***"]
    kept = await store.get_head("r")
    assert kept is not None and kept.state["values"]["log"] == ["***"]
    await saver.aclose()


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return "***" if value.startswith("secret-") else value
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


class _Counting(TypedDict, total=False):
    n: int
    count: Annotated[int, operator.add]


class _Asking(TypedDict, total=False):
    question: str


def test_a_graph_runs_on_a_thread_another_graph_ran(tmp_path: Path) -> None:
    """The server runs any assistant on any thread: the thread's state then holds keys the
    graph has no channel for, and its run still starts, runs and checkpoints; as LangGraph's,
    it shows only its own channels (its output, its stream, its state and history, the other
    graph's checkpoints included), a reducer key the thread lacks as its empty value."""
    first = StateGraph(_Asking)
    first.add_node("ask", lambda state: {"question": "why?"})
    first.add_edge(START, "ask")
    second = StateGraph(_Counting)
    second.add_node("tick", lambda state: {"count": 1})
    second.add_edge(START, "tick")
    config = {"configurable": {"thread_id": "one-thread"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "runs.db")) as saver:
        first.compile(checkpointer=saver).invoke({"question": ""}, config)
        counting = second.compile(checkpointer=saver)
        out = counting.invoke({"n": 3}, config)
        assert out == {"n": 3, "count": 1}
        assert counting.get_state(config).values == {"n": 3, "count": 1}
        assert counting.get_state(config).next == ()
        history = [s.values for s in counting.get_state_history(config)]
        assert history == [{"n": 3, "count": 1}, {"n": 3, "count": 0}, *[{"count": 0}] * 4]
        streamed = list(counting.stream({"n": 4}, config, stream_mode="values"))
        assert streamed == [{"n": 4, "count": 1}, {"n": 4, "count": 2}]
