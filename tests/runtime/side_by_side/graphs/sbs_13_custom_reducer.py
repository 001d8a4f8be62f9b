"""Custom reducer functions (not operator.add): the state holds the value *after* the reducer.

* ``scores``: merge dicts keeping the max per key (two parallel writers in one step, plus the
  input, plus a second run on the same thread);
* ``tags``: sorted de-duplicated union, tolerant of a single string;
* ``best``: keep the max (an int reducer channel without a list type).
START -> a, b (parallel) -> merge -> END
"""

from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


def keep_max(left: dict[str, int] | None, right: dict[str, int] | None) -> dict[str, int]:
    out = dict(left or {})
    for k, v in (right or {}).items():
        out[k] = max(out.get(k, v), v)
    return out


def union(left: list[str] | None, right: list[str] | str | None) -> list[str]:
    if isinstance(right, str):
        right = [right]
    return sorted(set(left or []) | set(right or []))


def bigger(left: int | None, right: int | None) -> int:
    return max(left or 0, right or 0)


class State(TypedDict, total=False):
    scores: Annotated[dict[str, int], keep_max]
    tags: Annotated[list[str], union]
    best: Annotated[int, bigger]


def a(state: State) -> dict:
    return {"scores": {"x": 3, "y": 1}, "tags": ["b", "a"], "best": 3}


def b(state: State) -> dict:
    return {"scores": {"x": 1, "z": 5}, "tags": "c", "best": 5}


def merge(state: State) -> dict:
    return {"tags": [f"n{len(state['scores'])}"], "best": sum(state["scores"].values())}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("merge", merge)
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(["a", "b"], "merge")
    g.add_edge("merge", END)
    return g.compile(checkpointer=checkpointer)


# Parallel sync nodes finish in the same instant here: LangGraph interleaves their
# astream_events (one task's on_chain_stream before or after the other's on_chain_end) by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False

SCENARIOS = [
    {"name": "empty_input", "calls": [{"input": {}}]},
    {
        "name": "input_and_second_run",
        "calls": [
            {"input": {"scores": {"x": 10}, "tags": ["z"], "best": 1}},
            {"input": {"scores": {"w": 2}, "tags": "a"}},
        ],
    },
]
