"""Functional API: retry policies (LangGraph's "retry policy" how-to).

``get_info`` fails on its first attempt and succeeds on the second under its own
``RetryPolicy``. ``fetch`` has no policy of its own: the entrypoint's applies to it. A task
whose retries run out fails the workflow with the task's error (noted with both tasks' names),
and ``get_state`` shows the failure on the entrypoint's task.

The workflow pauses after its last task's result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends, and
whether it arrives before the workflow's own return event varies from run to run; rewind
streams it as the task ends.
"""

import time

from langgraph.func import entrypoint, task
from langgraph.types import RetryPolicy

_attempts = {"get_info": 0, "fetch": 0}


def reset() -> None:
    for key in _attempts:
        _attempts[key] = 0


class Flaky(Exception):
    pass


@task(retry_policy=RetryPolicy(retry_on=Flaky, initial_interval=0.001, jitter=False))
def get_info(fail_times: int) -> str:
    _attempts["get_info"] += 1
    if _attempts["get_info"] <= fail_times:
        raise Flaky(f"attempt {_attempts['get_info']} failed")
    return f"OK after {_attempts['get_info']} attempts"


@task
def fetch(fail_times: int) -> str:
    _attempts["fetch"] += 1
    if _attempts["fetch"] <= fail_times:
        raise Flaky(f"fetch attempt {_attempts['fetch']} failed")
    return "fetched"


def build(checkpointer):
    @entrypoint(
        checkpointer=checkpointer,
        retry_policy=RetryPolicy(
            max_attempts=2, retry_on=Flaky, initial_interval=0.001, jitter=False
        ),
    )
    def main(inputs: dict) -> dict:
        info = get_info(inputs["info_failures"]).result()
        fetched = fetch(inputs["fetch_failures"]).result()
        time.sleep(0.05)  # see the module's docstring
        return {"info": info, "fetch": fetched}

    return main


SCENARIOS = [
    {
        "name": "recovers",
        "calls": [
            {
                "input": {"info_failures": 1, "fetch_failures": 1},
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "values"]},
            }
        ],
    },
    {"name": "exhausted", "calls": [{"input": {"info_failures": 5, "fetch_failures": 0}}]},
    {
        "name": "resumed_after_failure",
        "calls": [
            {"input": {"info_failures": 0, "fetch_failures": 3}},
            {"input": None, "api": "stream", "kwargs": {"stream_mode": ["updates", "values"]}},
        ],
    },
]
