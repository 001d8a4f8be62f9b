"""rewind's channel classes behave as LangGraph's: the same writes, step after step, give the
same values, checkpoints and errors; and in a state schema they are recorded in the log so
that a replay and a fresh process see what the live run saw."""

from __future__ import annotations

import asyncio
import operator
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypedDict

import langgraph.channels as lg
import pytest
from langgraph._internal._typing import MISSING as LG_MISSING
from langgraph.checkpoint.memory import InMemorySaver as LangGraphSaver
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

import rewind.channels as rw
from rewind import open_log
from rewind.channels.base import MISSING
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.errors import InvalidUpdateError
from rewind.graph import START, StateGraph
from rewind.log.codec import encode
from rewind.types import Overwrite
from tests.pregel.test_pregel import _run_ids  # (a thread "t"'s runs, oldest first)


def _extend(state: list[str], writes: Sequence[Any]) -> list[str]:
    out = list(state)
    for write in writes:
        out += write if isinstance(write, list) else [write]
    return out


# (name, how to build it from a channels module, the writes of each step in turn)
CASES: list[tuple[str, Callable[[Any], Any], list[list[Any]]]] = [
    ("last_value", lambda m: m.LastValue(int), [[1], [], [2], [3, 4]]),
    ("any_value", lambda m: m.AnyValue(int), [[1, 1], [], [2]]),
    ("ephemeral", lambda m: m.EphemeralValue(str), [["a"], [], ["b"], ["c", "d"]]),
    ("ephemeral_unguarded", lambda m: m.EphemeralValue(str, guard=False), [["a", "b"], []]),
    ("untracked", lambda m: m.UntrackedValue(str), [["a"], [], ["b", "c"]]),
    ("binop", lambda m: m.BinaryOperatorAggregate(int, operator.add), [[1, 2], [], [3]]),
    ("binop_list", lambda m: m.BinaryOperatorAggregate(list, operator.add), [[[1]], [[2, 3]]]),
    ("topic", lambda m: m.Topic(str), [["a", ["b", "c"]], [], ["d"]]),
    ("topic_accumulate", lambda m: m.Topic(str, accumulate=True), [["a"], [], [["b", "c"]]]),
    ("delta", lambda m: m.DeltaChannel(_extend, list), [["a", "b"], [], ["c"]]),
    ("barrier", lambda m: m.NamedBarrierValue(str, {"x", "y"}), [["x"], ["y"], ["z"]]),
    (
        "barrier_after_finish",
        lambda m: m.NamedBarrierValueAfterFinish(str, {"x"}),
        [["x"], ["finish"], ["consume"]],
    ),
    ("last_after_finish", lambda m: m.LastValueAfterFinish(int), [[1], ["finish"], ["consume"]]),
]


def _observe(channel: Any, steps: list[list[Any]]) -> list[Any]:
    """What a user of the channel sees after each step (``finish``/``consume`` steps call
    those methods): the update's answer or error, and the value, availability, checkpoint."""
    seen: list[Any] = []
    channel.key = "k"
    for writes in steps:
        try:
            if writes == ["finish"]:
                answer: Any = ("finish", channel.finish())
            elif writes == ["consume"]:
                answer = ("consume", channel.consume())
            else:
                answer = channel.update(writes)
        except Exception as exc:  # the error, compared by type name and message
            answer = (type(exc).__name__, str(exc))
        try:
            value: Any = channel.get()
        except Exception as exc:
            value = type(exc).__name__
        checkpoint = channel.checkpoint()
        copy = channel.copy()
        seen.append(
            [
                answer,
                value,
                channel.is_available(),
                "MISSING" if checkpoint is MISSING or checkpoint is LG_MISSING else checkpoint,
                copy.is_available(),
            ]
        )
    return seen


@pytest.mark.parametrize(("name", "build", "steps"), CASES, ids=[c[0] for c in CASES])
def test_a_channel_answers_the_same_writes_as_langgraph_s(
    name: str, build: Callable[[Any], Any], steps: list[list[Any]]
) -> None:
    assert _observe(build(rw), steps) == _observe(build(lg), steps)


def test_channels_compare_and_report_their_types_as_langgraph_s() -> None:
    for build in (c[1] for c in CASES):
        ours, theirs = build(rw), build(lg)
        assert (ours.ValueType, ours.UpdateType) == (theirs.ValueType, theirs.UpdateType)
        assert (ours == build(rw)) == (theirs == build(lg))
    assert rw.Topic(str) != rw.Topic(str, accumulate=True)
    assert rw.BinaryOperatorAggregate(int, operator.add) != rw.BinaryOperatorAggregate(
        int, operator.mul
    )


def test_an_overwrite_replaces_a_reducer_channel_s_value_once_a_step() -> None:
    for module in (rw, lg):
        channel = module.BinaryOperatorAggregate(list, operator.add)
        channel.update([[1], Overwrite([9]) if module is rw else _lg_overwrite([9]), [2]])
        assert channel.get() == [9]
        channel.update([{"__overwrite__": [7]}])
        assert channel.get() == [7]
    with pytest.raises(InvalidUpdateError, match="only one Overwrite"):
        rw.BinaryOperatorAggregate(list, operator.add).update([Overwrite([1]), Overwrite([2])])


def _lg_overwrite(value: Any) -> Any:
    from langgraph.types import Overwrite as LangGraphOverwrite

    return LangGraphOverwrite(value)


class State(TypedDict, total=False):
    name: str
    flash: Annotated[str, rw.EphemeralValue]
    scratch: Annotated[str, rw.UntrackedValue(str)]
    topic: Annotated[list[str], rw.Topic(str)]
    log: Annotated[list[str], rw.Topic(str, accumulate=True)]
    delta: Annotated[list[str], rw.DeltaChannel(_extend)]


def _first(state: State) -> dict[str, Any]:
    return {"flash": "f", "scratch": "s", "topic": ["t"], "log": "one", "delta": ["a"]}


def _second(state: State) -> dict[str, Any]:
    seen = f"{state.get('flash')}/{state.get('scratch')}/{state.get('topic')}"
    return {"name": seen, "log": ["two"], "delta": ["b", "c"]}


def _build(saver: Any) -> Any:
    g = StateGraph(State)
    g.add_node("first", _first)
    g.add_node("second", _second)
    g.add_edge(START, "first")
    g.add_edge("first", "second")
    return g.compile(checkpointer=saver)


ALL = ["values", "updates", "tasks", "checkpoints", "debug", "events"]


def _replayed(path: Path, run_id: str) -> list[Any]:
    async def go() -> list[Any]:
        from rewind import areplay

        store = await open_log(path)
        try:
            return [c async for c in areplay(store, run_id, stream_mode=ALL)]
        finally:
            await store.aclose()

    return asyncio.run(go())


def test_a_replay_of_a_run_with_channels_equals_its_live_stream(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _build(saver)
        first = list(graph.stream({"name": "n"}, config, stream_mode=ALL))
        second = list(graph.stream({"name": "m"}, config, stream_mode=ALL))
    runs = asyncio.run(_run_ids(path))
    values = [c for mode, c in first if mode == "values"]
    assert values[-1]["scratch"] == "s"  # shown while the run runs
    assert "flash" not in values[-1] and values[-2]["flash"] == "f"  # cleared after a step
    assert [encode(c) for c in _replayed(path, runs[0])] == [encode(c) for c in first]
    assert [encode(c) for c in _replayed(path, runs[1])] == [encode(c) for c in second]


def test_a_fresh_process_reads_the_state_a_checkpoint_keeps(tmp_path: Path) -> None:
    """No untracked value, no emptied ephemeral one; the reducers' values as folded."""
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _build(saver)
        graph.invoke({"name": "n"}, config)
        live = graph.get_state(config).values
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
        "from rewind.checkpoint.sqlite import SqliteSaver\n"
        "from tests.channels.test_channels import _build\n"
        f"with SqliteSaver.from_conn_string({str(path)!r}) as saver:\n"
        "    graph = _build(saver)\n"
        "    config = {'configurable': {'thread_id': 't'}}\n"
        "    print(repr(graph.get_state(config).values))\n"
        "    print(repr([s.values for s in graph.get_state_history(config)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    state, history = done.stdout.splitlines()
    expected = {
        "name": "f/s/['t']",
        "log": ["one", "two"],
        "delta": ["a", "b", "c"],
    }
    assert live == expected and eval(state) == expected
    assert all("scratch" not in values for values in eval(history))


def _langgraph_state() -> type:
    class LangGraphState(TypedDict, total=False):
        name: str
        log: Annotated[list[str], lg.Topic(str, accumulate=True)]
        delta: Annotated[list[str], lg.DeltaChannel(_extend)]
        flash: Annotated[str, lg.EphemeralValue]

    return LangGraphState


def test_a_delta_channel_folds_as_langgraph_s() -> None:
    """(LangGraph also adds its snapshot counters to the checkpoint metadata: not compared.)"""

    def node(state: Any) -> dict[str, Any]:
        return {"delta": ["x", "y"], "log": ["n"]}

    def run(graph_class: Any, state: Any, start: str, saver: Any) -> list[Any]:
        g = graph_class(state)
        g.add_node("node", node)
        g.add_edge(start, "node")
        graph = g.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        chunks = list(graph.stream({"delta": ["i"]}, config, stream_mode=["values", "updates"]))
        chunks += list(graph.stream({"name": "again"}, config, stream_mode="values"))
        return [*chunks, [s.values for s in graph.get_state_history(config)]]

    ours = run(StateGraph, State, START, SqliteSaver.from_conn_string(":memory:").__enter__())
    theirs = run(LangGraphStateGraph, _langgraph_state(), LG_START, LangGraphSaver())
    assert ours == theirs


def test_a_state_key_annotated_last_value_after_finish_shows_when_the_run_finishes() -> None:
    """Nodes do not see it; the output does (the side-by-side corpus compares the rest)."""

    class Deferred(TypedDict, total=False):
        late: Annotated[str, rw.LastValueAfterFinish]
        log: Annotated[list[str], operator.add]

    g = StateGraph(Deferred)
    g.add_node("a", lambda s: {"late": "x", "log": [",".join(sorted(s))]})
    g.add_node("b", lambda s: {"log": [",".join(sorted(s))]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    assert g.compile().invoke({"log": []}) == {"log": ["log", "log"], "late": "x"}


def test_two_writes_to_a_guarded_ephemeral_key_fail_as_in_langgraph() -> None:
    from langgraph.errors import InvalidUpdateError as LangGraphInvalidUpdateError

    def run(graph_class: Any, start: str, channel: Any, error: type[Exception]) -> str:
        g = graph_class(TypedDict("S", {"flash": Annotated[str, channel]}, total=False))
        g.add_node("x", lambda s: {"flash": "x"})
        g.add_node("y", lambda s: {"flash": "y"})
        g.add_edge(start, "x")
        g.add_edge(start, "y")
        with pytest.raises(error) as caught:
            g.compile().invoke({})
        return str(caught.value)

    ours = run(StateGraph, START, rw.EphemeralValue, InvalidUpdateError)
    assert "EphemeralValue(guard=True) can receive only one value per step" in ours
    assert ours == run(
        LangGraphStateGraph, LG_START, lg.EphemeralValue, LangGraphInvalidUpdateError
    )
