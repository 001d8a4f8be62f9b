"""Functional API: tasks called in parallel (LangGraph's "parallel execution" how-to).

``add_one`` is called once per number before any result is asked for, so the calls run at the
same time; the workflow then collects the results in order. Each call takes a little longer
than the one before, so they finish (and are streamed) in call order on both engines.
"""

import time

from langgraph.func import entrypoint, task

# Under astream_events, LangGraph starts each call's run in a worker thread of its own, and the
# order of their start events varies from run to run: this module's calls are compared as
# invoke/stream results and state only (sbs_46 compares parallel async calls' events).
EVENTS_COMPARABLE = False


@task
def add_one(number: int) -> int:
    time.sleep(0.05 * (number + 1))  # (a call of 0 too: it must not end before the next starts)
    return number + 1


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def graph(numbers: list[int]) -> list[int]:
        futures = [add_one(i) for i in numbers]
        return [f.result() for f in futures]

    return graph


SCENARIOS = [
    {"name": "invoke", "calls": [{"input": [1, 2, 3]}]},
    {
        "name": "stream_updates",
        "calls": [{"input": [0, 2, 4], "api": "stream", "kwargs": {"stream_mode": "updates"}}],
    },
    {
        "name": "stream_updates_and_values",
        "calls": [
            {"input": [1, 3], "api": "stream", "kwargs": {"stream_mode": ["updates", "values"]}}
        ],
    },
]
