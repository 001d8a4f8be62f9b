"""add_sequence: functions and (name, function) tuples, then more edges after the sequence.

START -> load -> ("clean", strip) -> ("upper", shout) -> save -> report -> END
The sequence is added in one call; ``report`` is wired with add_edge after it. One scenario runs
without a checkpointer (get_state then raises "No checkpointer set").
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    raw: str
    text: str
    trail: Annotated[list[str], operator.add]


def load(state: State) -> dict:
    return {"text": state["raw"], "trail": ["load"]}


def strip(state: State) -> dict:
    return {"text": state["text"].strip(), "trail": ["clean"]}


def shout(state: State) -> dict:
    return {"text": state["text"].upper(), "trail": ["upper"]}


def save(state: State) -> dict:
    return {"trail": [f"save:{len(state['text'])}"]}


def report(state: State) -> None:
    return None


def build(checkpointer):
    g = StateGraph(State)
    g.add_sequence([load, ("clean", strip), ("upper", shout), save])
    g.add_node("report", report)
    g.add_edge(START, "load")
    g.add_edge("save", "report")
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "main", "calls": [{"input": {"raw": "  hello sequence  "}}]},
    {"name": "twice", "calls": [{"input": {"raw": " a "}}, {"input": {"raw": " bb "}}]},
    {"name": "no_checkpointer", "checkpointer": False, "calls": [{"input": {"raw": " c "}}]},
]
