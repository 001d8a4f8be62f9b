"""Pydantic state with inputs that fail validation: pydantic's ValidationError, and what the
thread looks like afterwards (LangGraph validates the state when it prepares the first node's
task, after the input checkpoint was saved). Streamed, the step before the failure shows
nothing (LangGraph builds the next tasks' inputs before it streams a step's values and
checkpoint); a new input on a thread whose pending task's input is refused fails before its
input checkpoint.

START -> check -> END
"""

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field


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
    {
        "name": "streamed",
        "calls": [
            {"input": {"name": "bob", "volume": 11}, "api": "stream", "kwargs": {"stream_mode": m}}
            for m in ("values", ["values", "updates", "checkpoints", "debug"])
        ],
    },
]
