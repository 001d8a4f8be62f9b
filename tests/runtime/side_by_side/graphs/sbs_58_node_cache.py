"""Node caching, as LangGraph's how-to on caching expensive nodes: ``compile(cache=...)`` and
``add_node(..., cache_policy=CachePolicy(...))``. A node run again with an input it saw is not
run: its writes (and where its routing sent the run) come from the cache and ``updates`` marks
them ``"__metadata__": {"cached": True}``; ``tasks`` shows its start and no result; a
different input runs it; a ``key_func`` picks what counts; ``clear_cache`` forgets one node or
all; ``SqliteCache`` keeps entries in a file. (``Send`` tasks: ``sbs_59``.)

START -> expensive -(route)-> double | END
"""

import operator
import tempfile
from pathlib import Path
from typing import Annotated, TypedDict

from langgraph.cache.memory import InMemoryCache
from langgraph.cache.sqlite import SqliteCache
from langgraph.graph import END, START, StateGraph
from langgraph.types import CachePolicy


class State(TypedDict, total=False):
    x: int
    note: str
    result: int
    log: Annotated[list[str], operator.add]


def expensive(state: State) -> dict:
    return {"result": state["x"] * 2, "log": [f"expensive {state['x']}"]}


def double(state: State) -> dict:
    return {"result": state["result"] * 2, "log": ["double"]}


def route(state: State) -> str:
    return "double" if state["x"] > 3 else END


def build_with(cache, policy):
    g = StateGraph(State)
    g.add_node("expensive", expensive, cache_policy=policy)
    g.add_node("double", double, cache_policy=CachePolicy())
    g.add_edge(START, "expensive")
    g.add_conditional_edges("expensive", route, ["double", END])
    return g


def build(checkpointer):
    return build_with(None, CachePolicy()).compile(checkpointer=checkpointer, cache=InMemoryCache())


def build_keyed(checkpointer):
    policy = CachePolicy(key_func=lambda state: str(state["x"]))  # the note does not count
    return build_with(None, policy).compile(checkpointer=checkpointer, cache=InMemoryCache())


def build_sqlite(checkpointer):
    path = Path(tempfile.mkdtemp()) / "cache.db"
    return build_with(None, CachePolicy()).compile(
        checkpointer=checkpointer, cache=SqliteCache(path=str(path))
    )


SCENARIOS = [
    {
        "name": "second_run_is_cached",
        "calls": [
            {"input": {"x": 5, "log": []}, "api": "stream", "kwargs": {"stream_mode": "updates"}},
            {"input": {"x": 5, "log": []}, "api": "stream", "kwargs": {"stream_mode": "updates"}},
            {"input": {"x": 2, "log": []}, "api": "stream", "kwargs": {"stream_mode": "updates"}},
            {
                "input": {"x": 5, "log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["tasks", "updates", "values"]},
            },
        ],
    },
    {
        "name": "key_func",
        "build": "build_keyed",
        "calls": [
            {"input": {"x": 1, "note": "a", "log": []}},
            {"input": {"x": 1, "note": "b", "log": []}, "kwargs": {"stream_mode": "updates"}},
        ],
    },
    {
        "name": "sqlite_cache_async",
        "build": "build_sqlite",
        "calls": [
            {"input": {"x": 4, "log": []}, "api": "ainvoke"},
            {"input": {"x": 4, "log": []}, "api": "astream", "kwargs": {"stream_mode": "updates"}},
        ],
    },
]
