"""``Pregel`` programs with the channels that hold more than they show: a ``NamedBarrierValue``
that starts a join once every name was written (and waits again once the join ran: it is
consumed), a ``LastValueAfterFinish`` and a ``NamedBarrierValueAfterFinish`` readable once no
node would run next (a node subscribed to one runs then, and consumes it), as outputs and
stream channels too; two runs on a thread, an interrupt in between (what they hold survives
the checkpoint), a join interrupted then dropped by a new input (which consumes the barrier),
a name a barrier does not wait for, and ``auto_validate=False`` (LangGraph then knows no
node's triggers: the channels finish after every step).

x -> a -----------------------> bar/late -> join/fin
x -> b0 -> y -> b ------------^
"""

import operator

from langgraph.channels import (
    BinaryOperatorAggregate,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.types import Command, interrupt


def _log():  # (not a Topic: LangGraph checkpoints its list, which the next step extends)
    return BinaryOperatorAggregate(list, operator.add)


def _listed(entry: str) -> list:
    return [entry]


def _ask(y: str) -> str:
    return f"b saw {y}:{interrupt('go on?')}" if y.startswith("ASK") else f"b saw {y}"


def _joined(values: dict) -> str:
    seen = "join saw " + ",".join(f"{k}={v}" for k, v in sorted(values.items()))
    return f"{seen}:{interrupt('join?')}" if values.get("x", "").startswith("J") else seen


def _program(checkpointer, barrier, *, outputs=("out", "log"), stream=None, validate=True):
    a = NodeBuilder().subscribe_only("x").do(lambda x: f"a saw {x}").write_to(log=_listed, bar="a")
    b0 = NodeBuilder().subscribe_only("x").do(str.upper).write_to("y")
    b = NodeBuilder().subscribe_only("y").do(_ask).write_to(log=_listed, bar="b")
    join = (
        NodeBuilder()
        .subscribe_to("bar")
        .read_from("x", "y")
        .do(_joined)
        .write_to("out", log=_listed)
    )
    return Pregel(
        nodes={"a": a, "b0": b0, "b": b, "join": join},
        channels={
            "x": LastValue(str),
            "y": LastValue(str),
            "bar": barrier,
            "log": _log(),
            "out": LastValue(str),
        },
        input_channels="x",
        output_channels=list(outputs),
        stream_channels=stream,
        checkpointer=checkpointer,
        auto_validate=validate,
    )


def build(checkpointer):  # the join runs once a and b wrote their names
    return _program(checkpointer, NamedBarrierValue(str, {"a", "b"}))


def build_barrier_shown(checkpointer):  # the barrier among the outputs and streamed
    return _program(
        checkpointer,
        NamedBarrierValue(str, {"a", "b"}),
        outputs=("out", "bar"),
        stream=["bar", "out", "y"],
    )


def build_barrier_after_finish(checkpointer):
    return _program(
        checkpointer, NamedBarrierValueAfterFinish(str, {"a", "b"}), outputs=("out", "bar")
    )


def build_unknown_name(checkpointer):  # b's name is not among the barrier's
    return _program(checkpointer, NamedBarrierValue(str, {"a", "c"}))


def build_not_validated(checkpointer):
    return _program(
        checkpointer,
        NamedBarrierValueAfterFinish(str, {"a", "b"}),
        outputs=("out", "bar"),
        validate=False,
    )


def _late_program(checkpointer, *, validate=True):
    a = (
        NodeBuilder()
        .subscribe_only("x")
        .do(lambda x: f"a saw {x}")
        .write_to("y", late=lambda s: s + "!")
    )
    b = NodeBuilder().subscribe_only("y").do(_ask).write_to(log=_listed)
    fin = NodeBuilder().subscribe_to("late").read_from("log").do(_joined).write_to("out")
    return Pregel(
        nodes={"a": a, "b": b, "fin": fin},
        channels={
            "x": LastValue(str),
            "y": LastValue(str),
            "late": LastValueAfterFinish(str),
            "log": _log(),
            "out": LastValue(str),
        },
        input_channels=["x"],
        output_channels=["out", "late", "log"],
        checkpointer=checkpointer,
        auto_validate=validate,
    )


def build_late(checkpointer):  # fin runs once a and b are done, with a's late value
    return _late_program(checkpointer)


def build_late_not_validated(checkpointer):
    return _late_program(checkpointer, validate=False)


def build_late_unread(checkpointer):  # no node reads it: it shows once the run finishes
    a = (
        NodeBuilder()
        .subscribe_only("x")
        .do(lambda x: f"a saw {x}")
        .write_to("y", late=lambda s: s + "!")
    )
    b = NodeBuilder().subscribe_only("y").do(str.upper).write_to("z")
    return Pregel(
        nodes={"a": a, "b": b},
        channels={
            "x": LastValue(str),
            "y": LastValue(str),
            "z": LastValue(str),
            "late": LastValueAfterFinish(str),
        },
        input_channels="x",
        output_channels=["z", "late"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "checkpoints"]  # (tasks, debug: in the every-mode pass)
_SYNC = {"durability": "sync"}
"""Every call's: LangGraph's barriers checkpoint the set of names they saw, which the next
step adds to while a checkpoint saved in the background may not be written yet."""

SCENARIOS = [
    {
        "name": "barrier",
        "calls": [
            {
                "input": "p",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": "q", "kwargs": _SYNC},
            {
                "input": "ASKr",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": ["values", "updates"], **_SYNC},
            },
            {
                "input": Command(resume="yes"),
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
        ],
    },
    {  # a new input drops the join the barrier started: the barrier waits again
        "name": "dropped_join",
        "calls": [
            {"input": "Jp", "kwargs": _SYNC},
            {
                "input": "q",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": "Jr", "kwargs": _SYNC},
            {"input": Command(resume="yes"), "kwargs": _SYNC},
        ],
    },
    {
        "name": "barrier_shown",
        "build": "build_barrier_shown",
        "calls": [
            {
                "input": "p",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": "q", "api": "ainvoke", "kwargs": _SYNC},
        ],
    },
    {
        "name": "barrier_after_finish",
        "build": "build_barrier_after_finish",
        "calls": [
            {
                "input": "p",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": "ASKq", "kwargs": _SYNC},
            {
                "input": Command(resume="ok"),
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
        ],
    },
    {
        "name": "unknown_name",
        "build": "build_unknown_name",
        # (not streamed: a step of one task whose writes fail streams none of its updates in
        # LangGraph, unless the stream has custom or messages; rewind streams them)
        "calls": [{"input": "p", "kwargs": _SYNC}],
    },
    {
        "name": "not_validated",
        "build": "build_not_validated",
        "calls": [
            {
                "input": "p",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            }
        ],
    },
    {
        "name": "late",
        "build": "build_late",
        "calls": [
            {
                "input": {"x": "p"},
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": {"x": "ASKq"}, "kwargs": _SYNC},
            {
                "input": Command(resume="go"),
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": {"x": "r"}, "api": "ainvoke", "kwargs": _SYNC},
        ],
    },
    {
        "name": "late_not_validated",
        "build": "build_late_not_validated",
        "calls": [
            {
                "input": {"x": "p"},
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            }
        ],
    },
    {
        "name": "late_unread",
        "build": "build_late_unread",
        "calls": [
            {
                "input": "p",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": _MODES, **_SYNC},
            },
            {"input": "q", "kwargs": _SYNC},
        ],
    },
]

# LangGraph's own order varies: nodes a and b0 (sync functions, one step) run in threads, and
# their runs end in either order from one run to the next.
EVENTS_COMPARABLE = False
