"""Functional API: streaming (LangGraph's "streaming" how-to for the functional API).

The workflow reports progress with the injected ``writer`` (``custom`` mode), asks a chat model
for a joke inside a task, and a task reports through ``get_stream_writer()`` (LangGraph shows
that write under its caller's namespace: see the ``version="v2"`` parts). Streamed in
``updates``, ``values``, ``custom`` and ``checkpoints``, one at a time and together
(``messages``, ``tasks`` and ``debug``: ``sbs_47``).

``rate`` pauses after its write, and the workflow after ``rate``'s result: under
``astream_events``, LangGraph hands a sync task's custom write, and the ``updates`` chunk of its
end, to the stream a moment later (after the task's, or the workflow's, own return event
otherwise); rewind streams them as they happen.
"""

import time

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.func import entrypoint, task
from langgraph.types import StreamWriter


@task
def tell_joke(topic: str) -> str:
    model = GenericFakeChatModel(
        messages=iter([AIMessage(content=f"Why did the {topic} cross the road?", id="joke-1")])
    )
    return model.invoke(f"Tell me a joke about {topic}").content


@task
def rate(joke: str) -> int:
    get_stream_writer()({"rating": "in progress"})
    time.sleep(0.05)  # see the module's docstring
    return len(joke) % 5


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def joke_workflow(topic: str, writer: StreamWriter) -> dict:
        writer({"progress": "writing a joke"})
        joke = tell_joke(topic).result()
        writer({"progress": "rating it"})
        rating = rate(joke).result()
        time.sleep(0.05)  # see the module's docstring
        return {"joke": joke, "rating": rating}

    return joke_workflow


def _streamed(mode):
    return {"input": "chicken", "api": "stream", "kwargs": {"stream_mode": mode}}


SCENARIOS = [
    {"name": "updates", "calls": [_streamed("updates")]},
    {"name": "values", "calls": [_streamed("values")]},
    {"name": "custom", "calls": [_streamed("custom")]},
    {"name": "checkpoints", "calls": [_streamed("checkpoints")]},
    {
        "name": "all_modes",
        "calls": [_streamed(["updates", "values", "custom", "checkpoints"])],
    },
    {
        "name": "astream_v2_parts",
        "calls": [
            {
                "input": "duck",
                "api": "astream",
                "kwargs": {"stream_mode": ["updates", "custom"], "version": "v2"},
            }
        ],
    },
    {
        "name": "subgraphs",
        "calls": [
            {
                "input": "swan",
                "api": "stream",
                "kwargs": {"stream_mode": ["custom", "updates"], "subgraphs": True},
            }
        ],
    },
    {"name": "invoke", "calls": [{"input": "goose"}]},
]
