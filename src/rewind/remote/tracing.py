"""The tracing headers ``RemoteGraph(distributed_tracing=True)`` sends with a run, so the
server's run joins the caller's trace.

LangGraph's RemoteGraph sends LangSmith's (``langsmith-trace`` and ``baggage``, when a LangSmith
run is current); rewind's sends those too, and W3C Trace Context (``traceparent``, with
``tracestate`` when there is one) of the current OpenTelemetry span: inside a node of a rewind
run, the node's span. ``rewind serve`` reads ``traceparent``: the remote run's spans are then
children of the node's span, in the caller's trace.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["tracing_headers"]

_W3C = TraceContextTextMapPropagator()


def tracing_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """``headers`` (a copy) with the caller's trace context: LangSmith's run, as LangGraph's
    RemoteGraph merges it (its ``baggage`` after the caller's own), and the current
    OpenTelemetry span's ``traceparent``. ``None`` when there is nothing to send."""
    out = dict(headers or {})
    langsmith = _langsmith_headers()
    if langsmith:
        if "baggage" in out and "baggage" in langsmith:
            langsmith["baggage"] = f"{out['baggage']},{langsmith['baggage']}"
        out.update(langsmith)
    w3c: dict[str, str] = {}
    _W3C.inject(w3c)  # (nothing when no span is current)
    out.update(w3c)
    return out or headers


def _langsmith_headers() -> dict[str, Any]:
    try:
        import langsmith
    except ImportError:  # pragma: no cover - installed with langchain-core
        return {}
    run = langsmith.get_current_run_tree()
    return dict(run.to_headers()) if run is not None else {}
