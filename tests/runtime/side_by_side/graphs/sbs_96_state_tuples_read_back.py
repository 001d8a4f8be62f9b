"""Graph API: a tuple in the state, read back from the checkpoint, is what the checkpointer gives.

A trip planner keeps coordinates and routes in its state as tuples (plain and nested, a named
tuple with a tuple field, a dataclass with a tuple field, a list of tuples under
``operator.add``). LangGraph's checkpointer stores the state through its msgpack serializer:
what a run loads from a checkpoint comes back with lists for tuples, except where a class
rebuilt from its fields makes them tuples again (a named tuple is rebuilt, its fields'
tuples as lists; a dataclass's tuple field becomes a list; a pydantic state validates a
``tuple[...]`` field back into one for the node, while the channel, and ``get_state``, holds
the list). Within one run, the channels hold what the nodes wrote: tuples stay tuples. Each
node that reads the state reports the type of every container it received (``kinds``),
since tuples and lists compare alike; ``get_state`` and the history after each call show
the stored form.

* ``two_runs``: ``look`` reports what it received, then ``plan`` writes the tuples; the
  thread's second run (a new input) starts from the loaded state: its ``values`` chunks show
  lists for the keys it loaded and tuples for those it wrote, and ``trail`` (a reducer key)
  the loaded items as lists with the new one as a tuple.
* ``interrupt``: after ``plan``, ``side`` (writes a tuple) and ``ask`` (``interrupt()``) run in
  parallel; resumed with ``Command(resume=...)``, ``side``'s writes are handed back as the
  checkpoint holds them (lists), ``ask`` receives the loaded state and the resume value as
  given (a tuple). ``ask`` pauses first, so that ``side`` has finished when it interrupts
  (LangGraph runs the two in threads: its chunks' order would race).
* ``subgraph``: the interrupt is inside a subgraph (``mark`` writes a tuple there, then
  ``ask``); resumed, the subgraph starts from its own checkpoint, loaded as stored, and the
  node after it receives the parent's state.
* ``cached``: ``lookup`` has a cache policy keyed by the city; the thread's second run is a
  cache hit, whose writes LangGraph's cache stores through the same serializer (lists); the
  node after it reports them.
* ``pydantic``: a pydantic state with a ``tuple[int, int]`` field and an ``Any`` field; the
  second run's node receives the first as a tuple (validated) and the second as a list.
"""

import dataclasses
import operator
import time
from typing import Annotated, Any, NamedTuple

from langgraph.cache.memory import InMemoryCache
from langgraph.graph import END, START, StateGraph
from langgraph.types import CachePolicy, Command, interrupt
from pydantic import BaseModel
from typing_extensions import TypedDict


class Point(NamedTuple):
    lat: float
    span: tuple


@dataclasses.dataclass
class Route:
    name: str
    waypoints: tuple
    legs: list


class State(TypedDict, total=False):
    city: str
    pair: Any
    point: Any
    route: Any
    trail: Annotated[list, operator.add]
    seen: Any
    side: Any
    answer: Any


def kinds(value: Any) -> Any:
    """The value with each container's type named (tuples and lists compare alike)."""
    if isinstance(value, dict):
        return {"dict": {str(k): kinds(v) for k, v in value.items()}}
    if isinstance(value, BaseModel):
        return {
            type(value).__name__: {k: kinds(getattr(value, k)) for k in type(value).model_fields}
        }
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return {type(value).__name__: {f.name: kinds(getattr(value, f.name)) for f in fields}}
    if isinstance(value, list | tuple | set | frozenset):
        return {type(value).__name__: [kinds(v) for v in value]}
    return value


def look(state: State) -> dict:
    return {"seen": kinds({k: v for k, v in state.items() if k != "seen"})}


def plan(state: State) -> dict:
    return {
        "pair": (1, (2, 3)),
        "point": Point(48.85, (2, 3)),
        "route": Route("south", (("Paris", "Lyon"),), [(1, 2)]),
        "trail": [("Paris", len(state.get("trail") or []))],
    }


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("look", look)
    g.add_node("plan", plan)
    g.add_edge(START, "look")
    g.add_edge("look", "plan")
    g.add_edge("plan", END)
    return g.compile(checkpointer=checkpointer)


def side(state: State) -> dict:
    return {"side": ("hotel", (3, "nights"))}


def ask(state: State) -> dict:
    time.sleep(0.05)  # side finishes first (LangGraph runs the two in threads)
    answer = interrupt({"question": "Book it?", "pair": state["pair"]})
    return {"answer": kinds(answer), "seen": kinds({k: state[k] for k in ("pair", "trail")})}


def build_interrupt(checkpointer):
    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("side", side)
    g.add_node("ask", ask)
    g.add_edge(START, "plan")
    g.add_edge("plan", "side")
    g.add_edge("plan", "ask")
    g.add_edge("side", END)
    g.add_edge("ask", END)
    return g.compile(checkpointer=checkpointer)


def mark(state: State) -> dict:
    return {"side": ("inner", (1,))}


def build_subgraph(checkpointer):
    inner = StateGraph(State)
    inner.add_node("mark", mark)
    inner.add_node("ask", ask)
    inner.add_edge(START, "mark")
    inner.add_edge("mark", "ask")
    g = StateGraph(State)
    g.add_node("plan", plan)
    g.add_node("inner", inner.compile())
    g.add_node("look", look)
    g.add_edge(START, "plan")
    g.add_edge("plan", "inner")
    g.add_edge("inner", "look")
    g.add_edge("look", END)
    return g.compile(checkpointer=checkpointer)


def lookup(state: State) -> dict:
    return {"pair": (state["city"], (48.85, 2.35)), "point": Point(1.5, (4, 5))}


def build_cached(checkpointer):
    g = StateGraph(State)
    g.add_node("lookup", lookup, cache_policy=CachePolicy(key_func=lambda s: s["city"]))
    g.add_node("look", look)
    g.add_edge(START, "lookup")
    g.add_edge("lookup", "look")
    g.add_edge("look", END)
    return g.compile(checkpointer=checkpointer, cache=InMemoryCache())


class Trip(BaseModel):
    coords: tuple[int, int] = (0, 0)
    anything: Any = None
    seen: Any = None


def report(state: Trip) -> dict:
    return {"seen": kinds({"coords": state.coords, "anything": state.anything})}


def locate(state: Trip) -> dict:
    return {"coords": (1, 2), "anything": (3, (4,))}


def build_pydantic(checkpointer):
    g = StateGraph(Trip)
    g.add_node("report", report)
    g.add_node("locate", locate)
    g.add_edge(START, "report")
    g.add_edge("report", "locate")
    g.add_edge("locate", END)
    return g.compile(checkpointer=checkpointer)


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "two_runs",
        "calls": [
            {"input": {"city": "Paris"}},
            {"input": {"city": "Lyon"}, "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "interrupt",
        "build": "build_interrupt",
        "calls": [
            {
                "input": {"city": "Paris"},
                "api": "stream",
                "kwargs": UPDATES_AND_VALUES,
                "unordered": True,
            },
            {
                "input": Command(resume=("yes", (2, "adults"))),
                "api": "stream",
                "kwargs": UPDATES_AND_VALUES,
                "unordered": True,
            },
        ],
    },
    {
        "name": "subgraph",
        "build": "build_subgraph",
        "calls": [
            {"input": {"city": "Paris"}, "api": "stream", "kwargs": {"subgraphs": True}},
            {
                "input": Command(resume="yes"),
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "values"], "subgraphs": True},
            },
        ],
    },
    {
        "name": "cached",
        "build": "build_cached",
        "calls": [
            {"input": {"city": "Paris"}},
            {"input": {"city": "Paris"}, "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "pydantic",
        "build": "build_pydantic",
        "calls": [
            {"input": {}},
            {"input": {"seen": "again"}, "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
]
