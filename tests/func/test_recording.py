"""A functional run's task calls are events of its log: their input, results, failures and
retries, with LangGraph's names, paths and namespaces; spans come out of the same events."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rewind import open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.events import EventType, StoredEvent
from rewind.telemetry.spans import build_spans
from rewind.types import Command
from tests.func.programs import BUILDERS

CONFIG = {"configurable": {"thread_id": "t"}}


def _run(flavour: str, path: Path, calls: Counter[str]) -> None:
    with SqliteSaver.from_conn_string(str(path)) as saver:
        review = BUILDERS[flavour](saver, calls)
        if flavour == "sync":
            review.invoke("owls", CONFIG)
            review.invoke(Command(resume="fine"), CONFIG)
        else:

            async def go() -> None:
                await review.ainvoke("owls", CONFIG)
                await review.ainvoke(Command(resume="fine"), CONFIG)

            asyncio.run(go())


def _events(path: Path) -> list[list[StoredEvent]]:
    async def read() -> list[list[StoredEvent]]:
        log = await open_log(path)
        try:
            runs = await log.list_runs(thread_id="t", oldest_first=True)
            return [await log.read(r.run_id) for r in runs]
        finally:
            await log.aclose()

    return asyncio.run(read())


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_each_task_call_is_recorded(tmp_path: Path, flavour: str) -> None:
    calls: Counter[str] = Counter()
    _run(flavour, tmp_path / "x.db", calls)
    first, second = _events(tmp_path / "x.db")

    started = [e for e in first if e.type == EventType.TASK_STARTED and "call" in e.payload]
    assert sorted(e.node or "" for e in started) == ["check", "check", "draft"]
    entry = next(e for e in first if e.type == EventType.TASK_STARTED and e.node == "review")
    for event in started:
        assert event.step == entry.step == 0
        assert event.payload["call"] == f"review:{entry.task_id}"
        assert event.payload["triggers"] == ["__pregel_push"]
        assert event.payload["path"][:2] == ("__pregel_push", ("__pregel_pull", "review"))
    draft = next(e for e in started if e.node == "draft")
    assert draft.payload["input"] == (("owls",), {})
    assert draft.payload["arguments"] == [["topic", 0]]

    ended = {e.task_id: e.payload for e in first if e.type == EventType.TASK_ENDED}
    assert ended[draft.task_id] == {"return": "a draft on owls"}
    failed = [e for e in first if e.type == EventType.TASK_FAILED]
    assert [(e.node, e.payload["retrying"], e.payload["message"]) for e in failed] == [
        ("check", True, "checker busy")
    ]
    assert calls["check:length"] == 2  # the retry ran it again, in the same call
    # The model called inside the task is the task's.
    chat = [e for e in first if e.type in (EventType.CHAT_STARTED, EventType.CHAT_ENDED)]
    assert len(chat) == 2 and {(e.node, e.task_id) for e in chat} == {("draft", draft.task_id)}
    (stopped,) = [e for e in first if e.type == EventType.INTERRUPT]
    assert stopped.task_id == entry.task_id  # an interrupt belongs to the entrypoint's task

    # The resumed run answers the finished calls from the log and records the entrypoint's
    # return: the value it returned, and what it saved for the next run.
    cached = [e for e in second if e.type == EventType.TASK_STARTED and e.payload.get("cached")]
    assert sorted(e.node or "" for e in cached) == ["check", "check", "draft"]
    assert not [e for e in second if e.type == EventType.TASK_ENDED and e.node != "review"]
    (end,) = [e for e in second if e.type == EventType.TASK_ENDED]
    assert end.payload == {
        "return": {"draft": "a draft on owls", "verdict": "fine", "seen": 1},
        "entrypoint": True,
        "save": 1,
    }


def test_task_calls_are_child_spans_of_the_entrypoint(tmp_path: Path) -> None:
    _run("sync", tmp_path / "x.db", Counter())
    first, second = _events(tmp_path / "x.db")
    spans = {s.span_id: s for s in build_spans(first)}
    by_name: dict[str, list[Any]] = {}
    for span in spans.values():
        by_name.setdefault(span.name, []).append(span)
    (entry,) = by_name["review"]
    assert sorted(s.name for s in spans.values() if s.parent_id == entry.span_id) == [
        "check",
        "check",
        "draft",
    ]
    (draft,) = by_name["draft"]
    (chat,) = [s for s in spans.values() if s.name.startswith("chat")]
    assert chat.parent_id == draft.span_id  # the model call nests in the task that made it
    retried = next(s for s in by_name["check"] if s.attributes.get("rewind.task.attempts"))
    assert [e.name for e in retried.events] == ["exception"]
    # Calls answered from the log did not run: the resumed run has no span for them.
    assert {s.name for s in build_spans(second)} >= {"review"}
    assert not {"draft", "check"} & {s.name for s in build_spans(second)}
