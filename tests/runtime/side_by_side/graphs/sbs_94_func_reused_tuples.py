"""Functional API: a finished task's result, reused on a resume, is what the checkpoint holds.

A trip planner's tasks look up coordinates and routes, returned as tuples (plain, nested in
lists and dicts, named tuples, fields of a dataclass and of a pydantic model), then the workflow
asks for approval with ``interrupt()``. Resumed, the workflow runs again from the start and
each finished task is answered from the checkpoint: LangGraph's serializer stores tuples as
lists, so the resumed run sees lists where the first run saw tuples, except where a class
rebuilt from its fields makes them tuples again (a named tuple is rebuilt, its fields' tuples
as lists; a pydantic model validates a ``tuple`` field back into one); a set of tuples cannot
be rebuilt (its members come back as lists) and is given back as a list. The workflow reports
each result with the type of every container in it (``kinds``), since the results themselves
compare alike as tuples and lists.

* ``approve``: every kind of result; resumed with ``Command(resume=...)``.
* ``asked_again``: resumed with ``None`` (the interrupt is asked again: the results are reused
  twice), then answered, as a stream of ``updates`` and ``values``.
* ``cached``: a task with a cache policy, called in two runs of a thread: the second run gets
  the cached result, which LangGraph's cache stores through the same serializer. The workflow
  pauses after its call: under ``astream_events``, LangGraph hands the graph's ``updates``
  chunk of a sync task's end to the stream a moment after the task ends (see sbs_42).
"""

import dataclasses
import time
from typing import Any, NamedTuple

from langgraph.cache.memory import InMemoryCache
from langgraph.func import entrypoint, task
from langgraph.types import CachePolicy, Command, interrupt
from pydantic import BaseModel


class Point(NamedTuple):
    lat: float
    lon: float


class Leg(NamedTuple):
    start: Point
    stops: tuple


@dataclasses.dataclass
class Route:
    name: str
    waypoints: tuple
    legs: list


class Forecast(BaseModel):
    city: str
    range: tuple[int, int]
    extremes: Any = None


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


@task
def coordinates(city: str) -> tuple:
    return (48.85, 2.35) if city == "Paris" else (51.5, -0.12)


@task
def bounding_box(city: str) -> list:
    return [(48.8, 2.2), (48.9, 2.5)]


@task
def distances(city: str) -> dict:
    return {"London": (344, "km"), "Rome": (1105, ("km", "by road"))}


@task
def landmark(city: str) -> Point:
    return Point(48.8584, 2.2945)


@task
def first_leg(city: str) -> Leg:
    return Leg(Point(48.85, 2.35), ("Lyon", "Turin"))


@task
def route(city: str) -> Route:
    return Route("south", (("Paris", "Lyon"), ("Lyon", "Nice")), [(1, 2)])


@task
def forecast(city: str) -> Forecast:
    return Forecast(city=city, range=(12, 19), extremes=(3, 31))


@task
def visited(city: str) -> set:
    return {("Paris", 2019)}


@task
def nothing(city: str) -> tuple:
    return ()


LOOKUPS = {
    "coordinates": coordinates,
    "bounding_box": bounding_box,
    "distances": distances,
    "landmark": landmark,
    "first_leg": first_leg,
    "route": route,
    "forecast": forecast,
    "visited": visited,
    "nothing": nothing,
}


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def plan_trip(city: str) -> dict:
        found = {name: lookup(city).result() for name, lookup in LOOKUPS.items()}
        answer = interrupt({"question": f"Book the trip to {city}?", "found": kinds(found)})
        return {"answer": answer, "found": kinds(found)}

    return plan_trip


@task(cache_policy=CachePolicy())
def cached_route(city: str) -> tuple:
    return (("Paris", "Lyon"), Point(45.76, 4.84))


def build_cached(checkpointer):
    @entrypoint(checkpointer=checkpointer, cache=InMemoryCache())
    def plan_trip(city: str) -> dict:
        found = cached_route(city).result()
        time.sleep(0.05)  # see the module's docstring
        return {"route": kinds(found)}

    return plan_trip


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "approve",
        "calls": [{"input": "Paris"}, {"input": Command(resume="book it")}],
    },
    {
        "name": "asked_again",
        "calls": [
            {"input": "Paris", "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": None, "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": Command(resume="ok"), "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "cached",
        "build": "build_cached",
        "calls": [{"input": "Paris"}, {"input": "Paris", "api": "ainvoke"}],
    },
]
