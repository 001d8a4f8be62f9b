"""``rewind.pregel``: LangGraph's low-level API on rewind's runtime. Programs are refused as
LangGraph refuses them, run as LangGraph runs them (``tests/runtime/side_by_side``:
``sbs_70_pregel_api`` compares every stream mode and the state), are recorded so that a replay
equals the live stream and a fresh process reads the state, and what rewind does not run is
refused by name."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rewind.channels as rw_channels
import rewind.pregel as rw_pregel
from rewind import open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.log.codec import encode
from rewind.pregel._write import ChannelWriteEntry

ENGINES = ("langgraph", "rewind")


def _modules(engine: str) -> tuple[Any, Any]:
    return (
        importlib.import_module(f"{engine}.channels"),
        importlib.import_module(f"{engine}.pregel"),
    )


def _node(p: Any, reads: str = "a", writes: str = "b") -> Any:
    return p.NodeBuilder().subscribe_only(reads).do(lambda x: x).write_to(writes)


def _same(value: Any) -> Any:
    return value


def _steps(channels: Any) -> Any:
    """The engine's ``RemainingStepsManager`` (a managed value among a program's channels)."""
    engine = channels.__name__.split(".")[0]
    return importlib.import_module(f"{engine}.managed.is_last_step").RemainingStepsManager


# Each: a program LangGraph refuses to build (channels module, pregel module) -> Pregel
BAD_PROGRAMS: dict[str, Callable[[Any, Any], Any]] = {
    "reserved_channel": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "__input__": c.LastValue(str)},
        input_channels="a",
        output_channels="b",
    ),
    "reserved_node": lambda c, p: p.Pregel(
        nodes={"__interrupt__": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="a",
        output_channels="b",
    ),
    "reads_unknown_channel": lambda c, p: p.Pregel(
        nodes={"n": _node(p, reads="zz")},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="a",
        output_channels="b",
    ),
    "input_unknown": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="zz",
        output_channels="b",
    ),
    "inputs_unknown": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels=["a", "zz"],
        output_channels="b",
    ),
    "input_not_subscribed": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="b",
        output_channels="b",
    ),
    "inputs_not_subscribed": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels=["b"],
        output_channels="b",
    ),
    "output_unknown": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="a",
        output_channels=["b", "zz"],
    ),
    "interrupt_at_unknown_node": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="a",
        output_channels="b",
        interrupt_before_nodes=["zz"],
    ),
    "managed_read_alone": lambda c, p: p.Pregel(
        nodes={"n": _node(p), "m": _node(p, reads="left")},
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "left": _steps(c)},
        input_channels="a",
        output_channels="b",
    ),
    "managed_subscribed": lambda c, p: p.Pregel(
        nodes={"n": p.NodeBuilder().subscribe_to("a", "left").do(_same).write_to("b")},
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "left": _steps(c)},
        input_channels="a",
        output_channels="b",
    ),
    "managed_reserved": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "__input__": _steps(c)},
        input_channels="a",
        output_channels="b",
    ),
    "managed_output": lambda c, p: p.Pregel(
        nodes={"n": _node(p)},
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "left": _steps(c)},
        input_channels="a",
        output_channels=["b", "left"],
    ),
    "subscribe_only_twice": lambda c, p: p.NodeBuilder().subscribe_only("a").subscribe_only("b"),
    "subscribe_to_after_only": lambda c, p: p.NodeBuilder().subscribe_only("a").subscribe_to("b"),
    "read_from_after_only": lambda c, p: p.NodeBuilder().subscribe_only("a").read_from("b"),
}


def _refusal(engine: str, build: Callable[[Any, Any], Any]) -> str:
    channels, pregel = _modules(engine)
    with pytest.raises((ValueError, TypeError, AssertionError)) as caught:
        build(channels, pregel)
    return f"{type(caught.value).__name__}: {caught.value}"


@pytest.mark.parametrize("case", sorted(BAD_PROGRAMS))
def test_a_program_is_refused_as_langgraph_refuses_it(case: str) -> None:
    assert _refusal("rewind", BAD_PROGRAMS[case]) == _refusal("langgraph", BAD_PROGRAMS[case])


def test_a_node_that_is_no_node_is_refused_by_type() -> None:
    """(LangGraph fails on it with an AttributeError of its own code.)"""
    with pytest.raises(TypeError, match="expected PregelNode or NodeBuilder"):
        rw_pregel.Pregel(
            nodes={"n": lambda x: x},
            channels={"a": rw_channels.LastValue(str)},
            input_channels="a",
            output_channels="a",
        )


def _two_step(c: Any, p: Any, checkpointer: Any = None) -> Any:
    double = p.NodeBuilder().subscribe_only("a").do(lambda x: x * 2).do(lambda x: x + 1)
    sums = p.NodeBuilder().subscribe_to("b").read_from("a").do(lambda d: sorted(d.items()))
    return p.Pregel(
        nodes={
            "double": double.write_to("b", seen=lambda v: f"b={v}"),
            "sums": sums.write_to("log"),
        },
        channels={
            "a": c.LastValue(int),
            "b": c.LastValue(int),
            "seen": c.EphemeralValue(str),
            "log": c.Topic(list, accumulate=True),
        },
        input_channels=["a"],
        output_channels=["b", "log", "seen"],
        checkpointer=checkpointer,
    )


def _run(engine: str) -> list[Any]:
    channels, pregel = _modules(engine)
    app = _two_step(channels, pregel)
    out = [app.invoke({"a": 3})]
    out += list(app.stream({"a": 4}, stream_mode=["updates", "values"]))
    with pytest.raises(TypeError) as caught:
        app.invoke(4)
    return [*out, str(caught.value)]


def test_chained_functions_read_from_and_mapped_writes_run_as_in_langgraph() -> None:
    assert _run("rewind") == _run("langgraph")


def _ordered(engine: str) -> list[Any]:
    channels, pregel = _modules(engine)
    memory = importlib.import_module(f"{engine}.checkpoint.memory")
    node = pregel.NodeBuilder().subscribe_only("a").do(lambda x: x + "1").write_to("b", "c")
    app = pregel.Pregel(
        nodes={"n": node},
        channels={
            "a": channels.LastValue(str),
            "b": channels.LastValue(str),
            "c": channels.LastValue(str),
        },
        input_channels="a",
        output_channels=["c", "a"],
        stream_channels=["c", "a"],
        checkpointer=memory.InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t"}}
    chunks = app.stream("x", config, stream_mode=["values", "checkpoints"])
    shown = [list((c["values"] if m == "checkpoints" else c).items()) for m, c in chunks]
    return [*shown, list(app.invoke("y", config).items()), list(app.get_state(config).values)]


def test_several_stream_channels_show_in_their_order_as_in_langgraph() -> None:
    assert _ordered("rewind") == _ordered("langgraph")


ALL = ["values", "updates", "tasks", "checkpoints", "debug", "events"]


async def _run_ids(path: Path) -> list[str]:
    store = await open_log(path)
    try:
        return [r.run_id for r in await store.list_runs(thread_id="t", oldest_first=True)]
    finally:
        await store.aclose()


def _replayed(path: Path, run_id: str) -> list[Any]:
    async def go() -> list[Any]:
        from rewind import areplay

        store = await open_log(path)
        try:
            return [c async for c in areplay(store, run_id, stream_mode=ALL)]
        finally:
            await store.aclose()

    return asyncio.run(go())


def build_cycle(saver: Any) -> Any:
    """A cycle that doubles its value until it is long (also built by a fresh process)."""
    node = (
        rw_pregel.NodeBuilder()
        .subscribe_only("value")
        .do(lambda x: x + x if len(x) < 10 else None)
        .write_to(ChannelWriteEntry("value", skip_none=True))
    )
    return rw_pregel.Pregel(
        nodes={"node": node},
        channels={"value": rw_channels.EphemeralValue(str)},
        input_channels=["value"],
        output_channels=["value"],
        checkpointer=saver,
    )


def test_a_replay_of_a_program_equals_its_live_stream_and_a_fresh_process_reads_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        app = build_cycle(saver)
        live = list(app.stream({"value": "ab"}, config, stream_mode=ALL))
        assert app.invoke({"value": "x"}, config) == {"value": "xxxxxxxxxxxxxxxx"}
        history = [s.values for s in app.get_state_history(config)]
    (first, _) = asyncio.run(_run_ids(path))
    assert [encode(c) for c in _replayed(path, first)] == [encode(c) for c in live]
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
        "from rewind.checkpoint.sqlite import SqliteSaver\n"
        "from tests.pregel.test_pregel import build_cycle\n"
        f"with SqliteSaver.from_conn_string({str(path)!r}) as saver:\n"
        "    app = build_cycle(saver)\n"
        "    config = {'configurable': {'thread_id': 't'}}\n"
        "    print(repr([s.values for s in app.get_state_history(config)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert eval(done.stdout) == history
    assert history[0] == {} and history[1] == {"value": "xxxxxxxxxxxxxxxx"}


def build_joins(saver: Any) -> Any:
    """Two nodes that write their names to a barrier and an after-finish value, a join that
    runs once both did and one that runs once no other would."""
    c, p = rw_channels, rw_pregel
    a = p.NodeBuilder().subscribe_only("x").do(str.upper).write_to("y", bar="a", late="a")
    b = p.NodeBuilder().subscribe_only("y").do(lambda y: y + "!").write_to("z", bar="b")
    join = p.NodeBuilder().subscribe_to("bar").read_from("z").do(lambda v: f"joined {v}")
    fin = p.NodeBuilder().subscribe_to("late", "done").do(lambda v: f"finished {v}")
    return p.Pregel(
        nodes={"a": a, "b": b, "join": join.write_to("done"), "fin": fin.write_to("out")},
        channels={
            "x": c.LastValue(str),
            "y": c.LastValue(str),
            "z": c.LastValue(str),
            "bar": c.NamedBarrierValue(str, {"a", "b"}),
            "late": c.LastValueAfterFinish(str),
            "done": c.LastValue(str),
            "out": c.LastValue(str),
        },
        input_channels="x",
        output_channels=["done", "out", "late"],
        checkpointer=saver,
    )


def build_counting(saver: Any) -> Any:
    """A cycle that reads the managed values (the steps left, whether it is the last)."""
    from rewind.managed.is_last_step import IsLastStepManager, RemainingStepsManager

    grow = rw_pregel.NodeBuilder().subscribe_to("value").read_from("left", "last")
    grow = grow.do(lambda d: None if d["last"] else f"{d['value']}+{d['left']}")
    return rw_pregel.Pregel(
        nodes={"grow": grow.write_to(ChannelWriteEntry("value", skip_none=True))},
        channels={
            "value": rw_channels.LastValue(str),
            "left": RemainingStepsManager,
            "last": IsLastStepManager,
        },
        input_channels="value",
        output_channels="value",
        checkpointer=saver,
    )


def build_sends(saver: Any) -> Any:
    """A node whose input is mapped, that sends each part of it to a worker."""
    from rewind.pregel._read import PregelNode
    from rewind.pregel._write import ChannelWrite, ChannelWriteTupleEntry
    from rewind.types import Send

    def fan_out(text: str) -> list[tuple[str, Any]]:
        return [("__pregel_tasks", Send("worker", part)) for part in text.split(",")]

    split = PregelNode(
        channels=["text"],
        triggers=["text"],
        mapper=lambda d: d["text"].upper(),
        bound=lambda text: text,
        writers=[ChannelWrite([ChannelWriteTupleEntry(fan_out)])],
    )
    worker = rw_pregel.NodeBuilder().do(lambda part: [part + "!"]).write_to("done")
    return rw_pregel.Pregel(
        nodes={"split": split, "worker": worker},
        channels={
            "text": rw_channels.LastValue(str),
            "done": rw_channels.BinaryOperatorAggregate(list, lambda a, b: a + b),
        },
        input_channels="text",
        output_channels="done",
        checkpointer=saver,
    )


@pytest.mark.parametrize(
    ("build", "state"),
    [
        (
            build_joins,
            {
                "x": "q",
                "y": "Q",
                "z": "Q!",
                "done": "joined {'bar': None, 'z': 'Q!'}",
                # (the barrier and the after-finish value: consumed by the nodes they start)
                "out": "finished {'late': 'a', 'done': \"joined {'bar': None, 'z': 'Q!'}\"}",
            },
        ),
        (build_counting, {"value": "q+5+4+3+2"}),
        (build_sends, {"text": "q", "done": ["P!", "Q!"]}),
    ],
    ids=["barriers", "managed_values", "mapper_and_sends"],
)
def test_a_replay_of_a_program_equals_its_live_stream_with_every_kind_of_channel(
    tmp_path: Path, build: Callable[[Any], Any], state: Any
) -> None:
    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 5}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        app = build(saver)
        live = [list(app.stream(x, config, stream_mode=ALL)) for x in ("p", "q")]
        assert app.get_state(config).values == state
    runs = asyncio.run(_run_ids(path))
    for run_id, chunks in zip(runs, live, strict=True):
        assert [encode(c) for c in _replayed(path, run_id)] == [encode(c) for c in chunks]


def _broken(value: str) -> str:
    raise ValueError(f"cannot take {value}")


def test_a_node_named_in_the_error_handler_map_fails_without_failing_the_run() -> None:
    """As LangGraph's: ``NodeBuilder`` gives a node no handler, so a failure of a node the map
    names is handled with nothing to handle it; the node named as handler runs as it would."""
    c, p = rw_channels, rw_pregel
    app = p.Pregel(
        nodes={
            "n": p.NodeBuilder().subscribe_only("a").do(_broken).write_to("b"),
            "handler": _node(p, writes="c"),
        },
        channels={"a": c.LastValue(str), "b": c.LastValue(str), "c": c.LastValue(str)},
        input_channels="a",
        output_channels=["b", "c"],
        node_error_handler_map={"n": "handler"},
    )
    assert app.invoke("x") == {"c": "x"}
    unmapped = p.Pregel(
        nodes={"n": p.NodeBuilder().subscribe_only("a").do(_broken).write_to("b")},
        channels={"a": c.LastValue(str), "b": c.LastValue(str)},
        input_channels="a",
        output_channels="b",
    )
    with pytest.raises(ValueError, match="cannot take x"):
        unmapped.invoke("x")


def test_a_replay_of_a_step_that_timed_out_equals_its_live_stream(tmp_path: Path) -> None:
    async def slow(value: str) -> str:
        await asyncio.sleep(0 if value == "quick" else 5)
        return value + "!"

    async def run() -> list[Any]:
        node = rw_pregel.NodeBuilder().subscribe_only("a").do(slow).write_to("b")
        fast = rw_pregel.NodeBuilder().subscribe_only("a").do(str.upper).write_to("c")
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            app = rw_pregel.Pregel(
                nodes={"slow": node, "fast": fast},
                channels={
                    "a": rw_channels.LastValue(str),
                    "b": rw_channels.LastValue(str),
                    "c": rw_channels.LastValue(str),
                },
                input_channels="a",
                output_channels=["b", "c"],
                checkpointer=saver,
                step_timeout=0.2,
            )
            assert await app.ainvoke("quick", config) == {"b": "quick!", "c": "QUICK"}
            live: list[Any] = []

            async def stream() -> None:
                async for chunk in app.astream("x", config, stream_mode=ALL):
                    live.append(chunk)

            with pytest.raises(TimeoutError):
                await stream()
            state = await app.aget_state(config)
            assert state.values == {"a": "x", "b": "quick!", "c": "X"}
            assert [(t.name, t.error) for t in state.tasks] == [
                ("slow", "CancelledError()"),
                ("fast", None),
            ]
            return live

    path = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    live = asyncio.run(run())
    (_, second) = asyncio.run(_run_ids(path))
    assert [encode(c) for c in _replayed(path, second)] == [encode(c) for c in live]


def test_a_node_s_timeout_bounds_its_attempts_and_is_refused_on_a_sync_node() -> None:
    from rewind import pregel as p
    from rewind.channels import LastValue
    from rewind.errors import NodeTimeoutError

    async def hangs(value: str) -> str:
        await asyncio.sleep(5)
        return value

    def program(bound: Any) -> Any:
        node = p.NodeBuilder().subscribe_only("a").do(bound).write_to("b").set_timeout(0.2)
        return p.Pregel(
            nodes={"n": node},
            channels={"a": LastValue(str), "b": LastValue(str)},
            input_channels="a",
            output_channels="b",
        )

    with pytest.raises(NodeTimeoutError, match=r"Node 'n' exceeded its run timeout of 0\.200s"):
        asyncio.run(program(hangs).ainvoke("x"))
    with pytest.raises(ValueError, match="Node 'n' is sync"):
        program(lambda value: value)


def test_a_program_is_a_pregel_protocol_and_its_types_module_warns_as_langgraph_s() -> None:
    from rewind.pregel.protocol import PregelProtocol, StreamProtocol
    from rewind.warnings import LangGraphDeprecatedSinceV10

    app = _two_step(rw_channels, rw_pregel)
    assert isinstance(app, PregelProtocol)
    assert list(app.nodes) == ["double", "sums"] and app.nodes["sums"].triggers == ["b"]
    assert list(app.channels) == ["a", "b", "seen", "log", "__pregel_tasks"]  # as LangGraph's
    from rewind.func import entrypoint
    from rewind.graph import START, StateGraph
    from rewind.runtime.compiled import CompiledStateGraph

    g = StateGraph(dict)
    g.add_node("n", lambda s: s)
    g.add_edge(START, "n")
    graph, flow = g.compile(), entrypoint()(lambda x: x)
    # as in LangGraph, a compiled graph is a Pregel (and a Pregel program one)
    assert isinstance(graph, rw_pregel.Pregel) and isinstance(flow, rw_pregel.Pregel)
    assert issubclass(CompiledStateGraph, rw_pregel.Pregel) and isinstance(app, PregelProtocol)
    assert isinstance(app, CompiledStateGraph) and not isinstance(object(), rw_pregel.Pregel)
    seen: list[Any] = []
    stream = StreamProtocol(seen.append, {"values"})
    stream(("values", 1))
    assert seen == [("values", 1)] and stream.modes == {"values"}
    sys.modules.pop("rewind.pregel.types", None)
    with pytest.warns(LangGraphDeprecatedSinceV10, match="langgraph.pregel.types is deprecated"):
        types = importlib.import_module("rewind.pregel.types")
    from rewind.types import RetryPolicy

    assert types.RetryPolicy is RetryPolicy
