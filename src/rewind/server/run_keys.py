"""The keys LangGraph's server puts into a run's config, so that rewind's runs carry them too
(and, through the config, the checkpoints' and the messages' metadata, as LangGraph's do).

When a run is created, its ``configurable`` gets the request's identity (``langgraph_request_id``,
``__request_start_time_ms__``), its delay (``__after_seconds__``) and the caller's (no user
without authentication: ``langgraph_auth_user`` null, ``langgraph_auth_user_id`` and
``user_id`` ``""``, no permissions); its metadata is the assistant's, then the thread's, then
the run's own. When it starts, its metadata gets the attempt and the server's description
(:func:`started_metadata`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LANGGRAPH_API_VERSION",
    "LANGGRAPH_VERSION",
    "created_configurable",
    "request_identity",
    "run_metadata",
    "started_metadata",
]

LANGGRAPH_API_VERSION = "0.16.7"
"""The version of LangGraph's server (``langgraph-api``) whose Platform API rewind mirrors."""

LANGGRAPH_VERSION = "1.2.22"
"""The version of LangGraph whose runtime rewind's mirrors."""

_PLAN = "enterprise"
"""The plan LangGraph's server names (its dev server: every feature, as rewind serves)."""

_HOST = "self-hosted"
"""Where LangGraph's server says it runs (neither LangSmith's cloud nor a BYOC one)."""


def created_configurable(
    *, request_id: str | None, started_ms: int | None, after_seconds: Any
) -> dict[str, Any]:
    """The ``configurable`` entries a run gets when it is created (``request_id``: the
    request's, ``None`` for a cron's firing; ``started_ms``: when the request came, in epoch
    milliseconds, none for a cron's firing)."""
    out: dict[str, Any] = {
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
        "langgraph_request_id": request_id,
    }
    if started_ms is not None:
        out["__request_start_time_ms__"] = started_ms
    delay = after_seconds if isinstance(after_seconds, int | float) else 0
    out["__after_seconds__"] = int(delay) if float(delay).is_integer() else delay
    out["user_id"] = ""
    return out


def request_identity(headers: Mapping[str, str]) -> tuple[str, int]:
    """A request's id (its ``x-request-id``, else a new one) and when it came."""
    return headers.get("x-request-id") or str(uuid.uuid4()), int(time.time() * 1000)


def run_metadata(
    *,
    assistant: Mapping[str, Any],
    thread: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
    run: Mapping[str, Any] | None,
    graph_id: str,
    assistant_id: str,
) -> dict[str, Any]:
    """A run's metadata as LangGraph's server merges it: the assistant's, the thread's (naming
    the run's graph and assistant; none for a thread the run creates), the config's, the
    run's own; its ``assistant_id`` always the run's."""
    merged: dict[str, Any] = dict(assistant)
    if thread is not None:
        merged.update(thread)
        merged.update(graph_id=graph_id, assistant_id=assistant_id)
    merged.update(config or {})
    merged.update(run or {})
    merged["assistant_id"] = assistant_id
    return merged


def started_metadata(attempt: int, api_url: str | None) -> dict[str, Any]:
    """What a run's metadata gets when it starts: its attempt and the server's description."""
    return {
        "run_attempt": attempt,
        "langgraph_version": LANGGRAPH_VERSION,
        "langgraph_api_version": LANGGRAPH_API_VERSION,
        "langgraph_plan": _PLAN,
        "langgraph_host": _HOST,
        "langgraph_api_url": os.environ.get("LANGGRAPH_API_URL") or api_url,
    }
