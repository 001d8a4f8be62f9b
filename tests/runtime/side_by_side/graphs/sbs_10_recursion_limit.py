"""The recursion limit: a loop that never ends, and loops that end exactly at the limit.

START -> tick --(while ticks < stop)--> tick | END
With ``recursion_limit=N`` LangGraph allows N super-steps. Scenarios: 40 steps under the default
limit (LangGraph 1.2's default is 10007, not LangChain's 25); an endless loop (stop far away)
hitting a small limit; loops needing exactly the limit and one more step than the limit; and a
fresh input on a thread whose last run hit the limit; runs resumed after a breakpoint (the limit
counts from the step the resumed run starts at).
"""

from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    ticks: int
    stop: int


def tick(state: State) -> dict:
    return {"ticks": state.get("ticks", 0) + 1}


def again(state: State) -> str:
    return "tick" if state["ticks"] < state["stop"] else END


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("tick", tick)
    g.add_edge(START, "tick")
    g.add_conditional_edges("tick", again, ["tick", END])
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "default_limit", "calls": [{"input": {"ticks": 0, "stop": 40}}]},
    {
        "name": "small_limit",
        "config": {"recursion_limit": 4},
        "calls": [{"input": {"ticks": 0, "stop": 1000}}],
    },
    {
        "name": "exactly_the_limit",
        "config": {"recursion_limit": 4},
        "calls": [{"input": {"ticks": 0, "stop": 4}}],
    },
    {
        "name": "one_over_the_limit",
        "config": {"recursion_limit": 4},
        "calls": [{"input": {"ticks": 0, "stop": 5}}],
    },
    {
        "name": "new_input_after_limit",
        "config": {"recursion_limit": 3},
        "calls": [{"input": {"ticks": 0, "stop": 100}}, {"input": {"ticks": 0, "stop": 2}}],
    },
    {
        "name": "resumed_within_the_limit",
        "config": {"recursion_limit": 4},
        "calls": [
            {"input": {"ticks": 0, "stop": 6}, "kwargs": {"interrupt_after": ["tick"]}},
            {"input": None},
        ],
    },
    {
        "name": "resumed_past_the_limit",
        "config": {"recursion_limit": 3},
        "calls": [
            {"input": {"ticks": 0, "stop": 100}, "kwargs": {"interrupt_after": ["tick"]}},
            {"input": None},
        ],
    },
]
