"""A subgraph run inside a node with an idle timeout: what counts as that node's progress.

Its nodes starting and ending count (callback events) however the run is made. Its custom
stream writes count only when the run is streamed with ``subgraphs=True`` (LangGraph's
subgraph then writes through the timed node's guarded stream writer; otherwise its writer
writes nowhere): here the calls are ``ainvoke``, where the timed node times out, and the
every-mode pass (streams with ``subgraphs=True``) makes the same calls, where it finishes; two
levels down too. Under ``refresh_on="heartbeat"``, a subgraph node's ``runtime.heartbeat()``
is the timed node's (its runtime inherits that heartbeat). Streams that choose
``subgraphs=True`` or not themselves are in ``sbs_81_subgraph_timeout_streams``.

Timing: the idle timeout is ``IDLE``; a talker signals every ``STEP`` (``IDLE / 6``),
``SIGNALS`` times, so it ends ``IDLE * 5 / 3`` after it starts. What is compared depends only
on which of two timers is due first, with ``IDLE * 2 / 3`` between them at the least (only a
loop running a timer later than that could find both due at once): a signal is due ``STEP``
after the one before, the timeout ``IDLE`` after it; when the writes do not count, the
talker's end is due ``IDLE * 2 / 3`` after the timeout.

parent: START -> timed (the subgraph ``talk``, or a function that invokes ``nest``) -> END
talk:   START -> talker -> END
nest:   START -> inner (the subgraph ``talk``) -> END
beat:   START -> beater -> END (heartbeats only)
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import TimeoutPolicy

IDLE = 0.3
"""The timed node's idle timeout."""

STEP = IDLE / 6
"""How often a node in the subgraph signals."""

SIGNALS = 10
"""How many signals it makes."""


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


async def talker(state: State) -> dict:
    writer = get_stream_writer()
    for i in range(SIGNALS):
        writer({"talker": i})
        await asyncio.sleep(STEP)
    return {"log": ["talker finished"]}


async def beater(state: State, runtime: Runtime) -> dict:
    for _ in range(SIGNALS):
        runtime.heartbeat()
        await asyncio.sleep(STEP)
    return {"log": ["beater finished"]}


def _one_node(name: str, action):
    g = StateGraph(State)
    g.add_node(name, action)
    g.add_edge(START, name)
    g.add_edge(name, END)
    return g.compile()


def _parent(checkpointer, timed, policy: TimeoutPolicy):
    g = StateGraph(State)
    g.add_node("timed", timed, timeout=policy)
    g.add_edge(START, "timed")
    g.add_edge("timed", END)
    return g.compile(checkpointer=checkpointer)


def build(checkpointer):
    return _parent(checkpointer, _one_node("talker", talker), TimeoutPolicy(idle_timeout=IDLE))


def build_nested(checkpointer):
    nest = _one_node("inner", _one_node("talker", talker))

    async def runs_nest(state: State) -> dict:
        return await nest.ainvoke(state)

    return _parent(checkpointer, runs_nest, TimeoutPolicy(idle_timeout=IDLE))


def build_beats(checkpointer):
    policy = TimeoutPolicy(idle_timeout=IDLE, refresh_on="heartbeat")
    return _parent(checkpointer, _one_node("beater", beater), policy)


INVOKED = {"input": {"log": []}, "api": "ainvoke"}

SCENARIOS = [
    {"name": "talk", "calls": [INVOKED]},
    {"name": "nested", "build": "build_nested", "calls": [INVOKED]},
    {"name": "beats", "build": "build_beats", "calls": [INVOKED]},
]
