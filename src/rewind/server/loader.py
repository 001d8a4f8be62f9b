"""Load graphs from ``FILE.py:ATTR`` specs and LangGraph's ``langgraph.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rewind.loading import GraphLoadError, load_graph
from rewind.runtime.compiled import CompiledStateGraph

__all__ = ["GraphLoadError", "load_config", "load_graph", "parse_graph_option", "read_config"]


def parse_graph_option(option: str) -> tuple[str, str]:
    """``ID=FILE.py:ATTR`` as (id, spec)."""
    graph_id, sep, spec = option.partition("=")
    if not sep or not graph_id or not spec:
        raise GraphLoadError(f"--graphs {option!r} must look like ID=FILE.py:ATTR")
    return graph_id, spec


def read_config(path: str | Path) -> Any:
    """A ``langgraph.json``'s JSON (a :class:`GraphLoadError` when it cannot be read)."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GraphLoadError(f"cannot read {path}: {exc}") from exc


def load_config(path: str | Path) -> dict[str, CompiledStateGraph]:
    """The graphs of a ``langgraph.json`` (paths relative to the file)."""
    path = Path(path)
    config = read_config(path)
    graphs = config.get("graphs") if isinstance(config, Mapping) else None
    if not isinstance(graphs, Mapping):
        raise GraphLoadError(f'{path} has no "graphs" object')
    out: dict[str, CompiledStateGraph] = {}
    for graph_id, spec in graphs.items():
        if isinstance(spec, Mapping):  # {"path": "...", "description": ...}
            spec = spec.get("path")
        if not isinstance(spec, str):
            raise GraphLoadError(f"{path}: graph {graph_id!r} has no path")
        out[str(graph_id)] = load_graph(spec, base=path.parent)
    return out
