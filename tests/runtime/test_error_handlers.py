"""Node error handlers: a run that handled a failure replays as it streamed live.

The side-by-side programs ``sbs_92_node_error_handlers`` and ``sbs_93_error_handler_resumed``
hold rewind to LangGraph's streams; here each of their scenarios runs on rewind with a SQLite
log, every call streamed in every mode (subgraphs too), and the replay of each run must yield
the same chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.log.codec import encode
from rewind.projections.stream import MODES
from tests.runtime.side_by_side import harness

PROGRAMS = [
    harness.GRAPHS_DIR / "sbs_92_node_error_handlers.py",
    harness.GRAPHS_DIR / "sbs_93_error_handler_resumed.py",
]
ALL = list(MODES)
KWARGS: dict[str, Any] = {"stream_mode": ALL, "subgraphs": True}


def _load(path: Path) -> ModuleType:
    """The program, on rewind; importable by its name (a replay decodes its errors' classes)."""
    name = f"rewind_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    with harness.engine_imports("rewind"):
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def _cases() -> list[Any]:
    return [
        pytest.param(path, scenario, id=f"{path.stem}/{scenario['name']}")
        for path in PROGRAMS
        for scenario in _load(path).SCENARIOS
    ]


def _live(graph: Any, call: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """The chunks a call streams (through the async API for an async one), up to its error."""
    chunks: list[Any] = []

    async def astream() -> None:
        async for chunk in graph.astream(call["input"], config, **KWARGS):
            chunks.append(chunk)

    with contextlib.suppress(Exception):  # a failing run: its chunks until then
        if call.get("api") in ("astream", "ainvoke"):
            asyncio.run(astream())
        else:
            chunks.extend(graph.stream(call["input"], config, **KWARGS))
    return [encode(c) for c in chunks]


async def _replayed(path: Path, thread: str) -> list[list[str]]:
    """The chunks each run of the thread replays (a replay yields a failed run's chunks
    and ends)."""
    store = await open_log(path)
    try:
        runs = await store.list_runs(thread_id=thread, oldest_first=True)
        return [[encode(c) async for c in areplay(store, r.run_id, **KWARGS)] for r in runs]
    finally:
        await store.aclose()


@pytest.mark.parametrize(("path", "scenario"), _cases())
def test_a_handled_failure_replays_as_it_streamed(
    tmp_path: Path, path: Path, scenario: dict[str, Any]
) -> None:
    module = _load(path)
    if hasattr(module, "reset"):
        module.reset()
    db = tmp_path / "runs.db"
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = getattr(module, scenario.get("build", "build"))(saver)
        live = [_live(graph, call, config) for call in scenario["calls"]]
    assert any(live), "the runs streamed chunks"
    assert asyncio.run(_replayed(db, "t")) == live
