"""Node-level error handlers: a failed node handed to the node that handles it.

A trip planner looks up the weather and the hotels of a city, then writes a summary. The
weather service is flaky: ``weather`` has an error handler (``add_node(..., error_handler=)``)
that gets the failure through a parameter ``error: NodeError`` and either recovers with an
update or routes with ``Command(goto=...)``. The handler runs in the same step as the failed
node, after its retries are spent, as the node ``__error_handler__weather``.

* ``recovers``: the handler writes a fallback forecast and goes on to ``summary``.
* ``routes``: the handler sends the run to ``apologize`` instead (streamed: updates, values,
  tasks).
* ``after_retries``: ``weather`` retries three times (a ``RetryPolicy``) before its handler
  runs; the handler reports the attempts.
* ``handler_fails``: the handler itself raises: the run fails with the handler's error, and the
  state shows the failed ``weather`` task still to run.
* ``parallel``: ``weather`` and ``hotels`` run in one step; ``hotels`` finishes, ``weather``
  fails after it and is handled in that step.
* ``defaults``: ``set_node_defaults(error_handler=...)`` handles every node without its own
  handler (``hotels`` here), while ``weather`` keeps its own.
* ``async_nodes``: async nodes and an async handler, under ``astream`` (debug and
  checkpoints).
* ``ends_without_goto``: a handler that returns a plain update ends the path there (the failed
  node has no edges to follow).
* ``pregel_map``: a low-level ``Pregel`` program with ``node_error_handler_map``. Its public
  ``NodeBuilder`` gives a node no handler, so LangGraph treats a failure of a node named there
  as handled with nothing to handle it: the node's task ends without writes and the run goes
  on (``audit``, the node named as handler, runs as the regular node it is).
"""

import operator
import time
from typing import Annotated, TypedDict

from langgraph.channels import EphemeralValue, LastValue
from langgraph.errors import NodeError
from langgraph.graph import END, START, StateGraph
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.types import Command, RetryPolicy

_calls: dict[str, int] = {}


def reset() -> None:
    _calls.clear()


def _count(name: str) -> int:
    _calls[name] = _calls.get(name, 0) + 1
    return _calls[name]


class ServiceDown(Exception):
    pass


class Trip(TypedDict, total=False):
    city: str
    forecast: str
    hotels: list[str]
    notes: Annotated[list[str], operator.add]
    summary: str


def weather(state: Trip) -> dict:
    n = _count("weather")
    if state["city"] != "Lisbon":
        raise ServiceDown(f"weather service down for {state['city']} (call {n})")
    return {"forecast": "sunny"}


def hotels(state: Trip) -> dict:
    if state["city"] == "Atlantis":
        raise LookupError("no hotels under the sea")
    return {"hotels": [f"{state['city']} Inn", f"Grand {state['city']}"]}


def summary(state: Trip) -> dict:
    hotels = state.get("hotels", [])
    return {"summary": f"{state['city']}: {state.get('forecast')}, {len(hotels)} hotels"}


def apologize(state: Trip) -> dict:
    return {"summary": f"Sorry, no forecast for {state['city']}"}


def fallback_forecast(state: Trip, error: NodeError) -> Command:
    """Recover: a fallback forecast, then on to the summary."""
    return Command(
        update={"forecast": "unknown", "notes": [f"{error.node} failed: {error.error}"]},
        goto="summary",
    )


def route_to_apology(state: Trip, error: NodeError) -> Command:
    return Command(
        update={"notes": [f"{error.node}: {type(error.error).__name__}"]}, goto="apologize"
    )


def report_attempts(state: Trip, error: NodeError) -> Command:
    return Command(
        update={"notes": [f"gave up after {_calls['weather']} attempts: {error.error}"]},
        goto="summary",
    )


def broken_handler(state: Trip, error: NodeError) -> dict:
    raise RuntimeError(f"could not handle {error.node}: {error.error}")


def plain_update(state: Trip, error: NodeError) -> dict:
    return {"notes": [f"handled {error.node} ({state['city']})"]}


def any_failure(state: Trip, error: NodeError) -> dict:
    return {"notes": [f"default handler: {error.node} raised {type(error.error).__name__}"]}


def _sequence(handler, retry=None) -> StateGraph:
    builder = StateGraph(Trip)
    builder.add_node("weather", weather, error_handler=handler, retry_policy=retry)
    builder.add_node("summary", summary)
    builder.add_node("apologize", apologize)
    builder.add_edge(START, "weather")
    builder.add_edge("weather", "summary")
    builder.add_edge("summary", END)
    builder.add_edge("apologize", END)
    return builder


def build(checkpointer):
    return _sequence(fallback_forecast).compile(checkpointer=checkpointer)


def build_routes(checkpointer):
    return _sequence(route_to_apology).compile(checkpointer=checkpointer)


def build_after_retries(checkpointer):
    retry = RetryPolicy(max_attempts=3, initial_interval=0.001, jitter=False, retry_on=ServiceDown)
    return _sequence(report_attempts, retry).compile(checkpointer=checkpointer)


def build_handler_fails(checkpointer):
    return _sequence(broken_handler).compile(checkpointer=checkpointer)


def build_ends_without_goto(checkpointer):
    return _sequence(plain_update).compile(checkpointer=checkpointer)


def slow_weather(state: Trip) -> dict:
    time.sleep(0.05)  # fails after ``hotels`` finishes: the stream's order is the same each run
    return weather(state)


def build_parallel(checkpointer):
    builder = StateGraph(Trip)
    builder.add_node("weather", slow_weather, error_handler=plain_update)
    builder.add_node("hotels", hotels)
    builder.add_node("summary", summary)
    builder.add_edge(START, "weather")
    builder.add_edge(START, "hotels")
    builder.add_edge("hotels", "summary")
    return builder.compile(checkpointer=checkpointer)


def slow_hotels(state: Trip) -> dict:
    time.sleep(0.05)  # fails after ``weather`` does, each run
    return hotels(state)


def build_defaults(checkpointer):
    builder = StateGraph(Trip).set_node_defaults(error_handler=any_failure)
    builder.add_node("weather", weather, error_handler=fallback_forecast)
    builder.add_node("hotels", slow_hotels)
    builder.add_node("summary", summary)
    builder.add_edge(START, "weather")
    builder.add_edge(START, "hotels")
    builder.add_edge("summary", END)
    return builder.compile(checkpointer=checkpointer)


async def aweather(state: Trip) -> dict:
    return weather(state)


async def asummary(state: Trip) -> dict:
    return summary(state)


async def afallback(state: Trip, error: NodeError) -> Command:
    return fallback_forecast(state, error)


def build_async(checkpointer):
    builder = StateGraph(Trip)
    builder.add_node("weather", aweather, error_handler=afallback)
    builder.add_node("summary", asummary)
    builder.add_edge(START, "weather")
    builder.add_edge("weather", "summary")
    return builder.compile(checkpointer=checkpointer)


def build_pregel(checkpointer):
    forecast = NodeBuilder().subscribe_only("city").do(lambda city: weather({"city": city}))
    audit = NodeBuilder().subscribe_only("city").do(lambda city: f"audited {city}")
    return Pregel(
        nodes={
            "forecast": forecast.write_to("forecast"),
            "audit": audit.write_to("audit"),
        },
        channels={
            "city": EphemeralValue(str),
            "forecast": LastValue(dict),
            "audit": LastValue(str),
        },
        input_channels="city",
        output_channels=["forecast", "audit"],
        node_error_handler_map={"forecast": "audit"},
        checkpointer=checkpointer,
    )


ALL_MODES = {"stream_mode": ["updates", "values", "tasks"]}
# (a step of two tasks: its ``tasks`` chunks reach ``astream_events`` in an order of their own)
TWO_MODES = {"stream_mode": ["updates", "values"]}
DEBUG = {"stream_mode": ["debug", "checkpoints"]}

SCENARIOS = [
    {
        "name": "recovers",
        "calls": [{"input": {"city": "Oslo"}}, {"input": {"city": "Lisbon"}}],
    },
    {
        "name": "routes",
        "build": "build_routes",
        "calls": [{"input": {"city": "Oslo"}, "api": "stream", "kwargs": ALL_MODES}],
    },
    {
        "name": "after_retries",
        "build": "build_after_retries",
        "calls": [{"input": {"city": "Bergen"}, "api": "stream", "kwargs": ALL_MODES}],
    },
    {
        "name": "handler_fails",
        "build": "build_handler_fails",
        "calls": [
            {"input": {"city": "Oslo"}, "api": "stream", "kwargs": ALL_MODES},
            {"input": {"city": "Lisbon"}},
        ],
    },
    {
        "name": "parallel",
        "build": "build_parallel",
        "calls": [
            {"input": {"city": "Oslo"}, "api": "stream", "kwargs": TWO_MODES, "unordered": True}
        ],
    },
    {
        "name": "defaults",
        "build": "build_defaults",
        "calls": [
            {
                "input": {"city": "Atlantis"},
                "api": "stream",
                "kwargs": TWO_MODES,
                "unordered": True,
            },
        ],
    },
    {
        "name": "async_nodes",
        "build": "build_async",
        "calls": [
            {"input": {"city": "Oslo"}, "api": "astream", "kwargs": DEBUG},
            {"input": {"city": "Lisbon"}, "api": "ainvoke"},
        ],
    },
    {
        "name": "ends_without_goto",
        "build": "build_ends_without_goto",
        "calls": [
            {"input": {"city": "Oslo"}, "api": "stream", "kwargs": {"stream_mode": "updates"}}
        ],
    },
    {
        "name": "pregel_map",
        "build": "build_pregel",
        # Its nodes run in one step, in LangGraph's worker threads: the order of their events
        # varies from run to run (identical in two of three runs through astream_events).
        "events": False,
        "calls": [
            {"input": "Oslo", "api": "stream", "kwargs": TWO_MODES, "unordered": True},
            {"input": "Lisbon"},
        ],
    },
]
