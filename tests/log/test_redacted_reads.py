"""Every reader of the log takes redacted events in its stride: replay in every stream mode,
a thread's state and history, the spans, ``rewind show``, and a thread going on. What was
erased shows as ``[redacted]`` wherever it was shown, and nowhere as itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rewind import open_log
from rewind.cli.app import main
from rewind.cli.target import bind
from rewind.events import REDACTED, EventType
from rewind.log import EventLog
from rewind.replay import areplay
from rewind.telemetry import ContentPolicy, export_runs
from rewind.thread_state import rebuild_caches, verify_caches
from tests.log.recorded import AGENT, EMAIL, FLOW, MODES, build_flow, record_runs

SCENARIOS: dict[str, dict[str, Any]] = {
    "whole payloads": {"types": ["chat.*", "tool.*", "custom", "custom.event"]},
    "message texts": {"types": ["*"], "contents_only": True},
    "matching strings": {"match": EMAIL},
    "matching message texts": {"match": EMAIL, "contents_only": True},
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A database holding the recorded runs (made once; each test works on a copy)."""
    path = tmp_path_factory.mktemp("recorded") / "rewind.db"

    async def make() -> None:
        async with await open_log(path) as log:
            await record_runs(log)

    asyncio.run(make())
    return path.read_bytes()


@pytest.fixture
def database(recorded: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "rewind.db"
    path.write_bytes(recorded)
    return path


@pytest.fixture
async def log(database: Path) -> AsyncIterator[EventLog]:
    async with await open_log(database) as log:
        yield log


async def _everything_shown(log: EventLog) -> list[Any]:
    """What every reader shows of every run and thread."""
    shown: list[Any] = []
    for run in await log.list_runs(oldest_first=True):
        shown += [c async for c in areplay(log, run.run_id, stream_mode=MODES, subgraphs=True)]
        shown += [c async for c in areplay(log, run.run_id, stream_mode="events", subgraphs=True)]
    flow = bind(build_flow(), log)
    for thread in (AGENT, FLOW):
        config = {"configurable": {"thread_id": thread}}
        shown.append(await flow.aget_state(config, subgraphs=True))
        shown += [s async for s in flow.aget_state_history(config)]
    exporter = InMemorySpanExporter()
    runs = [r.run_id for r in await log.list_runs()]
    result = await export_runs(log, runs, exporter=exporter, content=ContentPolicy(enabled=True))
    assert result.spans_failed == 0
    shown += [dict(span.attributes or {}) for span in exporter.get_finished_spans()]
    shown += [[e.attributes for e in span.events] for span in exporter.get_finished_spans()]
    return shown


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_every_reader_reads_the_redacted_log(log: EventLog, scenario: str) -> None:
    before = await _everything_shown(log)
    assert EMAIL in repr(before)

    report = await log.redact(**SCENARIOS[scenario], reason="test")
    assert report.events
    after = await _everything_shown(log)
    assert "[redacted]" in repr(after) or "Redacted()" in repr(after)
    if "match" in SCENARIOS[scenario]:
        assert EMAIL not in repr(after)

    await rebuild_caches(log, report)
    checked, problems = await verify_caches(log)
    assert checked and not problems
    assert await _everything_shown(log) == after  # the rebuilt caches change nothing shown


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_redacted_thread_goes_on(log: EventLog, scenario: str) -> None:
    await log.redact(**SCENARIOS[scenario])
    flow = bind(build_flow(reply="Writing now"), log)
    config = {"configurable": {"thread_id": FLOW}}
    out = await flow.ainvoke({"contact": "bob@example.com", "messages": [("user", "hi")]}, config)
    assert "__interrupt__" in out
    state = await flow.aget_state(config)
    assert state.values["contact"] == "bob@example.com"
    assert state.next == ("ask",)
    assert EMAIL not in repr(state.values) or "match" not in SCENARIOS[scenario]


async def test_a_payload_redacted_whole_reads_back_as_the_marker(log: EventLog) -> None:
    (run,) = await log.list_runs(thread_id=AGENT)
    (token, *_) = await log.read(run.run_id, types=[EventType.CHAT_TOKEN])
    await log.redact(run.run_id, [token.seq])
    (event,) = await log.read(run.run_id, after_seq=token.seq - 1, until_seq=token.seq)
    assert event.payload is REDACTED
    assert (event.type, event.hash) == (token.type, token.hash)


def test_show_and_tail_tell_what_was_redacted(
    database: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(database.parent)

    async def redact() -> str:
        async with await open_log(database) as log:
            await log.redact(types=["chat.*", "tool.*", "custom*"])
            await log.redact(match=EMAIL)
            (run,) = await log.list_runs(thread_id=AGENT)
            return run.run_id

    run_id = asyncio.run(redact())
    assert main(["--db", str(database), "show", run_id]) == 0
    shown = capsys.readouterr().out
    assert EMAIL not in shown
    assert "hash chain intact" in shown
    assert "redacted" in shown
    assert main(["--db", str(database), "tail", run_id]) == 0
    followed = capsys.readouterr().out
    assert EMAIL not in followed
    assert "chat.token" in followed and "[redacted]" in followed
