"""``rewind.pregel.debug`` builds the ``debug`` payloads LangGraph's helpers build, from the
same tasks, writes and channels."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest

from rewind.types import Interrupt

ENGINES = ("langgraph", "rewind")


def _debug(engine: str) -> Any:
    return importlib.import_module(f"{engine}.pregel.debug")


def _task(**fields: Any) -> SimpleNamespace:
    base = {"id": "t1", "name": "n", "input": {"x": 1}, "triggers": ("a",), "path": ("p", "n")}
    return SimpleNamespace(**{**base, **fields})


WRITES = [("a", 1), ("b", 2), ("a", 3), ("a", 4), ("__return__", "r")]


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.map_task_result_writes(WRITES),
        lambda d: [d.is_multiple_channel_write(v) for v in ({"$writes": []}, {"$writes": 1}, 3)],
        lambda d: d.rm_pregel_keys({"configurable": {"__pregel_x": 1, "thread_id": "t"}}),
        lambda d: d.rm_pregel_keys(None),
        lambda d: [d.get_colored_text("hi", "green"), d.get_bolded_text("hi")],
        lambda d: list(d.map_debug_task_results((_task(), WRITES), ["a"])),
        lambda d: list(d.map_debug_task_results((_task(), [("__error__", "boom")]), "a")),
        lambda d: list(
            d.map_debug_tasks(
                [
                    _task(config={"metadata": {"user": 1, "langgraph_node": "n"}, "tags": ["t"]}),
                    _task(id="hidden", config={"tags": ["langsmith:hidden"]}),
                    _task(id="bare", config=None),
                ]
            )
        ),
    ],
)
def test_a_helper_gives_what_langgraph_s_gives(call: Any) -> None:
    assert call(_debug("rewind")) == call(_debug("langgraph"))


def test_tasks_with_writes_show_results_errors_and_interrupts() -> None:
    debug = _debug("rewind")
    tasks = [_task(id="done"), _task(id="failed"), _task(id="waiting"), _task(id="idle")]
    writes = [
        ("done", "a", 1),
        ("done", "a", 2),
        ("failed", "__error__", "boom"),
        ("waiting", "__interrupt__", [Interrupt(value="q", id="i1")]),
    ]
    shown = debug.tasks_w_writes(tasks, writes, None, ["a"])
    assert [t.result for t in shown] == [{"a": {"$writes": [1, 2]}}, None, None, None]
    assert shown[1].error == "boom" and shown[2].interrupts[0].value == "q"
    single = debug.tasks_w_writes(tasks[:1], writes, None, "a")
    assert single[0].result == {"$writes": [1, 2]}
