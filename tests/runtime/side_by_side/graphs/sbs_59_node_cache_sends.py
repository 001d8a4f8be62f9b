"""Node caching of ``Send`` tasks: each is cached by its own argument. Tasks of one step
with the same key share one lookup, and only the last of them is served from the cache (the
others run), as LangGraph matches them; served tasks stream their ``updates`` first, in the
order their keys first appear.

START -> spread_out -> Send(work, 1), Send(work, 2), Send(work, 1)
"""

import operator
from typing import Annotated, TypedDict

from langgraph.cache.memory import InMemoryCache
from langgraph.graph import START, StateGraph
from langgraph.types import CachePolicy, Send


class State(TypedDict, total=False):
    x: int
    log: Annotated[list[str], operator.add]


def spread(state: State) -> list:
    return [Send("work", {"x": n}) for n in (1, 2, 1)]


def work(state: State) -> dict:
    return {"log": [f"work {state['x']}"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("spread_out", lambda state: {})
    g.add_node("work", work, cache_policy=CachePolicy())
    g.add_edge(START, "spread_out")
    g.add_conditional_edges("spread_out", spread, ["work"])
    return g.compile(checkpointer=checkpointer, cache=InMemoryCache())


SCENARIOS = [
    {
        "name": "sends",
        "calls": [
            {
                "input": {"log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "checkpoints"]},
                "unordered": True,  # the three Send tasks run in parallel threads
            },
            {
                "input": {"log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "checkpoints"]},
                "unordered": True,
            },
        ],
    },
]

# The three Send tasks run in parallel threads: LangGraph interleaves their astream_events by
# thread timing. Each task's own events are the same; their interleaving is not compared.
EVENTS_COMPARABLE = False
