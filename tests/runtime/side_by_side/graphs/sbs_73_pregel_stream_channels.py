"""``Pregel(stream_channels=...)``: the channels a ``values`` stream reports (and
``get_state``'s values, a checkpoint's, a debug task's result): one channel (its value is the
chunk) or several (a dict of those that have a value); a step that writes none of them
streams no ``values`` chunk. ``invoke`` returns the output channels as ever.

a -> node1 -> b -> node2 -> c
"""

from langgraph.channels import EphemeralValue, LastValue
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.types import interrupt


def _program(checkpointer, stream_channels, output_channels=("b", "c")):
    node1 = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    node2 = NodeBuilder().subscribe_only("b").do(lambda x: x + "!").write_to("c")
    return Pregel(
        nodes={"node1": node1, "node2": node2},
        channels={"a": EphemeralValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels=["a"],
        output_channels=list(output_channels),
        stream_channels=stream_channels,
        checkpointer=checkpointer,
    )


def build(checkpointer):  # several channels
    return _program(checkpointer, ["a", "c"])


def build_one(checkpointer):  # one channel: its value is the chunk
    return _program(checkpointer, "b")


def build_one_output(checkpointer):
    return _program(checkpointer, ["b"], output_channels="c")


def _ask(x):
    return interrupt(f"{x}?")


def build_asking(checkpointer):
    ask = NodeBuilder().subscribe_only("a").do(_ask).write_to("b")
    return Pregel(
        nodes={"ask": ask},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels="b",
        stream_channels="a",
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "debug", "checkpoints"]

SCENARIOS = [
    {
        "name": "several",
        "calls": [
            {"input": {"a": "x"}},
            {"input": {"a": "y"}, "api": "stream"},
            {"input": {"a": "z"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {
        "name": "one",
        "build": "build_one",
        "calls": [
            {"input": {"a": "x"}, "api": "stream"},
            {"input": {"a": "y"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "z"}},
        ],
    },
    {
        "name": "one_output",
        "build": "build_one_output",
        "calls": [
            {"input": {"a": "x"}, "api": "stream"},
            {"input": {"a": "y"}},
        ],
    },
    {
        "name": "interrupted",
        "build": "build_asking",
        "calls": [
            {"input": "q", "api": "stream", "kwargs": {"stream_mode": ["values", "updates"]}},
            {"input": "r"},
        ],
    },
    {
        "name": "no_checkpointer",
        "build": "build_one",
        "checkpointer": False,
        "calls": [{"input": {"a": "x"}, "api": "stream", "kwargs": {"stream_mode": _MODES}}],
    },
]
