"""``runtime.execution_info``: where a running node is (its checkpoint, checkpoint
namespace, task, thread and run ids, and which attempt this is), as a node reads it; with a
retry policy, the attempt counts up.

START -> where -> flaky (fails once, retried) -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy

FAILED: list[str] = []


class Flaky(Exception):
    """Retried by the default retry policy (a ValueError would not be)."""


def reset() -> None:
    FAILED.clear()


class State(TypedDict, total=False):
    seen: Annotated[list, operator.add]


def describe(runtime: Runtime) -> dict:
    info = runtime.execution_info
    return {
        "checkpoint_id": info.checkpoint_id,
        "checkpoint_ns": info.checkpoint_ns,
        "task_id": info.task_id,
        "thread_id": info.thread_id,
        "run_id": info.run_id,
        "attempt": info.node_attempt,
        "first_attempt_time_set": info.node_first_attempt_time is not None,
    }


def where(state: State, runtime: Runtime) -> dict:
    return {"seen": [describe(runtime)]}


def flaky(state: State, runtime: Runtime) -> dict:
    if not FAILED:
        FAILED.append("once")
        raise Flaky("first attempt fails")
    return {"seen": [describe(runtime)]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("where", where)
    g.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    g.add_edge(START, "where")
    g.add_edge("where", "flaky")
    g.add_edge("flaky", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "with_a_checkpointer", "calls": [{"input": {"seen": []}}]},
    {"name": "without_one", "checkpointer": False, "calls": [{"input": {"seen": []}}]},
    {
        "name": "with_a_run_id",
        "calls": [
            {
                "input": {"seen": []},
                "config": {"run_id": "0b7a8f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
            }
        ],
    },
]
