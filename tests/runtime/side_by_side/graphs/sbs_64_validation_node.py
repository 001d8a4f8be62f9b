"""``ValidationNode``, as LangGraph's how-to on validating tool calls uses it: a model asks for
a tool call; the node validates its arguments against a pydantic schema (and a function's
signature), answering with the validated JSON or, for bad arguments, the error with
``is_error``, which routes back to the model to try again.

START -> model -> validation --(error?)--> model | END
"""

import warnings
from typing import Annotated, TypedDict

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ValidationNode
from pydantic import BaseModel, field_validator


class SelectNumber(BaseModel):
    a: int

    @field_validator("a")
    @classmethod
    def a_must_be_meaningful(cls, value: int) -> int:
        if value != 37:
            raise ValueError("Only 37 is allowed")
        return value


def pick_word(word: str, count: int = 1) -> str:
    """Pick a word."""
    return word * count


class State(TypedDict):
    messages: Annotated[list, add_messages]


REPLIES = [
    [("SelectNumber", {"a": 5}), ("pick_word", {"word": "hi"})],
    [("SelectNumber", {"a": 37}), ("pick_word", {"word": "hi", "count": "x"})],
    [("SelectNumber", {"a": 37})],
]


def build(checkpointer):
    turns = iter(REPLIES)

    def model(state: State) -> dict:
        calls = [
            {"name": name, "args": args, "id": f"call_{len(state['messages'])}_{i}"}
            for i, (name, args) in enumerate(next(turns))
        ]
        return {"messages": [AIMessage("", tool_calls=calls)]}

    def should_reprompt(state: State) -> str:
        for message in reversed(state["messages"]):
            if message.type == "ai":
                return END
            if message.additional_kwargs.get("is_error"):
                return "model"
        return END

    with warnings.catch_warnings():  # ValidationNode is deprecated (langchain.agents)
        warnings.simplefilter("ignore")
        validation = ValidationNode([SelectNumber, pick_word])
    g = StateGraph(State)
    g.add_node("model", model)
    g.add_node("validation", validation)
    g.add_edge(START, "model")
    g.add_edge("model", "validation")
    g.add_conditional_edges("validation", should_reprompt)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "reprompts_until_valid",
        "calls": [
            {
                "input": {"messages": [("user", "Select a number")]},
                # LangGraph's reducer gives the node's messages ids in place, racing with the
                # events that show them.
                "racy_ids": True,
            }
        ],
    },
]
