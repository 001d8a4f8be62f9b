"""What the run page's views are made of, from runs recorded by the ``rewind`` command: the
timeline's bars and marks (a retried failure, a subgraph, an interrupt and its resume), the
chat calls, and the diff of two states."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from rewind.log import open_log
from rewind.ui.views import TIMELINE_TYPES, chat_calls, diff_values, timeline
from tests.ui.conftest import json_lines, rewind


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The mixed graph run until its interrupt, then resumed: (database, [run, resume])."""
    db = tmp_path_factory.mktemp("views") / "rewind.db"
    spec = "tests/ui/agents.py:mixed"
    rewind(db, "run", spec, "--input", '{"log": []}', "--thread", "t", "--json")
    rewind(db, "run", spec, "--thread", "t", "--resume", '"yes"', "--json")
    runs = json_lines(rewind(db, "runs", "--json"))
    return db, [r["run_id"] for r in reversed(runs)]


async def _timeline(db: Path, run_id: str) -> dict:  # type: ignore[type-arg]
    log = await open_log(str(db), read_only=True)
    try:
        return timeline([e async for e in log.iter_run(run_id, types=TIMELINE_TYPES)])
    finally:
        await log.aclose()


async def test_retry_subgraph_and_interrupt(mixed: tuple[Path, list[str]]) -> None:
    db, (first, _) = mixed
    drawn = await _timeline(db, first)
    bars = {b["node"]: b for b in drawn["bars"] if b["node"] != "__start__"}
    assert set(bars) == {"flaky", "sub", "inner_step", "ask"}
    assert bars["flaky"]["attempts"] == 2 and bars["flaky"]["outcome"] == "ok"
    (failed_at,) = bars["flaky"]["failures"]
    assert bars["flaky"]["start"] < failed_at < bars["flaky"]["end"]
    assert bars["inner_step"]["ns"].startswith("sub:") and bars["inner_step"]["depth"] == 1
    assert bars["sub"]["depth"] == 0 and bars["sub"]["outcome"] == "ok"
    assert bars["flaky"]["lane"] != bars["sub"]["lane"]  # they ran at the same time
    # The subgraph's task is nested under the task that ran it, in the block that task takes.
    sub, inner, flaky = bars["sub"], bars["inner_step"], bars["flaky"]
    assert inner["parent"] == sub["task_id"] and sub["parent"] is None
    assert sub["rows"] == 2 and inner["row"] == sub["row"] + 1
    assert not sub["row"] <= flaky["row"] < sub["row"] + sub["rows"]
    assert sub["start"] <= inner["start"] <= inner["end"] <= sub["end"]
    assert bars["ask"]["outcome"] == "interrupted"
    kinds = [(m["kind"], m["node"]) for m in drawn["marks"]]
    assert ("retried", "flaky") in kinds and ("interrupted", "ask") in kinds
    assert kinds[-1] == ("ended", None)
    (asked,) = [m for m in drawn["marks"] if m["kind"] == "interrupted"]
    assert "ok?" in asked["detail"]
    for bar in bars.values():
        assert bar["start"] <= bar["end"]


async def test_resume_is_marked(mixed: tuple[Path, list[str]]) -> None:
    db, (_, resumed) = mixed
    drawn = await _timeline(db, resumed)
    (mark,) = [m for m in drawn["marks"] if m["kind"] == "resumed"]
    assert "yes" in mark["detail"]
    (ask,) = [b for b in drawn["bars"] if b["node"] == "ask"]
    assert ask["outcome"] == "ok" and mark["t"] <= ask["start"]


def test_diff_of_states() -> None:
    hello, answer = HumanMessage("hi", id="m1"), AIMessage("hello", id="m2")
    edited = AIMessage("hello!", id="m2")
    before = {"messages": [hello, answer], "count": 1, "gone": True, "items": [1, 2]}
    after = {
        "messages": [hello, edited, AIMessage("more", id="m3")],
        "count": 1,
        "new": 2,
        "items": [1, 3, 4],
    }
    diff = diff_values(before, after)
    assert diff["count"] == {"change": "same"}
    assert diff["new"] == {"change": "added"} and diff["gone"] == {"change": "removed"}
    assert diff["messages"]["items"]["after"] == ["same", "changed", "added"]
    assert diff["items"]["items"] == {"after": ["same", "changed", "added"], "removed": []}
    dropped = diff_values({"messages": [hello, answer]}, {"messages": [answer]})
    assert dropped["messages"]["items"]["after"] == ["same"]
    assert dropped["messages"]["items"]["removed"][0]["id"] == "m1"
    assert diff_values(None, {"a": 1}) == {"a": {"change": "added"}}


async def test_chat_calls_of_the_demo(tmp_path: Path) -> None:
    db = tmp_path / "rewind.db"
    rewind(db, "demo")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    events = json_lines(rewind(db, "tail", record["run_id"], "--json"))
    log = await open_log(str(db), read_only=True)
    try:
        calls = chat_calls([e async for e in log.iter_run(record["run_id"])])
    finally:
        await log.aclose()
    started = [e for e in events if e["type"] == "chat.started"]
    assert [c["call_id"] for c in calls] == [e["payload"]["run_id"] for e in started]
    for call in calls:
        tokens = [
            e
            for e in events
            if e["type"] == "chat.token" and e["payload"]["run_id"] == call["call_id"]
        ]
        assert [t["seq"] for t in call["tokens"]] == [e["seq"] for e in tokens]
        assert call["text"] == "".join(e["payload"]["token"] for e in tokens)
        times = [t["t"] for t in call["tokens"]]
        assert times == sorted(times)
        assert call["usage"]["output_tokens"] > 0
        assert call["finish_reason"] in ("stop", "tool_calls")
