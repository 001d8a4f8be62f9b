"""``rewind serve`` leaves what it holds once started out of later full collections."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx

from rewind.server.heap import settle_heap
from tests.server.conftest import start_server

GRAPH = """
import gc
from typing import TypedDict

from rewind.graph import END, START, StateGraph


class State(TypedDict, total=False):
    frozen: int


def count(state: State) -> State:
    return {"frozen": gc.get_freeze_count()}


builder = StateGraph(State)
builder.add_node("count", count)
builder.add_edge(START, "count")
builder.add_edge("count", END)
graph = builder.compile()
"""


def test_serve_freezes_the_heap_it_starts_with(tmp_path: Path) -> None:
    (tmp_path / "heap_graph.py").write_text(GRAPH)
    server = start_server(
        tmp_path / "r.db", "-g", f"heap={tmp_path / 'heap_graph.py'}:graph", config=False
    )
    try:
        body = {"assistant_id": "heap", "input": {}}
        answer = httpx.post(f"{server.url}/runs/wait", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        # The modules, the graph and the app: far more than a run makes.
        assert answer.json()["frozen"] > 50_000
    finally:
        assert server.stop() == 0


def test_what_becomes_garbage_after_settling_is_still_collected() -> None:
    settle_heap()
    try:
        assert gc.get_freeze_count() > 0

        class Node:
            other: object = None

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        alive = gc.get_objects()
        assert any(o is a for o in alive)
        del a, b, alive
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
