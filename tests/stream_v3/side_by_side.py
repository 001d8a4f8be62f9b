"""Run one reader of v3 run streams over a program on LangGraph and on rewind; compare what each
engine's reader saw (ids and timestamps normalised as the side-by-side harness does)."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.runtime.side_by_side.harness import (
    Normalizer,
    all_diffs,
    engine_imports,
    error_record,
    graph_module,
    ser,
)

PROGRAMS = Path(__file__).with_name("programs.py")

Reader = Callable[[ModuleType], Any]
"""Given the programs module of an engine: what a user sees of some run streams."""


def raised(call: Callable[[], Any]) -> Any:
    """What ``call`` returns, or the error it raised, as a user sees it."""
    try:
        return call()
    except Exception as e:
        return {"raised": error_record(e)}


def run_async(coro: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """``coro()`` run to its end on a fresh event loop."""
    return asyncio.run(coro())


def on_engine(engine: str, reader: Reader) -> Any:
    """``reader``'s findings on ``engine``, serialised and normalised."""
    with engine_imports(engine), graph_module(PROGRAMS, engine) as module:
        served = importlib.import_module("langgraph.stream").__name__
        assert served.split(".")[0] == engine, f"langgraph.stream served by {served}"
        seen = reader(module)
    return Normalizer().norm(ser(seen))


def assert_same(reader: Reader) -> Any:
    """Run ``reader`` on both engines; fail with the first differences if they differ. The
    (normalised) findings, for further checks."""
    expected = on_engine("langgraph", reader)
    actual = on_engine("rewind", reader)
    if expected != actual:
        diffs = "\n".join(all_diffs(expected, actual))
        raise AssertionError(
            f"rewind differs from LangGraph:\n{diffs}\n\nLangGraph: "
            f"{json.dumps(expected, indent=1, default=str)[:4000]}"
        )
    return actual
