"""Functional API: short-term memory with ``previous`` and ``entrypoint.final`` (LangGraph's
"memory" how-to).

``chat`` keeps a conversation across invocations of one thread: ``previous`` is what the last
run saved. ``counter`` returns the previous total but saves the new one with
``entrypoint.final(value=..., save=...)`` (built by ``build_counter``: its scenario names it).

``chat`` pauses after its task's result: under ``astream_events``, LangGraph hands the graph's
``updates`` chunk of a sync task's end to the stream a moment after the task ends (it arrives
after ``chat``'s own return event otherwise); rewind streams it as the task ends.
"""

import time
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.func import entrypoint, task
from langgraph.graph import add_messages


@task
def reply(messages: list[BaseMessage]) -> AIMessage:
    return AIMessage(content=f"you said {len(messages)} things", id=f"ai-{len(messages)}")


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def chat(inputs: list[BaseMessage], *, previous: list[BaseMessage] | None = None):
        messages = add_messages(previous or [], inputs)
        answer = reply(messages).result()
        time.sleep(0.05)  # see the module's docstring
        return add_messages(messages, [answer])

    return chat


def build_counter(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def counter(number: int, *, previous: Any = None) -> entrypoint.final[int, int]:
        previous = previous or 0
        return entrypoint.final(value=previous, save=previous + number)

    return counter


SCENARIOS = [
    {
        "name": "conversation",
        "calls": [
            {"input": [HumanMessage(content="hi", id="h1")]},
            {"input": [HumanMessage(content="how are you?", id="h2")], "api": "stream"},
            {
                "input": [HumanMessage(content="bye", id="h3")],
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"]},
            },
        ],
    },
    {
        "name": "final_value_and_save",
        "build": "build_counter",
        "calls": [
            {"input": 3},
            {"input": 1, "api": "stream", "kwargs": {"stream_mode": ["updates", "values"]}},
            {"input": 5, "api": "ainvoke"},
        ],
    },
]
