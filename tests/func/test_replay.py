"""A functional run replays from its log as its live stream streamed it: every stream mode, the
interrupted run and the resumed one (which runs a failed task call again, for ``lookup``), sync
and async, without the program's code."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.log.codec import encode
from rewind.types import Command
from tests.func.programs import BUILDERS

ALL = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug", "events"]
SHAPES: list[dict[str, Any]] = [
    {"stream_mode": ALL},
    {"stream_mode": ALL, "subgraphs": True},
    {"stream_mode": ["updates", "values", "custom"], "version": "v2"},
    {"stream_mode": "events"},
]
CONFIG = {"configurable": {"thread_id": "t"}}


def _text(chunks: list[Any]) -> list[str]:
    return [encode(c) for c in chunks]


def _live(flavour: str, path: Path, kwargs: dict[str, Any]) -> list[list[Any]]:
    """Both runs' chunks: the one stopped at the interrupt, and the resumed one."""
    with SqliteSaver.from_conn_string(str(path)) as saver:
        review = BUILDERS[flavour](saver, Counter())
        inputs = ["owls", Command(resume="fine")]
        if flavour != "async":
            return [list(review.stream(i, CONFIG, **kwargs)) for i in inputs]

        async def go() -> list[list[Any]]:
            return [[c async for c in review.astream(i, CONFIG, **kwargs)] for i in inputs]

        return asyncio.run(go())


def _replayed(path: Path, kwargs: dict[str, Any]) -> list[list[Any]]:
    async def go() -> list[list[Any]]:
        log = await open_log(path)
        try:
            runs = await log.list_runs(thread_id="t", oldest_first=True)
            return [[c async for c in areplay(log, r.run_id, **kwargs)] for r in runs]
        finally:
            await log.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("flavour", ["sync", "async", "lookup"])
@pytest.mark.parametrize("kwargs", SHAPES, ids=repr)
def test_replay_equals_the_live_stream(
    tmp_path: Path, flavour: str, kwargs: dict[str, Any]
) -> None:
    live = _live(flavour, tmp_path / "x.db", kwargs)
    assert all(live), "both runs streamed chunks"
    replayed = _replayed(tmp_path / "x.db", kwargs)
    assert [_text(r) for r in replayed] == [_text(chunks) for chunks in live]


def test_every_mode_shows_the_task_calls(tmp_path: Path) -> None:
    first, second = _live("sync", tmp_path / "x.db", {"stream_mode": ALL})
    modes = Counter(mode for mode, _ in first)
    assert set(modes) == set(ALL)
    updates = [c for mode, c in first if mode == "updates"]
    assert {"draft": "a draft on owls"} in updates
    tokens = [c for mode, c in first if mode == "messages"]
    assert tokens and all(meta["langgraph_node"] == "draft" for _, meta in tokens)
    ends = [c for mode, c in second if mode == "updates" and "review" in c]
    assert ends == [{"review": {"draft": "a draft on owls", "verdict": "fine", "seen": 1}}]
    assert [c for mode, c in second if mode == "values"][-1]["seen"] == 1


def test_replay_needs_no_program_code(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    live = _live("sync", path, {"stream_mode": ALL})
    script = (
        "import asyncio, json, sys\n"
        "from rewind import replay, open_log\n"
        "from rewind.log.codec import encode\n"
        f"log = asyncio.run(open_log({str(path)!r}))\n"
        "runs = asyncio.run(log.list_runs(thread_id='t', oldest_first=True))\n"
        f"out = [[encode(c) for c in replay(log, r.run_id, stream_mode={ALL!r})] for r in runs]\n"
        "assert 'tests.func.programs' not in sys.modules\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [_text(chunks) for chunks in live]
