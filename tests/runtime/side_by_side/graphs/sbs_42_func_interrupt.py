"""Functional API: human in the loop (LangGraph's "review an essay" how-to).

The workflow writes an essay in a task, then stops at ``interrupt()`` for a review; resumed with
``Command(resume=...)`` it runs again from the start, but ``write_essay`` is not called again:
its result comes from the checkpoint. A second ``interrupt()`` inside a task (``ask_title``)
is the workflow's, as LangGraph reports it. Streamed in ``updates`` and ``values``, invoked,
and inspected with ``get_state``/``get_state_history`` after every call.

The workflow pauses after ``ask_title``'s result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends (it
arrives after the workflow's own return event otherwise); rewind streams it as the task ends.
"""

import time

from langgraph.func import entrypoint, task
from langgraph.types import Command, interrupt

_written = {"essays": 0}


def reset() -> None:
    _written["essays"] = 0


@task
def write_essay(topic: str) -> str:
    _written["essays"] += 1
    return f"An essay about {topic} (draft {_written['essays']})"


@task
def ask_title(essay: str) -> str:
    title = interrupt({"question": "A title?", "essay": essay})
    return title.upper()


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def workflow(topic: str) -> dict:
        essay = write_essay(topic).result()
        review = interrupt({"question": "Please provide a review", "essay": essay})
        title = ask_title(essay).result()
        time.sleep(0.05)  # see the module's docstring
        return {"essay": essay, "review": review, "title": title}

    return workflow


SCENARIOS = [
    {
        "name": "invoke_resume",
        "calls": [
            {"input": "cats"},
            {"input": Command(resume="great")},
            {"input": Command(resume="cats rule")},
        ],
    },
    {
        "name": "stream_resume",
        "calls": [
            {"input": "dogs", "api": "stream", "kwargs": {"stream_mode": ["updates", "values"]}},
            {
                "input": Command(resume="fine"),
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "values"]},
            },
            {"input": Command(resume="dogs"), "api": "stream"},
        ],
    },
    {
        "name": "resume_with_none_repeats_the_question",
        "calls": [{"input": "owls"}, {"input": None}, {"input": Command(resume="ok")}],
    },
]
