"""Pydantic state with inputs that fail validation: pydantic's ValidationError, and what the
thread looks like afterwards (LangGraph validates the state when it prepares the first node's
task, after the input checkpoint was saved).

START -> check -> END
"""

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field

# Known difference, in streams only: a node input the state model refuses fails the run
# ("Before task ..."); LangGraph streams nothing of the step before it (the values chunk
# it queued is dropped with the error), rewind streams that step's values first. Made as
# written, the calls are compared.
MODES_COMPARABLE = False


class State(BaseModel):
    name: str
    volume: int = Field(default=1, ge=0, le=10)
    checked: bool = False


def check(state: State) -> dict:
    return {"checked": True}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("check", check)
    g.add_edge(START, "check")
    g.add_edge("check", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "out_of_range", "calls": [{"input": {"name": "bob", "volume": 11}}]},
    {"name": "wrong_type", "calls": [{"input": {"name": ["not", "a", "string"]}}]},
    {"name": "missing_required", "calls": [{"input": {"volume": 2}}]},
    {
        "name": "thread_keeps_invalid_value",
        "calls": [{"input": {"name": "ann", "volume": 99}}, {"input": {"name": "ann"}}],
    },
]
