"""Every public module LangGraph publishes has its rewind twin, or a listed reason why not.

A program moves to rewind by rewriting ``langgraph.`` to ``rewind.`` in its imports. So every
public module of LangGraph 1.2.22 and its checkpoint packages (the ones a program imports) must
exist under ``rewind.`` with the names LangGraph publishes there: its ``__all__``, or, where it
has none, the classes and functions it defines. And no module of rewind's own may sit on one of
those names: a rewritten import would silently get something else (worse than an ImportError).

What rewind does not provide is listed below, each with its reason (now nothing): the lists
may only name what is really missing (a test fails when something listed arrives).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import warnings
from typing import Any

import pytest

DISTRIBUTIONS = (
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "langgraph-prebuilt",
)

MODULES_NOT_PROVIDED: dict[str, str] = {}
"""LangGraph modules with no module of that name under ``rewind.``, and why."""

NAMES_NOT_PROVIDED: dict[tuple[str, str], str] = {}
"""Names a provided module lacks, and why."""


def _public_modules() -> list[str]:
    names: set[str] = set()
    for dist in DISTRIBUTIONS:
        for file in importlib.metadata.files(dist) or ():
            path = str(file)
            if not (path.startswith("langgraph/") and path.endswith(".py")):
                continue
            name = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            if not any(part.startswith("_") for part in name.split(".")):
                names.add(name)
    return sorted(names)


PUBLIC_MODULES = _public_modules()


DEPRECATED_MODULES = frozenset({"langgraph.pregel.types"})
"""Modules whose import warns that they are deprecated (in LangGraph, and their twins too)."""


def _import(name: str) -> Any:
    with warnings.catch_warnings():
        if name.replace("rewind", "langgraph", 1) in DEPRECATED_MODULES:
            warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(name)


def _public_names(module_name: str) -> list[str]:
    module = _import(module_name)
    published = getattr(module, "__all__", None)
    if published is not None:
        return list(published)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module_name
    ]


def _twin(module_name: str) -> str:
    return "rewind" + module_name.removeprefix("langgraph")


def test_langgraph_publishes_the_modules_this_test_knows() -> None:
    assert len(PUBLIC_MODULES) > 50, PUBLIC_MODULES  # the distributions' file lists were read
    stale = sorted(set(MODULES_NOT_PROVIDED) - set(PUBLIC_MODULES))
    assert not stale, f"listed as not provided, but LangGraph does not publish them: {stale}"
    stale_names = sorted(m for m, _ in NAMES_NOT_PROVIDED if m not in PUBLIC_MODULES)
    assert not stale_names, f"names listed for modules LangGraph does not publish: {stale_names}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_each_langgraph_module_has_its_rewind_twin_or_a_reason(module_name: str) -> None:
    twin = _twin(module_name)
    if module_name in MODULES_NOT_PROVIDED:
        # Nothing of rewind's own may sit on the name: the rewritten import must fail loudly.
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(twin)
        return
    module = _import(twin)
    names = _public_names(module_name)
    missing = [
        n for n in names if not hasattr(module, n) and (module_name, n) not in NAMES_NOT_PROVIDED
    ]
    assert not missing, f"{twin} lacks LangGraph's {missing}"
    arrived = [n for n in names if hasattr(module, n) and (module_name, n) in NAMES_NOT_PROVIDED]
    assert not arrived, f"{twin} provides {arrived} now: remove them from NAMES_NOT_PROVIDED"


def test_the_graph_names_langgraph_imports_from_elsewhere_are_there_too() -> None:
    """Names LangGraph's modules hold without defining or publishing them, which programs
    import from there all the same."""
    from rewind.graph.state import END, START, StateGraph

    assert (START, END) == ("__start__", "__end__") and StateGraph is not None


def test_send_from_constants_works_with_langgraphs_deprecation_warning() -> None:
    import rewind.constants as constants
    from rewind.errors import LangGraphDeprecatedSinceV10
    from rewind.types import Send

    with pytest.warns(LangGraphDeprecatedSinceV10, match="use 'from langgraph.types import"):
        assert constants.Send is Send
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = constants.Nothing
