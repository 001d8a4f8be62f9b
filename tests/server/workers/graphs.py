"""The graph the multi-process tests queue: five nodes, each waiting as a model call does."""

from __future__ import annotations

import asyncio
import itertools
import operator
import os
from typing import Annotated, Any, TypedDict

from rewind.graph import END, START, StateGraph

NODES = ("n1", "n2", "n3", "n4", "n5")
DELAY = float(os.environ.get("REWIND_TEST_NODE_DELAY", "0.05"))


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    async def run(state: State) -> dict[str, Any]:
        await asyncio.sleep(DELAY)
        return {"log": [name]}

    run.__name__ = name
    return run


def build() -> Any:
    g = StateGraph(State)
    for name in NODES:
        g.add_node(name, _node(name))
    g.add_edge(START, NODES[0])
    for a, b in itertools.pairwise(NODES):
        g.add_edge(a, b)
    g.add_edge(NODES[-1], END)
    return g.compile()


steps = build()
