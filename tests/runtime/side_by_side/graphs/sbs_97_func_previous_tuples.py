"""Functional API: an entrypoint's ``previous`` is what the checkpoint holds.

A trip planner's entrypoint returns what it planned (tuples plain and nested, a named tuple
with a tuple field, a dataclass with a tuple field, a pydantic model with a ``tuple`` field),
and the thread's next run gets it as ``previous``. LangGraph's checkpointer stores it through
its msgpack serializer: the next run sees lists where the first returned tuples, except where
a class rebuilt from its fields makes them tuples again (a named tuple is rebuilt, its
fields' tuples as lists; a pydantic model validates its ``tuple`` field back into one; a
dataclass's tuple field becomes a list). What a run returns, it returns as it is. The
entrypoint reports the type of every container in ``previous`` (``kinds``), since tuples and
lists compare alike; ``get_state`` and the history after each call show the stored form.

* ``three_runs``: three runs of a thread, the last two streamed as ``updates`` and
  ``values``.
* ``final``: ``entrypoint.final`` returns one value and saves another (a tuple): the next
  run's ``previous`` is the saved one, as stored.
* ``interrupted``: the entrypoint asks with ``interrupt()`` before it returns; resumed, it
  still sees ``previous`` from the run before, as stored; the resume value as given.
"""

import dataclasses
from typing import Any, NamedTuple

from langgraph.func import entrypoint
from langgraph.types import Command, interrupt
from pydantic import BaseModel


class Point(NamedTuple):
    lat: float
    span: tuple


@dataclasses.dataclass
class Route:
    name: str
    waypoints: tuple


class Forecast(BaseModel):
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


def planned(city: str) -> tuple:
    return (
        city,
        (48.85, 2.35),
        Point(1.5, (4, 5)),
        Route("south", (("Paris", "Lyon"),)),
        Forecast(range=(12, 19), extremes=(3, 31)),
        [("Lyon", 1)],
    )


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def plan_trip(city: str, *, previous: Any = None) -> tuple:
        return (*planned(city), {"previous": kinds(previous)})

    return plan_trip


def build_final(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def plan_trip(city: str, *, previous: Any = None) -> entrypoint.final[dict, tuple]:
        return entrypoint.final(
            value={"city": city, "previous": kinds(previous)}, save=planned(city)
        )

    return plan_trip


def build_interrupted(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def plan_trip(city: str, *, previous: Any = None) -> tuple:
        answer = interrupt({"question": f"Plan {city}?", "previous": kinds(previous)})
        return (*planned(city), {"previous": kinds(previous), "answer": kinds(answer)})

    return plan_trip


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "three_runs",
        "calls": [
            {"input": "Paris"},
            {"input": "Lyon", "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": "Nice", "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "final",
        "build": "build_final",
        "calls": [{"input": "Paris"}, {"input": "Lyon"}],
    },
    {
        "name": "interrupted",
        "build": "build_interrupted",
        "calls": [
            {"input": "Paris"},
            {"input": Command(resume=("yes", 1))},
            {"input": "Lyon"},
            {"input": Command(resume="no"), "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
]
