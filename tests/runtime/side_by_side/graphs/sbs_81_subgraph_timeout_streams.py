"""A subgraph run inside a node with an idle timeout, streamed with and without
``subgraphs=True``: its custom writes are the timed node's progress only with it (whatever
modes are streamed, ``custom`` among them or not), a write it makes after the timed node timed
out is dropped, and under ``refresh_on="heartbeat"`` its writes are no progress (``sbs_80``
has the same graphs invoked).

Timing: the idle timeout is ``IDLE``; a talker writes every ``STEP`` (``IDLE / 6``),
``SIGNALS`` times. What is compared depends only on which of two timers is due first, with
``IDLE / 3`` between them at the least (only a loop running a timer later than that could find
both due at once): a write is due ``STEP`` after the one before, the idle timeout ``IDLE``
after it; a node that falls silent sleeps ``LONG``; a writer under ``refresh_on="heartbeat"``
writes its last chunk ``IDLE * 2 / 3`` in and sleeps ``LONG``, so that its idle timeout fires,
or, if the writes counted, its run timeout (``IDLE * 4 / 3``).

parent: START -> timed (a subgraph) -> END
talk:   START -> talker -> END         (writes, then returns)
silent: START -> falls_silent -> END   (two chunks, then silence; one more as it is cancelled)
writes: START -> three_writes -> END   (three chunks, then silence)
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import TimeoutPolicy

IDLE = 0.3
"""The timed node's idle timeout."""

STEP = IDLE / 6
"""How often a talker writes."""

SIGNALS = 10
"""How many chunks it writes."""

LONG = 3.0
"""How long a node that should time out sleeps (it is cancelled when it does)."""


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


async def talker(state: State) -> dict:
    writer = get_stream_writer()
    for i in range(SIGNALS):
        writer({"talker": i})
        await asyncio.sleep(STEP)
    return {"log": ["talker finished"]}


async def falls_silent(state: State) -> dict:
    writer = get_stream_writer()
    try:
        for i in range(2):
            writer({"silent": i})
            await asyncio.sleep(STEP)
        await asyncio.sleep(LONG)
    finally:
        writer("after")  # the timed node timed out: dropped
    return {"log": ["never"]}


async def three_writes(state: State) -> dict:
    writer = get_stream_writer()
    for i in range(3):
        writer({"writes": i})
        await asyncio.sleep(2 * STEP)
    await asyncio.sleep(LONG)
    return {"log": ["never"]}


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


def build_silent(checkpointer):
    silent = _one_node("falls_silent", falls_silent)
    return _parent(checkpointer, silent, TimeoutPolicy(idle_timeout=IDLE))


def build_heartbeat_only(checkpointer):
    policy = TimeoutPolicy(idle_timeout=IDLE, run_timeout=4 * IDLE / 3, refresh_on="heartbeat")
    return _parent(checkpointer, _one_node("three_writes", three_writes), policy)


INPUT = {"log": []}
MODES = ["custom", "updates"]


def _streamed(stream_mode, subgraphs: bool) -> dict:
    kwargs = {"stream_mode": stream_mode, **({"subgraphs": True} if subgraphs else {})}
    return {"input": INPUT, "api": "astream", "kwargs": kwargs}


# These calls choose subgraphs=True or not on purpose; made as streams of every mode with
# subgraphs=True they would all be the case that sbs_80's every-mode pass compares.
MODES_COMPARABLE = False

SCENARIOS = [
    {"name": "without_subgraphs", "calls": [_streamed(MODES, False)]},
    {"name": "with_subgraphs", "calls": [_streamed(MODES, True)]},
    {"name": "values_with_subgraphs", "calls": [_streamed("values", True)]},
    {"name": "silent_with_subgraphs", "build": "build_silent", "calls": [_streamed(MODES, True)]},
    {
        "name": "heartbeat_only_with_subgraphs",
        "build": "build_heartbeat_only",
        "calls": [_streamed(MODES, True)],
    },
]
