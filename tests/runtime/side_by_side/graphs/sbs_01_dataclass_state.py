"""Dataclass state: defaults, a default_factory reducer key, nodes reading attributes.

START -> tokenize -> count -> END (set_entry_point / set_finish_point, names inferred from the
functions). Scenarios: a dict input, a dataclass instance as input, and a second invoke on the
same thread (the reducer key keeps growing, the plain keys are overwritten).
"""

import operator
from dataclasses import dataclass, field
from typing import Annotated

from langgraph.graph import StateGraph


@dataclass
class State:
    text: str
    words: Annotated[list[str], operator.add] = field(default_factory=list)
    n_words: int = 0
    lang: str = "en"


def tokenize(state: State) -> dict:
    return {"words": state.text.split()}


def count(state: State) -> dict:
    return {"n_words": len(state.words), "lang": state.lang.upper()}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node(tokenize)
    g.add_node(count)
    g.set_entry_point("tokenize")
    g.add_edge("tokenize", "count")
    g.set_finish_point("count")
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "dict_input", "calls": [{"input": {"text": "the quick brown fox"}}]},
    {"name": "instance_input", "calls": [{"input": State(text="hello world", lang="fr")}]},
    {
        "name": "same_thread",
        "calls": [{"input": {"text": "a b"}}, {"input": {"text": "c d e", "lang": "de"}}],
    },
]
