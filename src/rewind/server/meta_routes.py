"""The health checks (``GET /`` and ``GET /ok``) and ``GET /metrics``, as LangGraph's server
answers them (``langgraph_api.api`` ``ok``, ``langgraph_api.api.meta`` ``meta_metrics``).

All three are open without the API key, as on LangGraph's server, where they are outside the
routes its auth middleware guards (a load balancer's probe and a Prometheus scrape send none).

Health: ``{"ok": true, "services": {"database": "skipped"}}``; with ``?check_db=1`` the database
is read (the log's head position, in a read transaction), ``"healthy"`` if the read succeeded
within 3 seconds, else ``"unhealthy"`` with status 500 and ``"ok": false``.

Metrics (Prometheus text by default, ``?format=json`` for JSON), all of this process:

* ``lg_api_num_pending_runs``, ``lg_api_num_running_runs``: runs this server accepted that
  wait for their turn (a run before them on their thread, ``after_seconds``) and that execute;
  with ``--queue``, the run queue's rows in those statuses, every server's.
* ``lg_api_pending_runs_wait_time_max``, ``lg_api_pending_runs_wait_time_med``: the longest
  and the median time the pending runs have waited since they were created, in seconds (0 when
  none waits); ``lg_api_pending_unblocked_runs_wait_time_max``: the longest among those no
  running run of their thread holds back.
* ``lg_api_http_requests_total`` (counter, labels ``method``, ``path``: the route's template,
  ``status``) and ``lg_api_http_requests_latency_seconds`` (histogram, LangGraph's buckets):
  see :mod:`rewind.server.http_metrics` for what is counted.

JSON: ``{"queue": {"n_pending", "n_running", "pending_runs_wait_time_max_secs",
"pending_runs_wait_time_med_secs", "pending_unblocked_runs_wait_time_max_secs"}, "api":
{"http_requests_total": [{"method", "path", "status", "count"}, ...]}}`` (the waits ``null``
when no run is pending or running, as LangGraph's).

Not reported, as rewind has no such figure: LangGraph's worker gauges (``workers`` in JSON,
``lg_api_workers_*``: a LangGraph server runs runs in a fixed number of job slots; a rewind
server runs each run it accepts at once, and with ``--queue`` the workers are ``rewind worker``
processes whose ``--jobs`` no server knows), its connection pool gauges, and the labels naming
a LangSmith project, revision and deployment type.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from rewind.log.schema import log_head
from rewind.server.http_metrics import LATENCY_BUCKETS, HttpMetrics
from rewind.server.queued import QueuedRuns
from rewind.server.run_routes import _service
from rewind.server.service import Service

__all__ = ["OPEN_PATHS", "PROMETHEUS_CONTENT_TYPE", "queue_stats", "router"]

OPEN_PATHS = frozenset({"/", "/ok", "/metrics", "/info", "/docs", "/openapi.json"})
"""The paths the API key does not guard: LangGraph's server serves these outside its
authentication too (health, metrics, what the server is, the API's description)."""

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The exposition format's media type (prometheus_client's ``CONTENT_TYPE_LATEST``)."""

HEALTHCHECK_TIMEOUT = 3.0
"""Seconds the database read of ``?check_db=1`` may take (LangGraph's)."""

router = APIRouter()


@router.get("/")
@router.get("/ok")
async def ok(request: Request, check_db: int = Query(0)) -> JSONResponse:
    """Health: the process answers; with ``check_db=1``, the database answers a read too."""
    if not check_db:
        return JSONResponse({"ok": True, "services": {"database": "skipped"}})
    service = _service(request)
    try:
        await asyncio.wait_for(
            service.log._read(lambda conn: conn.execute(log_head.select()).all(), drain=False),
            HEALTHCHECK_TIMEOUT,
        )
    except Exception:
        return JSONResponse({"ok": False, "services": {"database": "unhealthy"}}, status_code=500)
    return JSONResponse({"ok": True, "services": {"database": "healthy"}})


@router.get("/metrics")
async def metrics(request: Request, format: str = "prometheus") -> Response:
    """The server's figures: Prometheus text, or JSON with ``format=json`` (any other format
    is Prometheus, as on LangGraph's server). See the module's documentation."""
    queue = await queue_stats(_service(request))
    http: HttpMetrics = request.app.state.http_metrics
    if format == "json":
        requests = [
            {"method": method, "path": path, "status": status, "count": count}
            for (method, path, status), count in http.counts.items()
        ]
        return JSONResponse({"queue": queue, "api": {"http_requests_total": requests}})
    return PlainTextResponse("".join(_exposition(queue, http)), media_type=PROMETHEUS_CONTENT_TYPE)


async def queue_stats(service: Service) -> dict[str, Any]:
    """LangGraph's queue figures (``Runs.stats``) over this server's runs, or the run queue's
    with ``--queue``."""
    runs = service.runs
    in_flight: list[tuple[str, str, float]]  # status, thread, created (Unix seconds)
    if isinstance(runs, QueuedRuns):
        rows = await runs.queue.in_flight(("pending", "running"))
        in_flight = [(r.status, r.thread_id, r.created_at / 1e6) for r in rows]
    else:
        in_flight = [
            (r.status, r.thread_id, r.created_at.timestamp())
            for r in list(runs.runs.values())
            if r.status in ("pending", "running")
        ]
    now = time.time()
    running = {thread for status, thread, _ in in_flight if status == "running"}
    pending = [(thread, now - made) for status, thread, made in in_flight if status == "pending"]
    waits = [wait for _, wait in pending]
    unblocked = [wait for thread, wait in pending if thread not in running]
    return {
        "n_pending": len(pending),
        "n_running": len(in_flight) - len(pending),
        "pending_runs_wait_time_max_secs": max(waits) if waits else None,
        "pending_runs_wait_time_med_secs": statistics.median(waits) if waits else None,
        "pending_unblocked_runs_wait_time_max_secs": max(unblocked) if unblocked else None,
    }


def _exposition(queue: dict[str, Any], http: HttpMetrics) -> Iterable[str]:
    """Prometheus's text exposition format (version 0.0.4)."""
    gauges = (
        ("num_pending_runs", "n_pending", "The number of runs currently pending"),
        ("num_running_runs", "n_running", "The number of runs currently running"),
        (
            "pending_runs_wait_time_max",
            "pending_runs_wait_time_max_secs",
            "The maximum time a run has been pending, in seconds",
        ),
        (
            "pending_runs_wait_time_med",
            "pending_runs_wait_time_med_secs",
            "The median pending wait time across runs, in seconds",
        ),
        (
            "pending_unblocked_runs_wait_time_max",
            "pending_unblocked_runs_wait_time_max_secs",
            "The maximum time a run has been pending excluding runs blocked by another run "
            "on the same thread, in seconds",
        ),
    )
    for name, key, help_ in gauges:
        yield f"# HELP lg_api_{name} {help_}.\n# TYPE lg_api_{name} gauge\n"
        yield f"lg_api_{name} {_number(queue[key] or 0)}\n"
    if http.counts:
        yield "# HELP lg_api_http_requests_total Total number of HTTP requests.\n"
        yield "# TYPE lg_api_http_requests_total counter\n"
        for (method, path, status), count in http.counts.items():
            labels = _labels(method=method, path=path, status=str(status))
            yield f"lg_api_http_requests_total{{{labels}}} {count}\n"
    if http.latencies:
        name = "lg_api_http_requests_latency_seconds"
        yield f"# HELP {name} HTTP request latency in seconds.\n# TYPE {name} histogram\n"
        for (method, path), histogram in http.latencies.items():
            labels = _labels(method=method, path=path)
            seen = 0
            for bound, n in zip(LATENCY_BUCKETS, histogram.buckets, strict=True):
                seen += n
                le = "+Inf" if bound == float("inf") else _number(bound)
                yield f'{name}_bucket{{{labels},le="{le}"}} {seen}\n'
            yield f"{name}_sum{{{labels}}} {histogram.total:.6f}\n"
            yield f"{name}_count{{{labels}}} {histogram.count}\n"


def _labels(**values: str) -> str:
    escaped = (
        (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for k, v in values.items()
    )
    return ",".join(f'{k}="{v}"' for k, v in escaped)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
