"""The stream-mode corpus: probe graphs written for LangGraph, captured on either engine.

Each ``gNN_*.py`` module beside this one is a small probe graph of LangGraph 1.2.22's streaming
and state API (its docstring says what it probes). A *capture* is one way of running every
scenario of a probe: ``stream`` without ``stream_mode``, with each of the seven modes, with all
seven at once, with ``subgraphs=True`` (probes that set ``SUBGRAPHS``) and ``version="v2"``;
``astream_events(version="v2")``; ``invoke`` followed by ``get_state`` and
``get_state_history`` (``state``); and the probe's own ``EXTRA`` captures. ``run_capture``
records one capture on one engine as a JSON-ready document, ids and timestamps normalised, so
that the documents of the two engines can be compared as they are.

Probe module contract: ``build(checkpointer=None, **build)`` returns a compiled graph;
``SCENARIOS`` lists ``{"name", "calls", "build"?, "config"?, "checkpointer"?}`` (each scenario
runs on a fresh graph and its own ``thread-<name>`` thread; ``"checkpointer": False`` runs it
without one); ``SUBGRAPHS``; optional ``EXTRA`` (``{"file", "api", "kwargs"}``) and ``reset()``,
called before each scenario. A call is ``{"input", "kwargs"?, "input_repr"?}`` (an ``input``
that is a function is called with the graph and config when its turn comes) or
``{"action": "update_state", "values", "as_node"?}``.

Exceptions are recorded by class name, message and notes, not module (``rewind.errors.X`` stands
for ``langgraph.errors.X``). Whatever a call prints is recorded (``print_mode``). Warnings are
not part of a capture (LangGraph warns that ``durability`` has no effect without a checkpointer;
rewind does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import io
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from tests.runtime.side_by_side import harness

__all__ = ["GRAPHS_DIR", "MODES", "Capture", "captures", "graph_files", "run_capture"]

GRAPHS_DIR = Path(__file__).resolve().parent
MODES = ("values", "updates", "messages", "custom", "debug", "tasks", "checkpoints")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")

Api = Literal["stream", "astream_events", "invoke"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Capture:
    """One way of running every scenario of a probe graph."""

    name: str
    """The capture's name, e.g. ``values``, ``combined_all.subgraphs``, ``state``."""
    api: Api
    """How each call is made."""
    kwargs: dict[str, Any]
    """Passed to every call (before the call's own ``kwargs``)."""


def graph_files() -> list[Path]:
    """The probe graph modules, in name order."""
    return sorted(GRAPHS_DIR.glob("g[0-9][0-9]_*.py"))


def captures(path: Path) -> list[Capture]:
    """Every capture of the probe at ``path`` (its module read on real LangGraph)."""
    with harness.graph_module(path, "langgraph", name=f"_corpus_{path.stem}") as module:
        subgraphs = bool(getattr(module, "SUBGRAPHS", False))
        extra = list(getattr(module, "EXTRA", []))
    every = list(MODES)
    nested = {"subgraphs": True}
    out = [Capture(name="default", api="stream", kwargs={})]
    out += [Capture(name=m, api="stream", kwargs={"stream_mode": m}) for m in MODES]
    out.append(Capture(name="combined_all", api="stream", kwargs={"stream_mode": every}))
    if subgraphs:
        out += [
            Capture(name=f"{m}.subgraphs", api="stream", kwargs={"stream_mode": m, **nested})
            for m in MODES
        ]
        out.append(
            Capture(
                name="combined_all.subgraphs",
                api="stream",
                kwargs={"stream_mode": every, **nested},
            )
        )
    v2 = {"stream_mode": every, "version": "v2", "subgraphs": subgraphs}
    out.append(Capture(name="v2_parts", api="stream", kwargs=v2))
    out += [Capture(name=e["file"], api=e.get("api", "stream"), kwargs=e["kwargs"]) for e in extra]
    out.append(Capture(name="events_v2", api="astream_events", kwargs={}))
    out.append(Capture(name="state", api="invoke", kwargs={}))
    return out


def run_capture(path: Path, engine: str, capture: Capture) -> dict[str, Any]:
    """Every scenario of the probe at ``path`` run on ``engine`` as ``capture`` says, as one
    normalised document."""
    # Warnings are recorded rather than raised (the suite turns warnings into errors, and a
    # warning is not what a call returned), and what the run leaves unclosed is collected here.
    with harness.side_effects():
        # One module name for both engines: an object's repr names its class's module.
        module = harness.graph_module(path, engine, name=path.stem)
        with harness.engine_imports(engine), module as m:
            scenarios = [_scenario(m, sc, engine, capture) for sc in m.SCENARIOS]
        del m
    doc = {
        "graph": path.stem,
        "api": capture.api,
        "kwargs": harness.ser(capture.kwargs),
        "kwargs_repr": repr(capture.kwargs),
        "scenarios": scenarios,
    }
    normalized: dict[str, Any] = harness.Normalizer().norm(doc)
    return normalized


def _scenario(
    module: ModuleType, scenario: dict[str, Any], engine: str, capture: Capture
) -> dict[str, Any]:
    memory = importlib.import_module("langgraph.checkpoint.memory")
    if hasattr(module, "reset"):
        module.reset()
    saver = memory.InMemorySaver() if scenario.get("checkpointer", True) else None
    graph = module.build(saver, **scenario.get("build", {}))
    harness.check_engine(graph, engine)
    config = {
        "configurable": {"thread_id": f"thread-{scenario['name']}"},
        **scenario.get("config", {}),
    }
    calls = []
    for step in scenario["calls"]:
        if "action" in step:
            calls.append(_action(graph, config, step))
        else:
            calls.append(_call(module, graph, config, step, capture))
    return {"scenario": scenario["name"], "config": harness.ser(config), "calls": calls}


def _action(graph: Any, config: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    if step["action"] != "update_state":
        raise ValueError(f"unknown action {step['action']!r}")
    returned = graph.update_state(config, step["values"], as_node=step.get("as_node"))
    return {
        "action": step["action"],
        "values": harness.ser(step["values"]),
        "as_node": step.get("as_node"),
        "returned_config": harness.ser(returned),
    }


def _call(
    module: ModuleType,
    graph: Any,
    config: dict[str, Any],
    step: dict[str, Any],
    capture: Capture,
) -> dict[str, Any]:
    given = step["input"]
    data = given(graph, config) if callable(given) else given
    kwargs = {**capture.kwargs, **step.get("kwargs", {})}
    chunks: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    error = None
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            _run(graph, config, data, kwargs, capture.api, chunks, extra)
    except Exception as exc:  # whatever the engine raises is part of the comparison
        error = harness.error_record(exc)
    if capture.api == "invoke":
        extra.update(_state_after(graph, config, subgraphs=getattr(module, "SUBGRAPHS", False)))
    rec: dict[str, Any] = {
        "input": step["input_repr"] if "input_repr" in step else harness.ser(given),
        "kwargs": harness.ser(kwargs),
        "kwargs_repr": repr(kwargs),
        **extra,
    }
    if capture.api != "invoke":
        rec["n_chunks"] = len(chunks)
        rec["chunks"] = chunks
    rec["error"] = error
    if printed.getvalue():
        rec["stdout"] = ANSI_RE.sub("", printed.getvalue()).splitlines()
    return rec


def _run(
    graph: Any,
    config: dict[str, Any],
    data: Any,
    kwargs: dict[str, Any],
    api: Api,
    chunks: list[dict[str, Any]],
    extra: dict[str, Any],
) -> None:
    """One call; each chunk is recorded as it arrives (a later mutation must not show)."""
    if api == "stream":
        for chunk in graph.stream(data, config, **kwargs):
            chunks.append({"t": harness.sig(chunk), "v": harness.ser(chunk)})
    elif api == "astream_events":

        async def events() -> None:
            async for event in graph.astream_events(data, config, version="v2", **kwargs):
                chunks.append({"t": harness.sig(event), "v": harness.ser(event)})

        asyncio.run(events())
    else:
        out = graph.invoke(data, config, **kwargs)
        extra["invoke_return"] = {"t": harness.sig(out), "v": harness.ser(out)}


def _state_after(graph: Any, config: dict[str, Any], *, subgraphs: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        out["get_state"] = harness.mark_racy(harness.ser(graph.get_state(config)))
        if subgraphs:
            snapshot = graph.get_state(config, subgraphs=True)
            out["get_state_subgraphs_true"] = harness.mark_racy(harness.ser(snapshot))
        history = graph.get_state_history(config)
        out["get_state_history"] = [harness.mark_racy(harness.ser(s)) for s in history]
    except Exception as exc:
        out["get_state_error"] = harness.error_record(exc)
    return out
