"""The server's HTTP request counts and latencies, as LangGraph's server keeps them
(``langgraph_api.http_metrics``): per method, route template and status, for ``/metrics``.

A request is counted once its response is over (a stream when it closes), under the template of
the route that took it (``/threads/{thread_id}/runs``, never an id). Requests no route took (an
unknown path, a route rewind does not serve, a request the API key or the body limit refused
before routing) are not counted, nor the meta routes LangGraph leaves out (``/ok``, ``/info``,
``/metrics``, ``/docs``, ``/openapi.json``; ``/`` is counted, as there).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LATENCY_BUCKETS", "HttpMetrics", "HttpMetricsMiddleware"]

LATENCY_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))
"""Upper bounds (seconds) of the latency histogram's buckets, LangGraph's."""

_FILTERED = ("/ok", "/info", "/metrics", "/docs", "/openapi.json")
_MAX_COUNTS = 5000  # distinct (method, path, status) kept, as LangGraph bounds them
_MAX_HISTOGRAMS = 1000  # distinct (method, path)


@dataclass(slots=True)
class Histogram:
    """One route's latencies: how many fell in each bucket (not cumulative), their sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: float = 0.0
    count: int = 0


class HttpMetrics:
    """Counts of this process's requests since it started."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        """Requests per (method, route template, status)."""
        self.latencies: dict[tuple[str, str], Histogram] = {}
        """Latencies per (method, route template)."""

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one request that ``path``'s route answered with ``status``."""
        if path.endswith(_FILTERED):
            return
        key = (method, path, status)
        if key not in self.counts and len(self.counts) >= _MAX_COUNTS:
            return
        histogram = self.latencies.get((method, path))
        if histogram is None:
            if len(self.latencies) >= _MAX_HISTOGRAMS:
                return
            histogram = self.latencies[(method, path)] = Histogram()
        self.counts[key] += 1
        index = next(i for i, bound in enumerate(LATENCY_BUCKETS) if seconds <= bound)
        histogram.buckets[index] += 1
        histogram.total += seconds
        histogram.count += 1


class HttpMetricsMiddleware:
    """Records each request a route took in :class:`HttpMetrics` (the app's outermost layer,
    so the status is the one the client got)."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.monotonic()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if isinstance(path, str):
                method = scope["method"]
                self.metrics.record(method, path, status, time.monotonic() - started)
