"""Errors and retries: a node that fails twice then succeeds under a retry policy, a node whose
retries run out, and a failed run resumed from its last checkpoint.

START -> prep -> flaky (RetryPolicy(max_attempts=3)) -> finish -> END

Scenario ``exhausted`` makes ``flaky`` fail every attempt; ``resumed`` fails the first run and
then succeeds when the thread is resumed with ``None``. Each attempt is a run of its own under
``astream_events``; a failed attempt's run never ends.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

_calls = {"flaky": 0}
_mode = {"fail_until": 2}


def reset() -> None:
    _calls["flaky"] = 0


class Flaky(Exception):
    pass


class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    fail_until: int


def prep(state: State) -> dict:
    return {"log": ["prep"]}


def flaky(state: State) -> dict:
    _calls["flaky"] += 1
    if _calls["flaky"] <= state.get("fail_until", 0):
        raise Flaky(f"attempt {_calls['flaky']} failed")
    return {"log": [f"flaky-ok-{_calls['flaky']}"]}


def finish(state: State) -> dict:
    return {"log": ["finish"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("prep", prep)
    g.add_node(
        "flaky",
        flaky,
        retry_policy=RetryPolicy(
            max_attempts=3, initial_interval=0.001, jitter=False, retry_on=Flaky
        ),
    )
    g.add_node("finish", finish)
    g.add_edge(START, "prep")
    g.add_edge("prep", "flaky")
    g.add_edge("flaky", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "recovers", "calls": [{"input": {"log": [], "fail_until": 2}}]},
    {"name": "exhausted", "calls": [{"input": {"log": [], "fail_until": 9}}]},
    {
        "name": "resumed",
        "calls": [{"input": {"log": [], "fail_until": 3}}, {"input": None}],
    },
]
