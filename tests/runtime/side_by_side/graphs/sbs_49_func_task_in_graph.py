"""Functional-API tasks called from the nodes of a StateGraph (LangGraph allows it: "tasks can
be called from within an entrypoint or from within a StateGraph").

START -> plan -> write -> END. ``plan`` calls the ``outline`` task twice in parallel; ``write``
calls ``draft`` and then stops at ``interrupt()`` for an approval. On resume, ``write`` runs again
and ``draft`` is answered from the checkpoint. Each task call streams its own ``updates`` chunk.
"""

import time
from typing import TypedDict

from langgraph.func import task
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

# Under astream_events, LangGraph hands the graph's updates chunks of task calls made in a node
# to the stream at moments that depend on its threads (after the node's own end, here, rather
# than as each call ends): this module's calls are compared as invoke/stream results and state.
EVENTS_COMPARABLE = False


class State(TypedDict, total=False):
    topic: str
    outline: list[str]
    text: str
    approved: str


@task
def outline(topic: str, part: int) -> str:
    time.sleep(0.03 * part)
    return f"{topic} part {part}"


@task
def draft(parts: list[str]) -> str:
    return " / ".join(parts)


def plan(state: State) -> dict:
    parts = [outline(state["topic"], i) for i in (1, 2)]
    return {"outline": [p.result() for p in parts]}


def write(state: State) -> dict:
    text = draft(state["outline"]).result()
    return {"text": text, "approved": interrupt({"approve": text})}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("write", write)
    g.add_edge(START, "plan")
    g.add_edge("plan", "write")
    g.add_edge("write", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "invoke_and_resume",
        "calls": [{"input": {"topic": "tea"}}, {"input": Command(resume="yes")}],
    },
    {
        "name": "stream_and_resume",
        "calls": [
            {"input": {"topic": "owls"}, "api": "stream"},
            {
                "input": Command(resume="ok"),
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "values"]},
            },
        ],
    },
]
