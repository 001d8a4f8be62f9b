"""Trace and span ids derived from the log, shared by the runtime and telemetry.

Neutral ground, as :mod:`rewind.events`: the runtime uses it to make a running node's span the
current OpenTelemetry context (so spans a user opens inside the node nest under it), telemetry uses
it to build the spans of a run from its events. Both must agree without talking to each other, so
every id is a pure function of what the log records: a run's trace id is the caller's trace id
recorded in its ``run.started`` event, or else derived from the run id; a span's id is derived from
the run id and the seq of the event that opens the span.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["caller_span_id", "span_id_for", "trace_id_for"]


def trace_id_for(run_id: str, trace_context: Mapping[str, Any] | None = None) -> int:
    """The trace id of a run: its caller's (recorded at run start), else one derived from its id.

    A run id that is a UUID (as rewind gives them) is the trace id itself, so a trace found in a
    backend names its run; any other run id is hashed.
    """
    recorded = _hex(trace_context, "trace_id", 32)
    if recorded:
        return recorded
    return _uuid_int(run_id) or _digest(f"trace|{run_id}", 16)


@functools.lru_cache(maxsize=64)
def _uuid_int(run_id: str) -> int:
    # (cached: a running node's span asks for its run's trace id, node after node)
    try:
        return uuid.UUID(run_id).int
    except ValueError:
        return 0


def span_id_for(run_id: str, seq: int) -> int:
    """The id of the span opened by event ``seq`` of run ``run_id`` (never 0, as OTel requires)."""
    return _digest(f"span|{run_id}|{seq}", 8)


def caller_span_id(trace_context: Mapping[str, Any] | None) -> int:
    """The span a run was started in (recorded at run start), or 0 when there was none."""
    return _hex(trace_context, "span_id", 16)


def _hex(trace_context: Mapping[str, Any] | None, key: str, digits: int) -> int:
    if trace_context is None or not isinstance(trace_context, Mapping):
        return 0
    text = trace_context.get(key)
    if not isinstance(text, str) or len(text) != digits:
        return 0
    try:
        return int(text, 16)
    except ValueError:
        return 0


def _digest(key: str, size: int) -> int:
    value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=size).digest(), "big")
    return value or 1
