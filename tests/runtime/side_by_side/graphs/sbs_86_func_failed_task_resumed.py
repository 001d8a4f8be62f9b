"""Functional API: a task call that failed runs again when the workflow resumes.

A weather workflow asks a flaky forecast service for each city, keeps going when a call fails
(it reports the error, with the note LangGraph adds to it: "During task with name ... and id
..."), and stops at ``interrupt()`` for a review. Resumed, the workflow runs again from the
start: a call that finished is answered from the checkpoint, and one that failed is made again
(LangGraph keeps only finished tasks' results for a resume), under the same task id.

* ``review``: one city; its forecast fails once; resumed, it is asked again and succeeds.
* ``asked_again``: its forecast fails twice; a resume with ``None`` repeats the question (the
  call fails again), then ``Command(resume=...)`` gets the forecast.
* ``several_cities``: the same task called once per city, two of the calls fail: only those
  two run again.
* ``retries_spent``: ``alerts`` has a retry policy of two attempts, both fail; resumed, the call
  gets two attempts again.
* ``same_error_each_time``: ``radar`` raises one prebuilt error object at each attempt: it
  carries a note per attempt, across runs too.
* ``nested``: ``trip`` calls ``geocode`` then ``forecast``, whose error fails ``trip``; resumed,
  ``trip`` runs again, ``geocode`` is answered from the checkpoint and ``forecast`` runs again.
* ``failed_run_resumed``: a workflow that does not catch the error fails (noted by the task and
  the workflow); invoked again with ``None``, it resumes and the forecast is asked again.

Each workflow (and ``trip``) pauses after its last call: under ``astream_events``, LangGraph
hands the graph's ``updates`` chunk of a sync task's end to the stream a moment after the task
ends (see sbs_42).
"""

import time

from langgraph.func import entrypoint, task
from langgraph.types import Command, RetryPolicy, interrupt

_calls: dict[str, int] = {}


def reset() -> None:
    _calls.clear()
    MAINTENANCE.__notes__ = []
    MAINTENANCE.__traceback__ = None


def _count(name: str) -> int:
    _calls[name] = _calls.get(name, 0) + 1
    return _calls[name]


class ServiceDown(Exception):
    pass


MAINTENANCE = ServiceDown("radar under maintenance")
"""The error the radar client raises while down (one object, raised each time)."""


def _failure(exc: Exception) -> dict:
    return {"error": str(exc), "notes": list(getattr(exc, "__notes__", []))}


@task
def geocode(city: str) -> str:
    _count(f"geocode:{city}")
    return f"{city} at {len(city)}N"


@task
def forecast(city: str, outages: int) -> str:
    n = _count(f"forecast:{city}")
    if n <= outages:
        raise ServiceDown(f"forecast service down for {city} (call {n})")
    return f"sunny in {city}"


@task(
    retry_policy=RetryPolicy(
        max_attempts=2, retry_on=ServiceDown, initial_interval=0.001, jitter=False
    )
)
def alerts(city: str, outages: int) -> str:
    n = _count(f"alerts:{city}")
    if n <= outages:
        raise ServiceDown(f"alerts service down for {city} (attempt {n})")
    return f"no alerts for {city}"


@task(
    retry_policy=RetryPolicy(
        max_attempts=2, retry_on=ServiceDown, initial_interval=0.001, jitter=False
    )
)
def radar(city: str, outages: int) -> str:
    if _count(f"radar:{city}") <= outages:
        raise MAINTENANCE
    return f"clear radar over {city}"


@task
def trip(city: str, outages: int) -> str:
    place = geocode(city).result()
    report = forecast(city, outages).result()
    time.sleep(0.05)  # see the module's docstring
    return f"{place}: {report}"


SERVICES = {"forecast": forecast, "alerts": alerts, "radar": radar, "trip": trip}


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def weather(request: dict) -> dict:
        service = SERVICES[request.get("service", "forecast")]
        report = {}
        for city, outages in request["cities"].items():
            try:
                report[city] = service(city, outages).result()
            except ServiceDown as exc:
                report[city] = _failure(exc)
        time.sleep(0.05)  # see the module's docstring
        review = interrupt({"question": "Send this report?", "report": report})
        return {"report": report, "review": review, "calls": dict(sorted(_calls.items()))}

    return weather


def build_uncaught(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def weather(city: str) -> dict:
        place = geocode(city).result()
        report = forecast(city, 1).result()
        time.sleep(0.05)  # see the module's docstring
        return {"place": place, "report": report, "calls": dict(sorted(_calls.items()))}

    return weather


UPDATES_AND_VALUES = {"stream_mode": ["updates", "values"]}

SCENARIOS = [
    {
        "name": "review",
        "calls": [{"input": {"cities": {"Paris": 1}}}, {"input": Command(resume="send it")}],
    },
    {
        "name": "asked_again",
        "calls": [
            {"input": {"cities": {"Oslo": 2}}, "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": None, "api": "stream", "kwargs": UPDATES_AND_VALUES},
            {"input": Command(resume="ok"), "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "several_cities",
        "calls": [
            {"input": {"cities": {"Paris": 1, "Oslo": 0, "Rome": 1}}},
            {"input": Command(resume="ok"), "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "retries_spent",
        "calls": [
            {"input": {"service": "alerts", "cities": {"Lima": 2}}},
            {"input": Command(resume="ok")},
        ],
    },
    {
        "name": "same_error_each_time",
        "calls": [
            {"input": {"service": "radar", "cities": {"Kyiv": 4}}},
            {"input": None},
            {"input": Command(resume="ok")},
        ],
    },
    {
        "name": "nested",
        "calls": [
            {"input": {"service": "trip", "cities": {"Nice": 1}}},
            {"input": Command(resume="ok"), "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
    {
        "name": "failed_run_resumed",
        "build": "build_uncaught",
        "calls": [
            {"input": "Bern"},
            {"input": None, "api": "stream", "kwargs": UPDATES_AND_VALUES},
        ],
    },
]
