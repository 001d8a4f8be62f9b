"""LangGraph's ``langgraph.config`` names: the running node's config, stream writer and store."""

from __future__ import annotations

from typing import Any

from rewind.runtime.context import current_config, get_runtime

__all__ = ["get_config", "get_store", "get_stream_writer"]


def get_config() -> dict[str, Any]:
    """The config of the node that is running.

    Raises:
        RuntimeError: when called outside a running graph.
    """
    config = current_config.get()
    if config is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    return config


def get_stream_writer() -> Any:
    """The running node's writer for the ``custom`` stream mode."""
    return get_runtime().stream_writer


def get_store() -> Any:
    """The long-term memory store of the graph whose node is running (``None`` when it was
    compiled without one).

    Raises:
        RuntimeError: when called outside a running graph.
    """
    get_config()  # LangGraph's error outside a run
    return get_runtime().store
