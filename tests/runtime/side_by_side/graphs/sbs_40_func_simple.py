"""Functional API: an entrypoint that calls tasks one after the other (LangGraph's "write an
essay, then check it" how-to).

``compose_essay`` and ``score`` are ``@task``s; ``essay_workflow`` is the ``@entrypoint``. Each
call returns a future whose ``.result()`` the workflow waits for. Run with ``invoke``,
``ainvoke`` and ``stream`` (default mode: ``updates``, one chunk per task call and one for the
entrypoint's return), on the same thread: each run starts a new checkpoint pair.

The workflow pauses after its last task's result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends, and
whether it arrives before the workflow's own return event varies from run to run; rewind
streams it as the task ends.
"""

import time

from langgraph.func import entrypoint, task


@task
def compose_essay(topic: str) -> str:
    return f"An essay about {topic}"


@task(name="score_essay")
def score(essay: str, *, scale: int = 10) -> int:
    return len(essay.split()) % scale


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def essay_workflow(topic: str) -> dict:
        essay = compose_essay(topic).result()
        points = score(essay).result()
        time.sleep(0.05)  # see the module's docstring
        return {"essay": essay, "score": points}

    return essay_workflow


SCENARIOS = [
    {
        "name": "invoke_then_stream",
        "calls": [
            {"input": "cats"},
            {"input": "dogs", "api": "stream"},
            {"input": "owls", "api": "stream", "kwargs": {"stream_mode": "values"}},
        ],
    },
    {"name": "ainvoke", "calls": [{"input": "bats", "api": "ainvoke"}]},
    {"name": "no_checkpointer", "checkpointer": False, "calls": [{"input": "eels"}]},
]
