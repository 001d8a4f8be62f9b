"""Per-attempt timeouts: a node past its run timeout (the run fails with ``NodeTimeoutError``;
what it streamed before the timeout stays, its state writes do not), an idle timeout kept off
by a stream writer's chunks and one that fires when they stop, ``refresh_on="heartbeat"``
(only ``runtime.heartbeat()`` counts), a timed-out attempt retried, a ``Send`` with its own
timeout, a timeout from ``set_node_defaults``, a timed node run through the sync API (refused),
and functional ``@task(timeout=...)``/``@entrypoint(timeout=...)``, caught and uncaught
(``NodeBuilder.set_timeout`` is in ``sbs_70_pregel_api``; subgraphs in timed nodes are in
``sbs_80``/``sbs_81``).

Timing: run timeouts that fire are ``RUN`` against sleeps of ``LONG`` (cancelled when they
fire, so they cost nothing); idle timeouts are ``IDLE``, and a node kept alive signals every
``STEP`` (``IDLE / 6``) for ``IDLE * 4 / 3``. What is compared depends only on which of two
timers is due first, with ``IDLE / 3`` between them at the least (only a loop running a timer
later than that could find both due at once): a signal is due ``STEP`` after the one before,
the idle timeout ``IDLE`` after it; a node that falls silent sleeps ``LONG``. The
heartbeat-only writer writes its last chunk ``IDLE * 2 / 3`` in, so that its idle timeout
fires at ``IDLE``, or, if its writes counted, its run timeout at ``IDLE * 4 / 3``. The harness
masks the elapsed time in messages.

START -> prep -> slow (run timeout) -> END
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.config import get_stream_writer
from langgraph.errors import NodeTimeoutError
from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy, Send, TimeoutPolicy

LONG = 3.0
"""How long a node that should time out sleeps (it is cancelled when it does)."""

RUN = 0.15
"""A run timeout that fires (a quick node it also bounds has no timer to wait for)."""

IDLE = 0.3
"""An idle timeout."""

STEP = IDLE / 6
"""How often a node kept alive signals."""

SIGNALS = 8
"""How many signals it makes (``SIGNALS * STEP`` is ``IDLE * 4 / 3``)."""

RETRY_ONCE = RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False)

_attempts: dict[str, int] = {}


def reset() -> None:
    _attempts.clear()


def _attempt(name: str) -> int:
    _attempts[name] = _attempts.get(name, 0) + 1
    return _attempts[name]


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


async def prep(state: State) -> dict:
    return {"log": ["prep"]}


async def slow(state: State) -> dict:
    get_stream_writer()({"slow": "started"})
    await asyncio.sleep(LONG)
    return {"log": ["slow finished"]}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("prep", prep)
    g.add_node("slow", slow, timeout=RUN)
    g.add_edge(START, "prep")
    g.add_edge("prep", "slow")
    g.add_edge("slow", END)
    return g.compile(checkpointer=checkpointer)


async def chatty(state: State) -> dict:  # longer than its idle timeout, never idle for it
    writer = get_stream_writer()
    for i in range(SIGNALS):
        writer({"chatty": i})
        await asyncio.sleep(STEP)
    return {"log": ["chatty finished"]}


async def falls_silent(state: State) -> dict:  # three chunks, then silence
    writer = get_stream_writer()
    for i in range(3):
        writer({"silent": i})
        await asyncio.sleep(STEP)
    await asyncio.sleep(LONG)
    return {"log": ["never"]}


def build_idle(checkpointer):
    g = StateGraph(State)
    idle = TimeoutPolicy(idle_timeout=IDLE)
    g.add_node("chatty", chatty, timeout=idle)
    g.add_node("falls_silent", falls_silent, timeout=idle)
    g.add_edge(START, "chatty")
    g.add_edge("chatty", "falls_silent")
    g.add_edge("falls_silent", END)
    return g.compile(checkpointer=checkpointer)


async def beats(state: State, runtime: Runtime) -> dict:  # heartbeats keep it alive
    for _ in range(SIGNALS):
        runtime.heartbeat()
        await asyncio.sleep(STEP)
    return {"log": ["beats finished"]}


async def only_writes(state: State) -> dict:  # chunks are no heartbeat: its idle timeout fires
    writer = get_stream_writer()
    for i in range(3):
        writer({"writes": i})
        await asyncio.sleep(2 * STEP)
    await asyncio.sleep(LONG)
    return {"log": ["never"]}


def build_heartbeat(checkpointer):
    g = StateGraph(State)
    policy = TimeoutPolicy(idle_timeout=IDLE, run_timeout=30, refresh_on="heartbeat")
    backstop = TimeoutPolicy(idle_timeout=IDLE, run_timeout=4 * IDLE / 3, refresh_on="heartbeat")
    g.add_node("beats", beats, timeout=policy)
    g.add_node("only_writes", only_writes, timeout=backstop)
    g.add_edge(START, "beats")
    g.add_edge("beats", "only_writes")
    g.add_edge("only_writes", END)
    return g.compile(checkpointer=checkpointer)


async def flaky(state: State) -> dict:  # its first attempt hangs, its second is quick
    attempt = _attempt("flaky")
    get_stream_writer()({"flaky attempt": attempt})
    if attempt == 1:
        await asyncio.sleep(LONG)
    return {"log": [f"flaky attempt {attempt}"]}


def build_retry(checkpointer):
    g = StateGraph(State)
    g.add_node(
        "flaky",
        flaky,
        timeout=RUN,
        retry_policy=RETRY_ONCE,
    )
    g.add_edge(START, "flaky")
    g.add_edge("flaky", END)
    return g.compile(checkpointer=checkpointer)


def fan_out(state: State) -> list[Send]:
    return [Send("worker", {"n": 0}, timeout=RUN), Send("worker", {"n": 1}, timeout=RUN)]


async def worker(state: State) -> dict:  # n=1 hangs on its first attempt
    attempt = _attempt(f"worker {state['n']}")
    if state["n"] == 1 and attempt == 1:
        await asyncio.sleep(LONG)
    return {"log": [f"worker {state['n']} attempt {attempt}"]}


def build_send(checkpointer):
    g = StateGraph(State)
    g.add_node("prep", prep)
    g.add_node(
        "worker",
        worker,
        retry_policy=RETRY_ONCE,
    )
    g.add_edge(START, "prep")
    g.add_conditional_edges("prep", fan_out, ["worker"])
    g.add_edge("worker", END)
    return g.compile(checkpointer=checkpointer)


def build_defaults(checkpointer):  # the graph's default timeout times slow; prep is quick
    g = StateGraph(State)
    g.set_node_defaults(timeout=RUN)
    g.add_node("prep", prep)
    g.add_node("slow", slow)
    g.add_edge(START, "prep")
    g.add_edge("prep", "slow")
    g.add_edge("slow", END)
    return g.compile(checkpointer=checkpointer)


def build_sync_api(checkpointer):  # a timed node cannot run through invoke/stream
    g = StateGraph(State)
    g.add_node("slow", slow, timeout=RUN)
    g.add_edge(START, "slow")
    g.add_edge("slow", END)
    return g.compile(checkpointer=checkpointer)


@task(timeout=RUN)
async def hang(x: int) -> int:
    await asyncio.sleep(LONG)
    return x


@task(timeout=TimeoutPolicy(run_timeout=2.0))
async def quick(x: int) -> int:
    return x + 1


@task(timeout=RUN, retry_policy=RETRY_ONCE)
async def hang_once(x: int) -> int:
    if _attempt("hang_once") == 1:
        await asyncio.sleep(LONG)
    return x * 10


def build_tasks(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    async def workflow(n: int) -> dict:
        out: dict = {"quick": await quick(n), "retried": await hang_once(n)}
        try:
            await hang(n)
        except NodeTimeoutError as exc:
            out["caught"] = [type(exc).__name__, exc.node, exc.kind, exc.timeout]
        return out

    return workflow


def build_task_uncaught(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    async def workflow(n: int) -> int:
        return await hang(n)

    return workflow


def build_entrypoint(checkpointer):
    @entrypoint(checkpointer=checkpointer, timeout=TimeoutPolicy(idle_timeout=IDLE))
    async def workflow(n: int) -> int:
        total = n
        for _ in range(SIGNALS):  # each task call is progress
            total = await quick(total)
            await asyncio.sleep(STEP)
        await asyncio.sleep(LONG)
        return total

    return workflow


ASYNC = {"input": {"log": []}, "api": "ainvoke"}
ONE = {"input": 1, "api": "ainvoke"}
STREAMED = {**ASYNC, "api": "astream", "kwargs": {"stream_mode": ["custom", "tasks", "updates"]}}

SCENARIOS = [
    {"name": "run_timeout", "calls": [ASYNC]},
    {"name": "run_timeout_stream", "calls": [STREAMED]},
    {"name": "idle", "build": "build_idle", "calls": [ASYNC]},
    {"name": "heartbeat", "build": "build_heartbeat", "calls": [ASYNC]},
    {"name": "retry", "build": "build_retry", "calls": [ASYNC]},
    {"name": "send", "build": "build_send", "calls": [{**ASYNC, "unordered": True}]},
    {"name": "defaults", "build": "build_defaults", "calls": [ASYNC]},
    {"name": "sync_api_refused", "build": "build_sync_api", "calls": [{"input": {"log": []}}]},
    {"name": "tasks", "build": "build_tasks", "calls": [ONE]},
    {"name": "task_uncaught", "build": "build_task_uncaught", "calls": [ONE]},
    {"name": "entrypoint_idle", "build": "build_entrypoint", "calls": [ONE]},
]
