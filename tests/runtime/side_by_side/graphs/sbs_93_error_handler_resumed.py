"""Node error handlers across runs: a handler that asks a human, one that fails, in a subgraph.

A payment flow charges a card; the card service fails. The charge node's error handler
(``add_node(..., error_handler=)``) handles the failure:

* ``ask_human``: the handler calls ``interrupt()`` to ask whether to retry later; resumed with
  ``Command(resume=...)``, LangGraph runs the handler again (not the failed node), with the
  failure as its checkpoint kept it, and the run goes on where the handler sends it.
* ``handler_fails_then_resumed``: the handler fails the first time (the run fails with its
  error); invoked again with ``None``, the handler runs again, not the charge.
* ``in_subgraph``: the failing node and its handler are in a subgraph run as a node (streamed
  with ``subgraphs=True``).
* ``async_handler``: the interrupting handler is async, under ``astream``/``ainvoke``.
"""

import operator
from typing import Annotated, TypedDict

from langgraph.errors import NodeError
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt

_calls: dict[str, int] = {}


def reset() -> None:
    _calls.clear()


def _count(name: str) -> int:
    _calls[name] = _calls.get(name, 0) + 1
    return _calls[name]


class CardDeclined(Exception):
    pass


class Payment(TypedDict, total=False):
    amount: int
    log: Annotated[list[str], operator.add]


def charge(state: Payment) -> dict:
    n = _count("charge")
    raise CardDeclined(f"card declined for {state['amount']} (call {n})")


def receipt(state: Payment) -> dict:
    return {"log": ["receipt sent"]}


def ask_human(state: Payment, error: NodeError) -> Command:
    n = _count("handler")
    answer = interrupt(
        {"question": "Retry later?", "failed": error.node, "error": str(error.error)}
    )
    return Command(update={"log": [f"human said {answer} (handler run {n})"]}, goto="receipt")


def flaky_handler(state: Payment, error: NodeError) -> Command:
    n = _count("handler")
    if n == 1:
        raise RuntimeError("the handler's own service is down")
    return Command(update={"log": [f"handled {error.node}: {error.error}"]}, goto="receipt")


def _payments(handler) -> StateGraph:
    builder = StateGraph(Payment)
    builder.add_node("charge", charge, error_handler=handler)
    builder.add_node("receipt", receipt)
    builder.add_edge(START, "charge")
    return builder


def build(checkpointer):
    return _payments(ask_human).compile(checkpointer=checkpointer)


def build_flaky(checkpointer):
    return _payments(flaky_handler).compile(checkpointer=checkpointer)


def build_subgraph(checkpointer):
    inner = _payments(ask_human).compile()
    outer = StateGraph(Payment)
    outer.add_node("checkout", inner)
    outer.add_edge(START, "checkout")
    return outer.compile(checkpointer=checkpointer)


async def aask_human(state: Payment, error: NodeError) -> Command:
    return ask_human(state, error)


def build_async(checkpointer):
    return _payments(aask_human).compile(checkpointer=checkpointer)


MODES = {"stream_mode": ["updates", "values", "tasks"]}
SUBGRAPHS = {"stream_mode": ["updates", "values"], "subgraphs": True}

SCENARIOS = [
    {
        "name": "ask_human",
        "calls": [
            {"input": {"amount": 30}, "api": "stream", "kwargs": MODES},
            {"input": Command(resume="yes"), "api": "stream", "kwargs": MODES},
        ],
    },
    {
        "name": "handler_fails_then_resumed",
        "build": "build_flaky",
        "calls": [
            {"input": {"amount": 12}, "api": "stream", "kwargs": MODES},
            {"input": None, "api": "stream", "kwargs": MODES},
        ],
    },
    {
        "name": "in_subgraph",
        "build": "build_subgraph",
        "calls": [
            {"input": {"amount": 5}, "api": "stream", "kwargs": SUBGRAPHS},
            {"input": Command(resume="later"), "api": "stream", "kwargs": SUBGRAPHS},
        ],
    },
    {
        "name": "async_handler",
        "build": "build_async",
        "calls": [
            {"input": {"amount": 7}, "api": "astream", "kwargs": MODES},
            {"input": Command(resume="no"), "api": "ainvoke"},
        ],
    },
]
