"""A ``Command`` in a root-valued graph (``StateGraph(dict)``) drops the keys of its update
that are no channel with LangGraph's logged warning, side by side with LangGraph (the
results themselves: ``side_by_side/graphs/sbs_95_root_state_command.py``)."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import pytest


def _warnings(engine: str, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[tuple[int, str]]]:
    g = importlib.import_module(f"{engine}.graph")
    t = importlib.import_module(f"{engine}.types")

    def route(state: dict) -> Any:
        return t.Command(update={"seen": True, "__root__": {"n": 1}, "why": "x"}, goto="done")

    def pair(state: dict) -> Any:
        return t.Command(update=[("note", 1)])

    b = g.StateGraph(dict)
    b.add_node("route", route)
    b.add_node("done", pair)
    b.add_edge(g.START, "route")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        out = b.compile().invoke({"n": 0})
    seen = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == engine]
    return out, seen


def test_dropped_keys_warn_as_langgraphs(caplog: pytest.LogCaptureFixture) -> None:
    ours = _warnings("rewind", caplog)
    theirs = _warnings("langgraph", caplog)
    assert ours == theirs
    assert theirs[0] == {"n": 1}
    assert [m for _, m in theirs[1]] == [
        "Task route with path ('__pregel_pull', 'route') wrote to unknown channel seen, "
        "ignoring it.",
        "Task route with path ('__pregel_pull', 'route') wrote to unknown channel why, "
        "ignoring it.",
        "Task done with path ('__pregel_pull', 'done') wrote to unknown channel note, ignoring it.",
    ]
