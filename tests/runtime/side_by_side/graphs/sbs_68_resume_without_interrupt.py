"""``Command(resume=...)`` when no task waits on an interrupt (after ``update_state`` led to an
interrupting node, or a breakpoint before it): LangGraph keeps the value for the
step that runs now, and the first ``interrupt()`` called there returns it instead of stopping;
a second ``interrupt()`` in that task stops, and its answer comes after the first. A step whose
tasks never call ``interrupt()`` leaves the value unused. One value for two pending interrupts
(two parallel tasks waiting) is refused with LangGraph's ``RuntimeError``. A ``Command`` on a
thread with no checkpoint runs the graph from ``START`` as its input (its update and goto
applied there; its resume value unused).

START -> a -> ask -> END ; ask calls interrupt() twice
START -> x, y -> END ; each calls interrupt() once
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    steps: Annotated[list[str], operator.add]


def a(state: State) -> dict:
    return {"steps": ["a"]}


def ask(state: State) -> dict:
    first = interrupt("first?")
    second = interrupt("second?")
    return {"steps": [f"ask:{first}:{second}"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("ask", ask)
    g.add_edge(START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", END)
    return g.compile(checkpointer=checkpointer)


def asking(name: str):
    def run(state: State) -> dict:
        return {"steps": [f"{name}:{interrupt(name)}"]}

    run.__name__ = name
    return run


def build_two(checkpointer):
    g = StateGraph(State)
    for name in ("x", "y"):
        g.add_node(name, asking(name))
        g.add_edge(START, name)
        g.add_edge(name, END)
    return g.compile(checkpointer=checkpointer)


SEED = {"input": {"steps": ["seed"]}, "api": "update_state", "kwargs": {"as_node": "a"}}

SCENARIOS = [
    {
        "name": "resume_before_the_interrupt",
        "calls": [
            SEED,
            {"input": Command(resume="one")},
            {"input": Command(resume="two"), "api": "stream", "kwargs": {"stream_mode": "updates"}},
        ],
    },
    {
        "name": "resume_where_no_task_interrupts",
        "calls": [
            {"input": {"steps": []}, "kwargs": {"interrupt_before": ["ask"]}},
            {"input": Command(resume="x"), "kwargs": {"interrupt_before": ["ask"]}},
        ],
    },
    {
        "name": "update_after_an_interrupt_then_resume",
        "calls": [
            {"input": {"steps": []}},
            SEED,
            {"input": Command(resume="again")},
            {"input": Command(resume="more")},
        ],
    },
    {
        "name": "one_value_for_two_pending_interrupts",
        "build": "build_two",
        "calls": [{"input": {"steps": []}}, {"input": Command(resume="v")}],
    },
    {
        "name": "resume_on_a_new_thread",
        "calls": [{"input": Command(resume="v")}, {"input": Command(resume="w")}],
    },
    {
        "name": "update_on_a_new_thread",
        "calls": [{"input": Command(update={"steps": ["u"]}, resume="v")}],
    },
    {
        "name": "goto_on_a_new_thread",
        "calls": [{"input": Command(goto="a")}, {"input": Command(resume="w")}],
    },
]
