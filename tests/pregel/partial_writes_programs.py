"""``Pregel`` programs written for LangGraph (run on both engines by
``test_partial_writes_and_updates.py``, as the side-by-side harness runs its graph modules).

A node's writer that fails after a ``ChannelWrite`` of the same node wrote: LangGraph keeps
the writes made before the failure. They stream (``updates``, and the task's result beside
its error), ``get_state`` shows them applied and the node no longer next, and a resume
(``invoke(None)``) does not run the node again: its writes count as its step's, streamed as
cached. A retried attempt's writes are dropped (the last attempt's are kept). A node's last
``ChannelWrite`` writers write together (LangGraph joins them): a failure among them keeps
none. A failure the program's ``node_error_handler_map`` names keeps them too, and the run goes
on. A state update made after such a failure leaves the node next: a resume runs it again.

State updates made one after the other on a program: the next tasks one update left pending
stay pending after the next (their channels still hold the values that started them), besides
those the next update starts, and a resume runs them all, announced in node order (LangGraph
looks at every node then). Their steps run several sync nodes at once, whose runs LangGraph's
threads end in any order: their ``astream_events`` are not compared (``"events": False``).
"""

import asyncio

from langchain_core.runnables import RunnableLambda
from langgraph.channels import EphemeralValue, LastValue
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.pregel._read import PregelNode
from langgraph.pregel._write import ChannelWrite, ChannelWriteEntry
from langgraph.types import RetryPolicy, StateUpdate

_ATTEMPTS: dict[str, int] = {}


def reset():
    _ATTEMPTS.clear()


def _boom(text):
    raise ValueError(f"writer failed on {text}")


def _fails_once(text):
    _ATTEMPTS[text] = _ATTEMPTS.get(text, 0) + 1
    if _ATTEMPTS[text] == 1:
        raise ValueError(f"first attempt failed on {text}")
    return text + "!"


_RETRY = RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False, retry_on=ValueError)


def _writes(*channels):
    return ChannelWrite([ChannelWriteEntry(c) for c in channels])


def _program(checkpointer, nodes, channels="abcde", **options):
    return Pregel(
        nodes=nodes,
        channels={k: LastValue(str) for k in channels},
        input_channels="a",
        output_channels=[k for k in channels if k != "a"],
        checkpointer=checkpointer,
        **options,
    )


def _after():  # what the failed node's write starts
    return NodeBuilder().subscribe_only("b").do(str.lower).write_to("d")


def build(checkpointer):  # its function, a write of b, a runnable writer that fails, a write
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[_writes("b"), RunnableLambda(_boom), _writes("c")],
    )
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_node_builder(checkpointer):  # a NodeBuilder's node, a failing writer appended
    failing = NodeBuilder().subscribe_only("a").do(str.upper).write_to("b").build()
    failing.writers.append(_boom)
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_mapper(checkpointer):  # ChannelWrites alone: the second one's mapper fails
    failing = NodeBuilder().subscribe_only("a").do(str.upper).write_to("b").build()
    failing.writers.append(ChannelWrite([ChannelWriteEntry("c", mapper=_boom)]))
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_writers_alone(checkpointer):  # no function: a write of b, then a failing mapper
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        writers=[_writes("b"), ChannelWrite([ChannelWriteEntry("c", mapper=_boom)])],
    )
    return _program(checkpointer, {"n": failing, "after": _after()})


def _double(text):
    return text + text


def build_joined_writes(checkpointer):  # the last writes are made together: none is kept
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[_double, _writes("b"), ChannelWrite([ChannelWriteEntry("c", mapper=_boom)])],
    )
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_writes_before_a_writer(checkpointer):  # two writes, then a writer that fails
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[
            _writes("b"),
            ChannelWrite([ChannelWriteEntry("c", mapper=_double)]),
            ChannelWrite([ChannelWriteEntry("e", mapper=_boom)]),
            _double,
        ],
    )
    return _program(checkpointer, {"n": failing, "after": _after()})


async def _slow_upper(text):
    await asyncio.sleep(0.05)  # (fails after the other node of its step finished)
    return text.upper()


def build_parallel(checkpointer):  # a step of two tasks: one fails after a write
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(_slow_upper),
        writers=[_writes("b"), RunnableLambda(_boom)],
    )
    other = NodeBuilder().subscribe_only("a").do(str.lower).write_to("c")
    return _program(checkpointer, {"n": failing, "other": other, "after": _after()})


def build_handled(checkpointer):  # its failure handled: the run goes on, its writes kept
    app = build(checkpointer)
    return _program(checkpointer, dict(app.nodes), node_error_handler_map={"n": "after"})


def _retried_writer_of_b():
    """A node that writes ``a`` upper-cased to ``b``, retried (its failing writers added)."""
    return (
        NodeBuilder()
        .subscribe_only("a")
        .do(str.upper)
        .write_to("b")
        .add_retry_policies(_RETRY)
        .build()
    )


def build_retried(checkpointer):  # retried: the failing attempt's writes are dropped
    failing = _retried_writer_of_b()
    failing.writers += [_fails_once, _writes("c")]
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_retries_spent(checkpointer):  # every attempt fails: the last one's writes kept
    failing = _retried_writer_of_b()
    failing.writers.append(_boom)
    return _program(checkpointer, {"n": failing, "after": _after()})


def build_stream_channels(checkpointer):  # the task's result shows its stream channels
    failing = PregelNode(
        channels="a",
        triggers=["a"],
        bound=RunnableLambda(str.upper),
        writers=[_writes("b", "e"), RunnableLambda(_boom)],
    )
    nodes = {"n": failing, "after": _after()}
    return _program(checkpointer, nodes, stream_channels=["d", "b"])


def build_chain(checkpointer):  # one -> two -> three, each started by the one before
    nodes = {
        "one": NodeBuilder().subscribe_only("a").do(str.upper).write_to("b"),
        "two": NodeBuilder().subscribe_only("b").do(str.lower).write_to("c"),
        "three": NodeBuilder().subscribe_only("c").do(str.title).write_to("d"),
        "both": NodeBuilder().subscribe_to("b", "d").do(_joined).write_to("e"),
    }
    return _program(checkpointer, nodes)


def _joined(values):
    return "+".join(f"{k}={v}" for k, v in sorted(values.items()))


def build_ephemeral(checkpointer):  # b holds its value for one step only
    nodes = {
        "one": NodeBuilder().subscribe_only("a").do(str.upper).write_to("b"),
        "two": NodeBuilder().subscribe_only("b").do(str.lower).write_to("c"),
        "three": NodeBuilder().subscribe_only("c").do(str.title).write_to("d"),
    }
    return Pregel(
        nodes=nodes,
        channels={
            "a": LastValue(str),
            "b": EphemeralValue(str),
            "c": LastValue(str),
            "d": LastValue(str),
        },
        input_channels="a",
        output_channels=["b", "c", "d"],
        checkpointer=checkpointer,
    )


def build_breakpoint(checkpointer):  # the run stops before two
    app = build_chain(None)
    return Pregel(
        nodes=dict(app.nodes),
        channels={k: LastValue(str) for k in "abcde"},
        input_channels="a",
        output_channels=["b", "c", "d", "e"],
        interrupt_before_nodes=["two"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "tasks", "debug", "checkpoints"]


def _failing(build_name, name, first="astream", *, sync=True):
    return {
        "name": name,
        "build": build_name,
        "calls": [
            {"input": "x", "api": first, "kwargs": {"stream_mode": _MODES}},
            {"input": None, "api": "astream", "kwargs": {"stream_mode": _MODES}},
            {
                "input": "y",
                "api": "stream" if sync else "astream",
                "kwargs": {"stream_mode": ["updates", "tasks"]},
            },
            {"input": None, "api": "invoke" if sync else "ainvoke"},
        ],
    }


def _update(values, as_node):
    return {"input": values, "api": "update_state", "kwargs": {"as_node": as_node}}


_RESUME = {"input": None, "api": "astream", "kwargs": {"stream_mode": _MODES}}

SCENARIOS = [
    _failing("build", "writer_fails_after_a_write"),
    _failing("build_node_builder", "node_builder_writer_fails", first="stream"),
    _failing("build_mapper", "write_mapper_fails"),
    _failing("build_writers_alone", "writers_alone_fail", first="stream"),
    _failing("build_joined_writes", "joined_writes_fail_together"),
    _failing("build_writes_before_a_writer", "mapper_fails_before_a_writer"),
    _failing("build_parallel", "fails_beside_a_finished_task", sync=False),
    _failing("build_handled", "failure_handled"),
    _failing("build_retried", "retried_writer"),
    _failing("build_retries_spent", "retries_spent"),
    _failing("build_stream_channels", "shown_stream_channels"),
    {
        "name": "update_after_a_failure",
        "calls": [
            {"input": "x", "api": "astream", "kwargs": {"stream_mode": _MODES}},
            _update("z", "after"),
            _RESUME,
        ],
    },
    {
        "name": "two_updates",
        "build": "build_chain",
        "events": False,
        "calls": [_update("p", "one"), _update("q", "two"), _RESUME],
    },
    {
        "name": "updates_as_the_same_node",
        "build": "build_chain",
        "events": False,
        "calls": [_update("p", "one"), _update("q", "one"), _update("r", "two"), _RESUME],
    },
    {
        "name": "update_as_the_pending_node",
        "build": "build_chain",
        "events": False,
        "calls": [_update("p", "one"), _update("q", "two"), _update("r", "two"), _RESUME],
    },
    {
        "name": "updates_after_a_run",
        "build": "build_chain",
        "events": False,
        "calls": [{"input": "x"}, _update("p", "one"), _update("q", "three"), _RESUME],
    },
    {
        "name": "ephemeral_trigger_dropped",
        "build": "build_ephemeral",
        "calls": [_update("p", "one"), _update("q", "two"), _RESUME],
    },
    {
        "name": "update_at_a_breakpoint",
        "build": "build_breakpoint",
        "events": False,
        "calls": [
            {"input": "x", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            _update("q", "three"),
            _RESUME,
            _update("r", "one"),
            _update("s", "two"),
            _RESUME,
        ],
    },
    {
        "name": "bulk_updates",
        "build": "build_chain",
        "events": False,
        "calls": [
            {
                "input": [[StateUpdate("p", "one")], [StateUpdate("q", "two")]],
                "api": "bulk_update_state",
            },
            _RESUME,
        ],
    },
]
