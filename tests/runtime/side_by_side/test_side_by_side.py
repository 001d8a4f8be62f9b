"""Side by side with real LangGraph: graph files written for LangGraph, run on both engines.

Every ``graphs/sbs_NN_*.py`` module is run on LangGraph 1.2.22 and on rewind (through the
``langgraph.`` → ``rewind.`` import rewrite, in this process); what ``invoke``/``ainvoke``
returned or raised and ``get_state``/``get_state_history`` after each call must be identical
once ids and timestamps are normalised; and a run must leave no more warnings, unclosed
resources or pending tasks behind on rewind than on LangGraph. ``graphs/build_errors.py``
holds graphs that fail to build or compile: the exception type and message must be the same on
both engines. See ``harness.py`` for the module contract.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.side_by_side import harness

GRAPHS = harness.graph_files()
BUILD_ERRORS = harness.GRAPHS_DIR / "build_errors.py"
LEFTOVERS = "warnings_and_leftovers"


def _build_case_names() -> list[str]:
    spec = importlib.util.spec_from_file_location("_sbs_build_error_names", BUILD_ERRORS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CASES)


@functools.cache
def _runs(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both engines' documents for one graph module (run once, shared by its two tests)."""
    reference, candidate, _ = harness.compare_graph(path)
    return reference, candidate


def _without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_graph_is_identical_on_both_engines(path: Path) -> None:
    reference, candidate = (_without(d, LEFTOVERS) for d in _runs(path))
    diff = harness.first_diff(reference, candidate)
    assert diff is None, harness.explain_diff(reference, candidate, diff)


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
def test_graph_leaves_nothing_more_behind_than_langgraph(path: Path) -> None:
    """Warnings, unclosed resources, tasks destroyed while pending: as many as LangGraph's."""
    reference, candidate = _runs(path)
    assert candidate[LEFTOVERS] == reference[LEFTOVERS]


EVENT_GRAPHS = [p for p in GRAPHS if harness.events_comparable(p)]


@pytest.mark.corpus_passes  # a step of .ci/run's own: the default run's budget
@pytest.mark.parametrize("path", EVENT_GRAPHS, ids=[p.stem for p in EVENT_GRAPHS])
def test_events_are_identical_on_both_engines(path: Path) -> None:
    """Every call made through ``astream_events(version="v2")``: the same events, in the same
    order, with the same names, run ids and parents, tags, metadata and data."""
    reference, candidate, _ = harness.compare_graph(path, "astream_events")
    reference, candidate = (_without(d, LEFTOVERS) for d in (reference, candidate))
    diff = harness.first_diff(reference, candidate)
    assert diff is None, harness.explain_diff(reference, candidate, diff)


MODE_GRAPHS = [p for p in GRAPHS if harness.modes_comparable(p)]


@pytest.mark.corpus_passes
@pytest.mark.parametrize("path", MODE_GRAPHS, ids=[p.stem for p in MODE_GRAPHS])
def test_every_stream_mode_is_identical_on_both_engines(path: Path) -> None:
    """Every call made as a stream of the seven modes other than ``events`` together, with
    ``subgraphs=True``, as v2 parts: the same chunks in the same order (a step's parallel
    tasks' results as a multiset), once ids and timestamps are normalised."""
    reference, candidate, _ = harness.compare_graph(path, harness.MODES)
    reference, candidate = (_without(d, LEFTOVERS) for d in (reference, candidate))
    diff = harness.first_diff(reference, candidate)
    assert diff is None, harness.explain_diff(reference, candidate, diff)


def test_events_cover_the_features_that_shape_them() -> None:
    """Subgraphs, Send, interrupts and resume, errors, retries, tool calls, nostream models,
    text-completion models and custom events are all among the graphs compared through
    ``astream_events``."""
    text = "\n".join(p.read_text() for p in EVENT_GRAPHS)
    for feature in (
        'add_node("review", _review_graph())',
        "Send(",
        "interrupt(",
        "Command(resume=",
        "RetryPolicy(",
        "raise ",
        "ToolNode(",
        '"nostream"',
        "on_llm_new_token(",
        "FakeListLLM(",
        "dispatch_custom_event(",
        "get_stream_writer()",
    ):
        assert feature in text, feature


@pytest.mark.parametrize("case", _build_case_names())
def test_build_error_is_identical_on_both_engines(case: str) -> None:
    reference = harness.run_build_case(BUILD_ERRORS, "langgraph", case)
    candidate = harness.run_build_case(BUILD_ERRORS, "rewind", case)
    assert candidate == reference


def test_enough_graphs() -> None:
    assert len(GRAPHS) >= 15


def test_the_alias_serves_rewind_and_leaves_real_langgraph_behind() -> None:
    import langgraph.graph

    real = langgraph.graph.StateGraph
    finders = list(sys.meta_path)
    with harness.rewind_imports():
        aliased = importlib.import_module("langgraph.graph")
        assert aliased.StateGraph.__module__.startswith("rewind.")
        saver = importlib.import_module("langgraph.checkpoint.memory").InMemorySaver
        assert saver.__module__.startswith("rewind.")
        # the rewind module keeps its own identity (spec), not the alias's
        assert aliased.__spec__ is not None and aliased.__spec__.name == "rewind.graph"
    assert sys.meta_path == finders
    assert importlib.import_module("langgraph.graph").StateGraph is real
    leaked = [
        name
        for name, module in sys.modules.items()
        if (name == "langgraph" or name.startswith("langgraph."))
        and module is not None
        and not getattr(module, "__name__", "").startswith("langgraph")
    ]
    assert leaked == []


def test_both_engines_run_the_same_file_with_their_own_classes() -> None:
    path = GRAPHS[0]
    with harness.engine_imports("rewind"), harness.graph_module(path, "rewind") as module:
        assert module.StateGraph.__module__.startswith("rewind.")
    with harness.engine_imports("langgraph"), harness.graph_module(path, "langgraph") as module:
        assert module.StateGraph.__module__.startswith("langgraph.")
    assert not any(name.startswith("_sbs_") for name in sys.modules)
