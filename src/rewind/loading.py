"""Finding a graph by name: ``FILE.py:ATTR`` or ``package.module:ATTR``, as the command line
and the server take them. The attribute may be a compiled graph, a StateGraph (compiled here) or
a function of no arguments that returns either."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rewind.runtime.compiled import CompiledStateGraph

__all__ = ["GraphLoadError", "load_graph"]


class GraphLoadError(ValueError):
    """A graph name that names no loadable graph; the message says which and why."""


_SHAPE = "give FILE.py:ATTR (e.g. agent.py:graph) or package.module:ATTR"


def load_graph(spec: str, *, base: Path | None = None) -> CompiledStateGraph:
    """The compiled graph ``spec`` names: a compiled graph, a StateGraph (compiled here) or a
    function of no arguments that returns either. A relative file path is taken from ``base``
    (the working directory by default).

    Raises:
        GraphLoadError: the file, module or attribute is missing, or is not a graph.
    """
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise GraphLoadError(f"{spec!r} does not name a graph: {_SHAPE}")
    module = _import(where, base)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise GraphLoadError(f"{where} has no attribute {attr!r}{_candidates(module)}")
        obj = getattr(obj, part)
    return _as_graph(obj, f"{where}:{attr}")


def _import(where: str, base: Path | None) -> Any:
    is_file = where.endswith(".py") or "/" in where or "\\" in where
    if not is_file:
        try:
            return importlib.import_module(where)
        except ModuleNotFoundError as exc:
            if exc.name is not None and where.startswith(exc.name):
                raise GraphLoadError(
                    f"no file or module {where!r}: a file needs its .py ({_SHAPE})"
                ) from exc
            raise GraphLoadError(f"cannot import {where}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise GraphLoadError(f"cannot import {where}: {type(exc).__name__}: {exc}") from exc
    path = Path(where).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    if not path.is_file():
        raise GraphLoadError(f"no file {where} (looked in {path.parent}): check the path")
    path = path.resolve()
    # One module per file, whatever its name (two agent.py files in two folders differ).
    name = "rewind_graph_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    loader = importlib.util.spec_from_file_location(name, path)
    if loader is None or loader.loader is None:
        raise GraphLoadError(f"cannot load {where} as Python: give a .py file")
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    # As `python FILE.py` would: the file's directory first, so its sibling imports work.
    sys.path.insert(0, str(path.parent))
    try:
        loader.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise GraphLoadError(f"{where} raised {type(exc).__name__} while loading: {exc}") from exc
    return module


def _as_graph(obj: Any, label: str, *, called: bool = False) -> CompiledStateGraph:
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.graph import StateGraph

    if isinstance(obj, CompiledStateGraph):
        return obj
    if isinstance(obj, StateGraph):
        compiled: CompiledStateGraph = obj.compile()
        return compiled
    if type(obj).__module__.startswith("langgraph."):
        raise GraphLoadError(
            f"{label} is a LangGraph graph; import StateGraph from rewind.graph instead of "
            "langgraph.graph (change `langgraph.` to `rewind.` in its imports)"
        )
    if callable(obj) and not isinstance(obj, type) and not called:
        try:
            inspect.signature(obj).bind()
        except TypeError as exc:
            raise GraphLoadError(
                f"{label} is a function that needs arguments; give a compiled graph, a "
                "StateGraph, or a function of no arguments that returns one"
            ) from exc
        except ValueError:  # no signature to check (a builtin): just call it
            pass
        try:
            made = obj()
        except Exception as exc:
            raise GraphLoadError(f"{label}() raised {type(exc).__name__}: {exc}") from exc
        if inspect.isawaitable(made):
            raise GraphLoadError(f"{label} is an async function; give a sync factory or the graph")
        return _as_graph(made, f"{label}()", called=True)
    raise GraphLoadError(
        f"{label} is a {type(obj).__name__}, not a graph: give a compiled graph, a StateGraph "
        "or a function of no arguments that returns one"
    )


def _candidates(module: Any) -> str:
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.graph import StateGraph

    names = [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and isinstance(value, CompiledStateGraph | StateGraph)
    ]
    return f"; graphs it defines: {', '.join(sorted(names))}" if names else ""
