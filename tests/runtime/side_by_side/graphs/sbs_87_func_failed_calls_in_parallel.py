"""Async functional API: failed task calls made in parallel run again when the caller resumes.

A price check asks several shops for a quote at once (``asyncio.gather`` of async task calls,
``return_exceptions=True``), reports the quotes and the failures (with the note LangGraph adds:
"During task with name ... and id ..."), then stops at ``interrupt()`` for a review. Resumed,
the calls that finished are answered from the checkpoint and those that failed are made again.
Each call sleeps a little longer than the one before, so they end (and stream) in call order.

* ``parallel``: two of three shops fail; resumed, only those two are asked again.
* ``retries_spent``: ``stock`` has a retry policy of two attempts, both fail; resumed, the call
  gets two attempts again and succeeds.
* ``nested``: ``basket`` asks for two quotes in parallel and fails when one fails; resumed,
  ``basket`` runs again, its finished quote is answered from the checkpoint and its failed one
  is asked again.
* ``node``: a StateGraph node calls the task (LangGraph allows it), catches the failure and
  stops at ``interrupt()``; resumed, the node runs again and so does the failed call (which
  fails again: under ``astream_events``, LangGraph streams the ``updates`` chunk of a call made
  in a node at a moment that depends on its threads, see sbs_49).
"""

import asyncio
from typing import TypedDict

from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, RetryPolicy, interrupt

_calls: dict[str, int] = {}


def reset() -> None:
    _calls.clear()


def _count(name: str) -> int:
    _calls[name] = _calls.get(name, 0) + 1
    return _calls[name]


class ShopOffline(Exception):
    pass


def _outcome(result: object) -> object:
    if isinstance(result, ShopOffline):
        return {"error": str(result), "notes": list(getattr(result, "__notes__", []))}
    return result


@task
async def quote(shop: str, outages: int) -> float:
    n = _count(f"quote:{shop}")
    await asyncio.sleep(0.04 * len(shop))
    if n <= outages:
        raise ShopOffline(f"{shop} is offline (call {n})")
    return 10.0 * len(shop)


@task(
    retry_policy=RetryPolicy(
        max_attempts=2, retry_on=ShopOffline, initial_interval=0.001, jitter=False
    )
)
async def stock(shop: str, outages: int) -> int:
    n = _count(f"stock:{shop}")
    await asyncio.sleep(0.01)
    if n <= outages:
        raise ShopOffline(f"{shop} stock unknown (attempt {n})")
    return 3


@task
async def basket(shop: str, outages: int) -> float:
    _count(f"basket:{shop}")
    prices = await asyncio.gather(quote(f"{shop}-1", 0), quote(f"{shop}-22", outages))
    await asyncio.sleep(0.05)  # LangGraph streams a task's end a moment after it ends
    return sum(prices)


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    async def prices(request: dict) -> dict:
        ask = {"quote": quote, "stock": stock, "basket": basket}[request.get("ask", "quote")]
        shops = request["shops"]
        results = await asyncio.gather(
            *(ask(shop, outages) for shop, outages in shops.items()), return_exceptions=True
        )
        report = {shop: _outcome(result) for shop, result in zip(shops, results, strict=True)}
        await asyncio.sleep(0.05)  # LangGraph streams a task's end a moment after it ends
        review = interrupt({"question": "Buy?", "report": report})
        return {"report": report, "review": review, "calls": dict(sorted(_calls.items()))}

    return prices


class State(TypedDict, total=False):
    shop: str
    price: object
    review: str
    calls: dict


async def check_price(state: State) -> dict:
    try:
        price = await quote(state["shop"], 2)
    except ShopOffline as exc:
        price = _outcome(exc)
    await asyncio.sleep(0.05)  # LangGraph streams a task's end a moment after it ends
    review = interrupt({"question": "Buy?", "price": price})
    return {"price": price, "review": review, "calls": dict(sorted(_calls.items()))}


def build_graph(checkpointer):
    g = StateGraph(State)
    g.add_node("check_price", check_price)
    g.add_edge(START, "check_price")
    g.add_edge("check_price", END)
    return g.compile(checkpointer=checkpointer)


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "parallel",
        "calls": [
            {"input": {"shops": {"a": 1, "bb": 0, "ccc": 1}}, "api": "ainvoke"},
            {"input": Command(resume="yes"), "api": "astream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "retries_spent",
        "calls": [
            {"input": {"ask": "stock", "shops": {"dd": 2}}, "api": "ainvoke"},
            {"input": Command(resume="yes"), "api": "ainvoke"},
        ],
    },
    {
        "name": "nested",
        "calls": [
            {"input": {"ask": "basket", "shops": {"e": 1}}, "api": "astream"},
            {"input": Command(resume="yes"), "api": "astream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "node",
        "build": "build_graph",
        "calls": [
            {"input": {"shop": "ffff"}, "api": "ainvoke"},
            {"input": Command(resume="no"), "api": "astream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
]
