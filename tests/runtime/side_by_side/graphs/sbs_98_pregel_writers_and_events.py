"""``Pregel`` nodes' writers, and what ``astream_events`` shows of a step.

A node with no function (only writers, ``NodeBuilder().subscribe_only("a").write_to("b")``,
or a ``PregelNode`` of writers alone) is no run of its own: ``astream_events`` shows none of
it, its writes still streamed. With ``tasks`` (or ``debug``) streamed, a step's task chunks
all come before its nodes start (parallel tasks too), a state graph's likewise.

A step of one task whose writes are refused (two values for a ``LastValue``, a name a
``NamedBarrierValue`` does not wait for; a state graph's node returning two updates of a key)
fails, and LangGraph's runner, which ran the task alone, streams none of its chunks
(``updates``, its ``tasks`` and ``debug`` results) unless the stream takes chunks as they come
(``custom``, ``messages``, ``subgraphs=True``; a program that streams eagerly or times its
steps likewise). A step of two tasks streams the tasks' chunks before it fails.
"""

import asyncio
from typing import TypedDict

from langchain_core.runnables import RunnableLambda
from langgraph.channels import LastValue, NamedBarrierValue
from langgraph.graph import START, StateGraph
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.pregel._read import PregelNode
from langgraph.pregel._write import ChannelWrite, ChannelWriteEntry, ChannelWriteTupleEntry
from langgraph.types import Command


async def _upper(text: str) -> str:
    return text.upper()


async def _lower(text: str) -> str:
    await asyncio.sleep(0.05)  # (ends after the other node of its step, every time)
    return text.lower()


def build(checkpointer):  # "copy" runs no function; "both" is writers alone, made directly
    copy = NodeBuilder().subscribe_only("a").write_to("b")
    both = PregelNode(
        channels="b",
        triggers=["b"],
        writers=[ChannelWrite([ChannelWriteEntry("c")]), ChannelWrite([ChannelWriteEntry("d")])],
    )
    shout = NodeBuilder().subscribe_only("c").do(_upper).write_to("e")
    return Pregel(
        nodes={"copy": copy, "both": both, "shout": shout},
        channels={k: LastValue(str) for k in "abcde"},
        input_channels="a",
        output_channels=["b", "c", "d", "e"],
        checkpointer=checkpointer,
    )


def build_parallel(checkpointer):  # two nodes in one step, then one
    one = NodeBuilder().subscribe_only("a").do(_upper).write_to("b")
    two = NodeBuilder().subscribe_only("a").do(_lower).write_to("c")
    three = NodeBuilder().subscribe_only("b").do(_lower).write_to("d")
    copy = NodeBuilder().subscribe_only("b").write_to("e")
    return Pregel(
        nodes={"one": one, "two": two, "three": three, "copy": copy},
        channels={k: LastValue(str) for k in "abcde"},
        input_channels="a",
        output_channels=["b", "c", "d", "e"],
        checkpointer=checkpointer,
    )


class State(TypedDict, total=False):
    a: str
    b: str
    c: str


async def _first(state: State) -> dict:
    return {"b": state["a"] + "1"}


async def _second(state: State) -> dict:
    await asyncio.sleep(0.05)
    return {"c": state["a"] + "2"}


def build_state_graph(checkpointer):  # a state graph's parallel step
    graph = StateGraph(State)
    graph.add_node("first", _first)
    graph.add_node("second", _second)
    graph.add_edge(START, "first")
    graph.add_edge(START, "second")
    return graph.compile(checkpointer=checkpointer)


def _refused(checkpointer, **options):  # "twice" writes b twice; "join" a name j lacks
    twice = NodeBuilder().subscribe_only("a").do(str.upper).write_to("b", "b")
    join = NodeBuilder().subscribe_only("c").do(str.lower).write_to("j")
    done = NodeBuilder().subscribe_only("j").do(lambda _: "done").write_to("d")
    other = NodeBuilder().subscribe_only("e").do(str.upper).write_to("d")
    return Pregel(
        nodes={"twice": twice, "join": join, "done": done, "other": other},
        channels={
            **{k: LastValue(str) for k in "abcde"},
            "j": NamedBarrierValue(str, {"p", "q"}),
        },
        input_channels=["a", "c", "e"],
        output_channels=["b", "d"],
        checkpointer=checkpointer,
        **options,
    )


def build_refused(checkpointer):
    return _refused(checkpointer)


def build_refused_eager(checkpointer):
    return _refused(checkpointer, stream_eager=True)


def build_refused_timed(checkpointer):
    return _refused(checkpointer, step_timeout=5)


def _two_updates(state: State) -> list:
    return [Command(update={"b": "1"}), Command(update={"b": "2"})]


def build_state_graph_refused(checkpointer):
    graph = StateGraph(State)
    graph.add_node("two_updates", _two_updates)
    graph.add_edge(START, "two_updates")
    return graph.compile(checkpointer=checkpointer)


def _double(text: str) -> str:
    return text + text


def _exclaimed(text: str) -> str:
    return text + "!"


def _boom(text: str) -> str:
    raise ValueError(f"writer failed on {text}")


def _writes(*channels: str) -> ChannelWrite:
    return ChannelWrite([ChannelWriteEntry(c) for c in channels])


def build_runnable_writers(checkpointer):  # one node a step: shout, copy, last, tail
    nodes = {
        # its function, a write of b, a runnable writer, a write of c (of the writer's return)
        "shout": PregelNode(
            channels="a",
            triggers=["a"],
            bound=RunnableLambda(str.upper),
            writers=[_writes("b"), RunnableLambda(_double), _writes("c")],
        ),
        # no function: a function writer (a run of its own) first, then a write
        "copy": PregelNode(channels="c", triggers=["c"], writers=[_double, _writes("d")]),
        # a NodeBuilder's node, a runnable writer last (the node's output, as it streams)
        "last": NodeBuilder().subscribe_only("d").do(str.lower).write_to("e").build(),
        # two writers after its function, a tuple entry of the first one's return between
        "tail": PregelNode(
            channels="e",
            triggers=["e"],
            bound=RunnableLambda(str.title),
            writers=[
                RunnableLambda(_double),
                ChannelWrite([ChannelWriteTupleEntry(lambda v: [("f", v[:5])])]),
                _double,
            ],
        ),
    }
    nodes["last"].writers.append(RunnableLambda(_exclaimed))
    return Pregel(
        nodes=nodes,
        channels={k: LastValue(str) for k in "abcdef"},
        input_channels="a",
        output_channels=["b", "c", "d", "e", "f"],
        checkpointer=checkpointer,
    )


def build_failing_writer(checkpointer):  # the writer fails before any write is made
    node = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[RunnableLambda(_boom), _writes("b")],
    )
    return Pregel(
        nodes={"n": node},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels=["b"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "tasks", "debug", "checkpoints"]
_FAILING = [
    {"input": {"a": "x"}, "api": "astream", "kwargs": {"stream_mode": "updates"}},
    {"input": {"c": "x"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
    {"input": {"a": "x"}, "api": "astream", "kwargs": {"stream_mode": ["updates", "custom"]}},
    {"input": {"c": "x"}, "api": "stream", "kwargs": {"stream_mode": ["tasks", "messages"]}},
    {"input": {"a": "x"}, "api": "stream", "kwargs": {"stream_mode": "tasks", "subgraphs": True}},
    {"input": {"a": "x", "e": "y"}, "api": "astream", "kwargs": {"stream_mode": _MODES}},
]

SCENARIOS = [
    {
        "name": "writers_alone",
        "calls": [
            {"input": "x", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": "y"},
            {"input": "z", "api": "astream", "kwargs": {"stream_mode": "updates"}},
        ],
    },
    {
        "name": "parallel_tasks",
        "build": "build_parallel",
        "calls": [
            {"input": "Ab", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": "Cd", "api": "astream", "kwargs": {"stream_mode": ["tasks"]}},
            {"input": "Ef", "api": "astream", "kwargs": {"stream_mode": ["updates", "debug"]}},
        ],
    },
    {
        "name": "state_graph_parallel_tasks",
        "build": "build_state_graph",
        "calls": [
            {"input": {"a": "x"}, "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "y"}, "api": "astream", "kwargs": {"stream_mode": "tasks"}},
        ],
    },
    {"name": "refused_writes", "build": "build_refused", "calls": _FAILING},
    {"name": "refused_writes_eager", "build": "build_refused_eager", "calls": _FAILING[:2]},
    {"name": "refused_writes_timed", "build": "build_refused_timed", "calls": _FAILING[:2]},
    {
        "name": "state_graph_refused_writes",
        "build": "build_state_graph_refused",
        "calls": [
            {"input": {"a": "x"}, "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "y"}, "api": "stream", "kwargs": {"stream_mode": "updates"}},
            {
                "input": {"a": "z"},
                "api": "stream",
                "kwargs": {"stream_mode": ["custom", "updates"]},
            },
        ],
    },
    {
        "name": "runnable_writers",
        "build": "build_runnable_writers",
        "calls": [
            {"input": "Ab", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": "Cd", "api": "stream", "kwargs": {"stream_mode": ["updates", "custom"]}},
            {"input": "Ef"},
            {"input": "Gh", "api": "update_state", "kwargs": {"as_node": "shout"}},
            {"input": None, "api": "astream", "kwargs": {"stream_mode": "updates"}},
            {"input": "Ij", "api": "update_state", "kwargs": {"as_node": "copy"}},
            {"input": None, "api": "astream", "kwargs": {"stream_mode": ["updates", "tasks"]}},
        ],
    },
    {
        "name": "failing_writer",
        "build": "build_failing_writer",
        "calls": [
            {"input": "x", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": None},
        ],
    },
]
