"""Functional API: the stream modes that show each task call (LangGraph's "stream LLM tokens" and
"debug" how-tos for the functional API): ``messages``, ``tasks`` and ``debug``.

A task asks a streaming chat model for a haiku (its tokens carry the task's metadata: its name,
its ``__pregel_push`` path under the entrypoint's, its checkpoint namespace nested in the
entrypoint's); a second task, which calls a task of its own, returns a whole ``AIMessage``
(shown once, at the task's end, as LangGraph shows a node's returned messages); two calls of
``count_words`` run in parallel, one of them failing once under a retry policy (a retried
attempt shows no task result); the
workflow then stops at an ``interrupt()`` and is resumed, its finished calls answered from the
checkpoint (their starts show again in ``tasks``/``debug``, their results do not).
"""

import time

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.func import entrypoint, task
from langgraph.types import Command, RetryPolicy, interrupt

# Under astream_events, LangGraph hands the graph's own chunks that these modes make at a task
# call's start and for each token to the stream at moments that vary from run to run (the
# call's own events come first or not), as it does custom chunks (see the corpus's g09): this
# module's calls are compared as streams only. sbs_40 to sbs_46 compare astream_events.
EVENTS_COMPARABLE = False

_failures = {"count_words": 0}


def reset() -> None:
    _failures["count_words"] = 0


class Busy(Exception):
    pass


@task
def write_haiku(topic: str) -> str:
    model = GenericFakeChatModel(
        messages=iter([AIMessage(content=f"{topic} in the rain, quiet", id="haiku-1")])
    )
    return model.invoke(f"A haiku about {topic}").content


@task
def signature(author: str) -> str:
    return f"-- {author}"


@task
def sign(haiku: str) -> AIMessage:
    # A task may call a task: its path and namespace nest in its caller's.
    return AIMessage(content=f"{haiku} {signature('rewind').result()}", id="signed-1")


@task(retry_policy=RetryPolicy(retry_on=Busy, initial_interval=0.001, jitter=False))
def count_words(text: str, delay: float) -> int:
    time.sleep(delay)
    if delay == 0 and _failures["count_words"] == 0:
        _failures["count_words"] += 1
        raise Busy("try again")
    return len(text.split())


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def poet(topic: str) -> dict:
        haiku = write_haiku(topic).result()
        signed = sign(haiku).result()
        counts = [count_words(haiku, 0), count_words(signed.content, 0.05)]
        verdict = interrupt("publish?")
        return {"signed": signed, "words": [c.result() for c in counts], "verdict": verdict}

    return poet


def _streamed(topic, mode, **kwargs):
    return {"input": topic, "api": "stream", "kwargs": {"stream_mode": mode, **kwargs}}


def _resumed(mode, **kwargs):
    return {
        "input": Command(resume="yes"),
        "api": "stream",
        "kwargs": {"stream_mode": mode, **kwargs},
    }


SCENARIOS = [
    {"name": "messages", "calls": [_streamed("frogs", "messages"), _resumed("messages")]},
    {"name": "tasks", "calls": [_streamed("crows", "tasks"), _resumed("tasks")]},
    {"name": "debug", "calls": [_streamed("moss", "debug"), _resumed("debug")]},
    {
        "name": "all_modes",
        "calls": [
            _streamed(
                "reeds",
                ["updates", "values", "custom", "messages", "debug", "tasks", "checkpoints"],
            ),
            {
                "input": Command(resume="no"),
                "api": "astream",
                "kwargs": {"stream_mode": ["messages", "tasks", "updates"]},
            },
        ],
    },
    {
        "name": "v2_parts",
        "calls": [
            _streamed("pond", ["messages", "tasks", "values"], version="v2"),
            _resumed(["tasks", "values"], version="v2"),
        ],
    },
]
