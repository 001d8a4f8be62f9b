"""Finding the graph a verb runs: ``FILE.py:ATTR`` or ``package.module:ATTR``."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rewind.cli.common import CliError

if TYPE_CHECKING:
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.store import EventStore

__all__ = ["bind", "load_graph"]

_SHAPE = "give FILE.py:ATTR (e.g. agent.py:graph) or package.module:ATTR"


def load_graph(spec: str) -> CompiledStateGraph:
    """The compiled graph ``spec`` names: a compiled graph, a StateGraph (compiled here) or a
    function of no arguments that returns either.

    Raises:
        CliError: the file, module or attribute is missing, or is not a graph.
    """
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise CliError(f"{spec!r} does not name a graph: {_SHAPE}")
    module = _import(where)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CliError(f"{where} has no attribute {attr!r}{_candidates(module)}")
        obj = getattr(obj, part)
    return _as_graph(obj, f"{where}:{attr}")


def bind(graph: CompiledStateGraph, store: EventStore) -> CompiledStateGraph:
    """A copy of ``graph`` whose runs are recorded in ``store``, whatever checkpointer (or
    none) it was compiled with."""
    bound = copy.copy(graph)
    bound.checkpointer = store
    return bound


def _import(where: str) -> Any:
    is_file = where.endswith(".py") or "/" in where or "\\" in where
    if not is_file:
        try:
            return importlib.import_module(where)
        except ModuleNotFoundError as exc:
            if exc.name is not None and where.startswith(exc.name):
                raise CliError(
                    f"no file or module {where!r}: a file needs its .py ({_SHAPE})"
                ) from exc
            raise CliError(f"cannot import {where}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise CliError(f"cannot import {where}: {type(exc).__name__}: {exc}") from exc
    path = Path(where).expanduser()
    if not path.is_file():
        raise CliError(f"no file {where} (looked in {Path.cwd()}): check the path")
    path = path.resolve()
    name = f"rewind_target_{path.stem}"
    loader = importlib.util.spec_from_file_location(name, path)
    if loader is None or loader.loader is None:
        raise CliError(f"cannot load {where} as Python: give a .py file")
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    # As `python FILE.py` would: the file's directory first, so its sibling imports work.
    sys.path.insert(0, str(path.parent))
    try:
        loader.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise CliError(
            f"{where} raised {type(exc).__name__} while loading: {exc} (--debug shows where)"
        ) from exc
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
        raise CliError(
            f"{label} is a LangGraph graph; import StateGraph from rewind.graph instead of "
            "langgraph.graph (change `langgraph.` to `rewind.` in its imports)"
        )
    if callable(obj) and not isinstance(obj, type) and not called:
        try:
            inspect.signature(obj).bind()
        except TypeError as exc:
            raise CliError(
                f"{label} is a function that needs arguments; give a compiled graph, a "
                "StateGraph, or a function of no arguments that returns one"
            ) from exc
        except ValueError:  # no signature to check (a builtin): just call it
            pass
        try:
            made = obj()
        except Exception as exc:
            raise CliError(
                f"{label}() raised {type(exc).__name__}: {exc} (--debug shows where)"
            ) from exc
        if inspect.isawaitable(made):
            raise CliError(f"{label} is an async function; give a sync factory or the graph")
        return _as_graph(made, f"{label}()", called=True)
    raise CliError(
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
