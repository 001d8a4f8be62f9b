"""A root-valued graph (``StateGraph(dict)``) and a run whose dict context was made its
``context_schema`` replay from the log as they streamed live; the log records no context."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.events import EventType
from rewind.graph import START, StateGraph
from rewind.log.codec import encode
from rewind.runtime import Runtime

MODES = ["values", "updates", "tasks", "checkpoints", "debug", "custom", "events"]
SHAPES: list[dict[str, Any]] = [
    {"stream_mode": MODES},
    {"stream_mode": MODES, "subgraphs": True, "version": "v2"},
    {"stream_mode": "values"},
]


@dataclass
class Ctx:
    user: str = "anon"


class State(TypedDict):
    out: str


def _seen(state: State, runtime: Runtime[Ctx]) -> dict[str, str]:
    context = runtime.context
    return {"out": f"{type(context).__name__}:{getattr(context, 'user', None)}"}


def _dict_graph(saver: Any) -> Any:
    builder = StateGraph(dict)
    builder.add_node("count", lambda s: {"x": s.get("x", 0) + 1})
    builder.add_node("label", lambda s: {**s, "label": f"x={s['x']}"})
    builder.add_edge(START, "count")
    builder.add_edge("count", "label")
    return builder.compile(checkpointer=saver)


class Parent(TypedDict, total=False):
    x: int
    label: str


def _parent_graph(saver: Any) -> Any:
    """A graph whose node is a root-valued graph (its namespace shows the one value)."""
    builder = StateGraph(Parent)
    builder.add_node("counter", _dict_graph(None))
    builder.add_edge(START, "counter")
    return builder.compile(checkpointer=saver)


def _context_graph(saver: Any) -> Any:
    builder = StateGraph(State, context_schema=Ctx)
    builder.add_node("seen", _seen)
    builder.add_edge(START, "seen")
    return builder.compile(checkpointer=saver)


def _stored(path: Path, shape: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The thread's one run replayed as ``shape``, and its start's payload."""

    async def go() -> tuple[list[Any], dict[str, Any]]:
        log = await open_log(path)
        try:
            (run,) = await log.list_runs(thread_id="t")
            replayed = [c async for c in areplay(log, run.run_id, **shape)]
            (started,) = await log.read(run.run_id, types=[EventType.RUN_STARTED])
            return replayed, dict(started.payload)
        finally:
            await log.aclose()

    return asyncio.run(go())


def _text(chunks: list[Any]) -> list[str]:
    return [encode(c) for c in chunks]


@pytest.mark.parametrize(
    ("build", "input", "kwargs", "shown"),
    [
        (_dict_graph, {"x": 1}, {}, {"x": 2, "label": "x=2"}),
        (_parent_graph, {"x": 1}, {}, {"x": 2, "label": "x=2"}),
        (_context_graph, {"out": ""}, {"context": {"user": "bob"}}, {"out": "Ctx:bob"}),
    ],
    ids=["dict_state", "dict_state_subgraph", "dict_context"],
)
def test_replay_equals_the_live_streams(
    tmp_path: Path, build: Any, input: Any, kwargs: dict[str, Any], shown: Any
) -> None:
    for n, shape in enumerate(SHAPES):
        path = tmp_path / f"runs-{n}.db"
        with SqliteSaver.from_conn_string(str(path)) as saver:
            graph = build(saver)
            config = {"configurable": {"thread_id": "t"}}
            live = list(graph.stream(input, config, **shape, **kwargs))
            assert graph.get_state(config).values == shown
        replayed, started = _stored(path, shape)
        assert live and _text(replayed) == _text(live), shape
        # The log records no context (as before): the run's start has none of it.
        assert "context" not in started and "bob" not in json.dumps(started, default=str)
