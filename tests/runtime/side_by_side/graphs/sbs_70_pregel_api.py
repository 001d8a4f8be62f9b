"""LangGraph's low-level API: ``Pregel`` programs built with ``NodeBuilder``, as LangGraph's
"Pregel" docs write them: one node, several nodes, a ``Topic`` and a
``BinaryOperatorAggregate`` written by two nodes, a cycle that stops on a skipped ``None``
write, single-channel input and output, an async node, a node reading channels it does not
subscribe to (and one subscribed to a channel that has a value before any write: LangGraph
lists it as a next task of the input checkpoint, and runs it once the channel is updated), two
runs on one thread, a breakpoint, an ``interrupt()`` answered by a resume,
and state updates made as a node (the values go through its writes).
"""

import asyncio
import operator

from langgraph.channels import BinaryOperatorAggregate, EphemeralValue, LastValue, Topic
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.pregel._write import ChannelWriteEntry
from langgraph.types import Command, RetryPolicy, TimeoutPolicy, interrupt


def build(checkpointer):  # the docs' first example
    node1 = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    return Pregel(
        nodes={"node1": node1},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b"],
        checkpointer=checkpointer,
    )


def build_two_nodes(checkpointer):
    node1 = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    node2 = NodeBuilder().subscribe_only("b").do(lambda x: x + x).write_to("c")
    return Pregel(
        nodes={"node1": node1, "node2": node2},
        channels={"a": EphemeralValue(str), "b": LastValue(str), "c": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b", "c"],
        checkpointer=checkpointer,
    )


def _writers(c):
    node1 = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b", "c")
    node2 = NodeBuilder().subscribe_to("b").do(lambda x: x["b"] + x["b"]).write_to("c")
    return Pregel(
        nodes={"node1": node1, "node2": node2},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str), "c": c},
        input_channels=["a"],
        output_channels=["c"],
    )


def build_topic(checkpointer):
    app = _writers(Topic(str, accumulate=True))
    app.checkpointer = checkpointer
    return app


def _joined(current, update):
    return f"{current} | {update}" if current else update


def build_binop(checkpointer):
    app = _writers(BinaryOperatorAggregate(str, operator=_joined))
    app.checkpointer = checkpointer
    return app


def build_cycle(checkpointer):
    node = (
        NodeBuilder()
        .subscribe_only("value")
        .do(lambda x: x + x if len(x) < 10 else None)
        .write_to(ChannelWriteEntry("value", skip_none=True))
    )
    return Pregel(
        nodes={"example_node": node},
        channels={"value": EphemeralValue(str)},
        input_channels=["value"],
        output_channels=["value"],
        checkpointer=checkpointer,
    )


async def _shout(text):
    await asyncio.sleep(0)
    return text.upper()


def build_single_channels(checkpointer):
    shout = NodeBuilder().subscribe_only("a").do(_shout).write_to("b", tally=lambda s: len(s))
    total = (
        NodeBuilder()
        .subscribe_to("tally")
        .read_from("b")
        .do(lambda x: f"{x['b']}:{x['tally']}")
        .write_to("out")
    )
    return Pregel(
        nodes={"shout": shout, "total": total},
        channels={
            "a": LastValue(str),
            "b": LastValue(str),
            "tally": BinaryOperatorAggregate(int, operator.add),  # 0 before any write
            "out": LastValue(str),
        },
        input_channels="a",
        output_channels="out",
        checkpointer=checkpointer,
    )


def _ask(text):
    return f"{text}:{interrupt(f'ok {text}?')}"


def build_asking(checkpointer):
    node = NodeBuilder().subscribe_only("a").do(_ask).write_to("b")
    return Pregel(
        nodes={"node": node},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels="b",
        checkpointer=checkpointer,
    )


def build_asking_with_a_note(checkpointer):
    node = NodeBuilder().subscribe_to("a").read_from("note").do(_ask_both).write_to("b")
    return Pregel(
        nodes={"node": node},
        channels={"a": LastValue(str), "b": LastValue(str), "note": EphemeralValue(str)},
        input_channels=["a", "note"],
        output_channels=["b"],
        checkpointer=checkpointer,
    )


def _ask_both(values):
    return _ask(f"{values['a']}/{values.get('note')}")


def build_waiting(checkpointer):  # "count" is subscribed to, never written: 0 from the start
    shout = NodeBuilder().subscribe_only("a").do(str.upper).write_to("b")
    counted = NodeBuilder().subscribe_to("count").do(lambda x: f"count={x['count']}").write_to("c")
    return Pregel(
        nodes={"shout": shout, "counted": counted},
        channels={
            "a": LastValue(str),
            "b": LastValue(str),
            "c": LastValue(str),
            "count": BinaryOperatorAggregate(int, operator.add),
        },
        input_channels="a",
        output_channels=["b", "c"],
        checkpointer=checkpointer,
    )


def build_chain(checkpointer):
    app = build_breakpoint(checkpointer)
    app.interrupt_before_nodes = []
    return app


def build_breakpoint(checkpointer):
    node1 = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    node2 = NodeBuilder().subscribe_only("b").do(lambda x: x + "!").write_to("c")
    return Pregel(
        nodes={"node1": node1, "node2": node2},
        channels={"a": LastValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels="a",
        output_channels=["b", "c"],
        interrupt_before_nodes=["node2"],
        checkpointer=checkpointer,
    )


_timed_attempts: list[int] = []


def reset() -> None:
    _timed_attempts.clear()


async def _doubles_once(x: str) -> str:  # its first attempt hangs past the node's timeout
    _timed_attempts.append(1)
    if len(_timed_attempts) == 1:
        await asyncio.sleep(3)
    return x + x


def build_timeout(checkpointer):  # NodeBuilder.set_timeout: the hung attempt is retried
    node = (
        NodeBuilder()
        .subscribe_only("a")
        .do(_doubles_once)
        .write_to("b")
        .set_timeout(TimeoutPolicy(run_timeout=0.3))
        .add_retry_policies(RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False))
    )
    return Pregel(
        nodes={"node": node},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels=["a"],
        output_channels=["b"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "tasks", "debug", "checkpoints"]

SCENARIOS = [
    {
        "name": "one_node",
        "calls": [
            {"input": {"a": "foo"}},
            {"input": {"a": "bar"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "baz"}, "api": "astream"},  # Pregel's default mode: values
        ],
    },
    {
        "name": "two_nodes",
        "build": "build_two_nodes",
        "calls": [
            {"input": {"a": "foo"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "x"}, "api": "ainvoke"},
        ],
    },
    {
        "name": "topic",
        "build": "build_topic",
        "calls": [
            {"input": {"a": "foo"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "bar"}},
        ],
    },
    {
        "name": "binary_operator",
        "build": "build_binop",
        "calls": [{"input": {"a": "foo"}, "api": "stream", "kwargs": {"stream_mode": _MODES}}],
    },
    {
        "name": "cycle",
        "build": "build_cycle",
        "calls": [
            {"input": {"value": "a"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"value": "b"}},
        ],
    },
    {
        "name": "single_channels_async_node",
        "build": "build_single_channels",
        "calls": [
            {"input": "hi", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {"input": "again"},
        ],
    },
    {
        "name": "no_checkpointer",
        "build": "build_two_nodes",
        "checkpointer": False,
        "calls": [{"input": {"a": "foo"}, "api": "stream", "kwargs": {"stream_mode": _MODES}}],
    },
    {
        "name": "cycle_past_the_recursion_limit",
        "build": "build_cycle",
        "config": {"recursion_limit": 2},
        "calls": [{"input": {"value": "a"}}],
    },
    {
        "name": "breakpoint_then_resume",
        "build": "build_breakpoint",
        "calls": [
            {"input": "x", "api": "stream", "kwargs": {"stream_mode": ["values", "updates"]}},
            {"input": None},
        ],
    },
    {
        "name": "update_state_as_a_node",
        "build": "build_chain",
        "calls": [
            {"input": "x"},
            {"input": "zz", "api": "update_state", "kwargs": {"as_node": "node1"}},
            {"input": None, "api": "stream", "kwargs": {"stream_mode": ["values", "updates"]}},
            {"input": {"a": "q"}, "api": "update_state"},  # as the node that ran last
        ],
    },
    {
        "name": "interrupt_and_resume",
        "build": "build_asking",
        "calls": [
            {"input": "x"},
            {
                "input": Command(resume="yes"),
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates", "tasks"]},
            },
            {"input": "y", "api": "ainvoke"},
            {"input": Command(resume="no")},
        ],
    },
    {
        "name": "a_new_input_drops_the_pending_task",
        "build": "build_asking_with_a_note",
        "calls": [
            {"input": {"a": "x", "note": "n"}},
            {"input": {"a": "y"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": Command(resume="ok")},
        ],
    },
    {
        "name": "a_node_waiting_on_a_channel_with_a_value",
        "build": "build_waiting",
        "calls": [
            {"input": "hi", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": None, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": "again"},
        ],
    },
    {
        "name": "timeout",
        "build": "build_timeout",
        "calls": [{"input": {"a": "x"}, "api": "ainvoke"}],
    },
]
