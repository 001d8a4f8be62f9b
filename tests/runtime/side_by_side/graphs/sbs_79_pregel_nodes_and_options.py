"""``Pregel`` programs beyond plain channels: managed values among the channels
(``RemainingStepsManager``, ``IsLastStepManager``: a node reading them among its channels gets
them for the step it runs in; they are no state), a cycle that stops on its last step, an
interrupt in it (resumed, the values are those of the step it resumes in), and two runs on a
thread.
"""

from langgraph.channels import LastValue
from langgraph.managed.is_last_step import IsLastStepManager, RemainingStepsManager
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.pregel._write import ChannelWriteEntry
from langgraph.types import Command, interrupt


def _grow(values: dict) -> str | None:
    if values["value"].startswith("ask") and values["left"] == 3:
        values = {**values, "value": values["value"] + interrupt(f"left {values['left']}?")}
    if values["last"]:
        return None
    return f"{values['value']}+{values['left']}"


def build(checkpointer):  # a cycle that grows its value until its last step
    grow = (
        NodeBuilder()
        .subscribe_to("value")
        .read_from("left", "last")
        .do(_grow)
        .write_to(ChannelWriteEntry("value", skip_none=True), seen=lambda v: v)
    )
    return Pregel(
        nodes={"grow": grow},
        channels={
            "value": LastValue(str),
            "left": RemainingStepsManager,
            "last": IsLastStepManager,
            "seen": LastValue(str),
        },
        input_channels="value",
        output_channels=["value", "seen"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "tasks", "debug", "checkpoints"]

SCENARIOS = [
    {
        "name": "managed_values",
        "config": {"recursion_limit": 5},
        "calls": [
            {"input": "a", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": "b"},
            {"input": "ask", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": Command(resume="!"), "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
]

# A node's function runs under the node as a chain run of its own in LangGraph; rewind shows
# no run of its own for it (see the README), as in sbs_70.
EVENTS_COMPARABLE = False
