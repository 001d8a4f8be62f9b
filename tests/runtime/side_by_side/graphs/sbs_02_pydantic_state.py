"""Pydantic state: defaults, a default_factory reducer key, constraints, a field validator.

START -> greet -> shout -> END. ``name`` is stripped and title-cased by a field validator when
the state is validated; ``greet`` writes a lower-case name padded with spaces (the validator
runs when the next node reads the state, not on the write). Scenarios: a dict input, an input
relying on every default, and a model instance as input (its defaults are written too).
Invalid inputs are in sbs_21_pydantic_invalid_input.
"""

import operator
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field, field_validator


class State(BaseModel):
    name: str = "  anonymous  "
    greeting: str = ""
    history: Annotated[list[str], operator.add] = Field(default_factory=list)
    volume: int = Field(default=1, ge=0, le=10)

    @field_validator("name")
    @classmethod
    def tidy(cls, value: str) -> str:
        return value.strip().title()


def greet(state: State) -> dict:
    return {
        "greeting": f"hello {state.name}",
        "history": [f"greet:{state.name}"],
        "name": state.name.lower() + "  ",
    }


def shout(state: State) -> dict:
    return {
        "greeting": state.greeting.upper() + "!" * state.volume,
        "history": [f"shout:{state.name}"],
    }


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("greet", greet)
    g.add_node("shout", shout)
    g.add_edge(START, "greet")
    g.add_edge("greet", "shout")
    g.add_edge("shout", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "valid", "calls": [{"input": {"name": " ada lovelace ", "volume": 3}}]},
    {"name": "defaults", "calls": [{"input": {}}]},
    {"name": "model_instance", "calls": [{"input": State(name="grace", volume=2)}]},
]
