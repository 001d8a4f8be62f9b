"""Load graphs from ``FILE.py:ATTR`` specs and LangGraph's ``langgraph.json``."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.graph import StateGraph

__all__ = ["GraphLoadError", "load_config", "load_graph", "parse_graph_option"]


class GraphLoadError(ValueError):
    """A graph spec that names no loadable graph; the message says which and why."""


def load_graph(spec: str, *, base: Path | None = None) -> CompiledStateGraph:
    """The graph ``spec`` names: ``path/to/file.py:attr`` or ``package.module:attr``.

    ``attr`` may be a compiled graph, a ``StateGraph`` (compiled here) or a function taking
    no arguments that returns either. A relative file path is taken from ``base``.
    """
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise GraphLoadError(f"graph spec {spec!r} must look like ./file.py:attr")
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target)
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        if not path.is_file():
            raise GraphLoadError(f"graph spec {spec!r}: no file {path}")
        name = "rewind_graph_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise GraphLoadError(f"graph spec {spec!r}: cannot import {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
    else:
        module = importlib.import_module(target)
    if not hasattr(module, attr):
        raise GraphLoadError(f"graph spec {spec!r}: the module has no attribute {attr!r}")
    return _as_compiled(getattr(module, attr), spec)


def _as_compiled(value: Any, spec: str) -> CompiledStateGraph:
    if isinstance(value, CompiledStateGraph):
        return value
    if isinstance(value, StateGraph):
        compiled: CompiledStateGraph = value.compile()
        return compiled
    if callable(value):
        return _as_compiled(value(), spec)
    raise GraphLoadError(
        f"graph spec {spec!r} names a {type(value).__name__}, not a compiled graph, "
        "a StateGraph or a function returning one"
    )


def parse_graph_option(option: str) -> tuple[str, str]:
    """``ID=FILE.py:ATTR`` as (id, spec)."""
    graph_id, sep, spec = option.partition("=")
    if not sep or not graph_id or not spec:
        raise GraphLoadError(f"--graphs {option!r} must look like ID=FILE.py:ATTR")
    return graph_id, spec


def load_config(path: str | Path) -> dict[str, CompiledStateGraph]:
    """The graphs of a ``langgraph.json`` (paths relative to the file)."""
    path = Path(path)
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GraphLoadError(f"cannot read {path}: {exc}") from exc
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
