"""``log.redact``: erasing payloads for good while every hash chain still verifies, on SQLite
files as users have them (runs chained over digests, runs chained over text by an older
release, a database of that release upgraded)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rewind import LogOptions, NewEvent, RunStatus, open_log, run_ended, run_started
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.errors import RedactionError, UnknownRunError, UnknownThreadError
from rewind.events import REDACTED, EventType
from rewind.log import EventLog, erasure
from rewind.log.commit import SnapshotPolicy
from rewind.replay import areplay
from rewind.thread_state import rebuild_caches, verify_caches
from tests.log.contract import custom, start_run
from tests.log.old_chain import chain_over_text
from tests.log.recorded import AGENT, EMAIL, FLOW, record_runs
from tests.log.test_old_databases import copy_of_fixture


def _table(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def _run_key(path: Path, run_id: str) -> int:
    return int(_table(path, "SELECT run_key FROM runs WHERE run_id = ?", run_id)[0][0])


def _stored(path: Path) -> list[tuple[Any, ...]]:
    """Everything a redaction may change, as stored."""
    return [
        *_table(path, "SELECT run_key, seq, payload, hash FROM events ORDER BY position"),
        *_table(path, "SELECT run_id, last_hash, chain_from FROM runs ORDER BY run_key"),
        *_table(path, "SELECT * FROM redactions"),
        *_table(path, "SELECT thread_id, state FROM thread_heads"),
        *_table(path, "SELECT run_key, seq, state FROM snapshots"),
    ]


def _with_text() -> list[NewEvent]:
    """Seqs 1 to 4 of a run: the e-mail address in three of them."""
    return [
        custom({"to": EMAIL}),
        NewEvent(type=EventType.CHAT_TOKEN, payload={"run_id": "c", "token": EMAIL}),
        custom("nothing to see"),
        NewEvent(type=EventType.TASK_STARTED, payload={"input": {"who": EMAIL}}, node="n"),
    ]


async def _record(log: EventLog, run_id: str, thread_id: str, *more: NewEvent) -> None:
    """A run that has ended: started, then ``more`` (seqs from 1), then ended."""
    await start_run(log, run_id, thread_id, *more)
    await log.append(
        run_id, [run_ended(RunStatus.SUCCESS)], expected_seq=len(more) + 1, durability="sync"
    )


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    async with await open_log(tmp_path / "rewind.db") as log:
        yield log


# --- the chain ---------------------------------------------------------------------------------


async def test_a_run_chained_over_digests_keeps_its_hashes(log: EventLog, tmp_path: Path) -> None:
    await _record(log, "r1", "t1", *_with_text())
    before = await log.read("r1")
    last = (await log.get_run("r1")).last_seq

    report = await log.redact(match=EMAIL, reason="erasure request 7", actor="dpo")

    assert [(e.seq, e.scope) for e in report.events] == [
        (1, "payload"),
        (2, "payload"),
        (4, "contents"),
    ]
    assert report.rechained == [] and report.vacuumed and not report.dry_run
    after = await log.read("r1")
    assert [e.hash for e in after] == [e.hash for e in before]
    assert (await log.get_run("r1")).last_seq == last
    assert [e.payload for e in after][1:5] == [
        REDACTED,
        REDACTED,
        "nothing to see",
        {"input": {"who": REDACTED}},
    ]
    chain = await log.verify_chain("r1")
    assert (chain.ok, chain.checked, chain.redacted) == (True, 6, 3)


async def test_a_run_chained_over_text_is_rechained_from_its_first_redacted_event(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await _record(log, "old", "t1", custom("a"), custom("b"), *_with_text())
    old_last = chain_over_text(path, "old")
    hashes = [h for (h,) in _table(path, "SELECT hash FROM events ORDER BY seq")]

    async with await open_log(path) as log:
        report = await log.redact("old", [3, 6], match=EMAIL)
        assert report.rechained == ["old"]
        assert (await log.verify_chain("old")).ok
        (first, second) = await log.list_redactions(run_id="old")
        assert (first.seq, first.rechained_from) == (3, old_last)
        assert (second.seq, second.rechained_from) == (6, None)
        now = [h for (h,) in _table(path, "SELECT hash FROM events ORDER BY seq")]
        assert now[:3] == hashes[:3] and all(
            a != b for a, b in zip(now[3:], hashes[3:], strict=True)
        )
        assert _table(path, "SELECT chain_from FROM runs") == [(3,)]

        # An event after where the digests begin: no new chain. One before: from there.
        assert (await log.redact("old", [4])).rechained == []
        assert _table(path, "SELECT chain_from FROM runs") == [(3,)]
        report = await log.redact("old", [1])
        assert report.rechained == ["old"]
        assert _table(path, "SELECT chain_from FROM runs") == [(1,)]
        chain = await log.verify_chain("old")
        assert (chain.ok, chain.redacted) == (True, 4)


async def test_a_broken_chain_is_not_rechained(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await _record(log, "old", "t1", custom("a"), *_with_text())
    chain_over_text(path, "old")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET payload = '\"b\"' WHERE seq = 1")
    before = _stored(path)
    async with await open_log(path) as log:
        with pytest.raises(RedactionError, match="chain is broken at event 1") as caught:
            await log.redact(match=EMAIL)
        assert (caught.value.run_id, caught.value.seq) == ("old", 1)
    assert _stored(path) == before


async def test_a_database_of_the_release_before_redo_verifies_after_a_redaction(
    tmp_path: Path,
) -> None:
    path = copy_of_fixture(tmp_path)
    saver = SqliteSaver(str(path))
    try:
        log = await saver.log()
        report = await log.redact(thread_id="chat", match="hello there", reason="test")
        assert report.events and report.rechained
        for run in await log.list_runs():
            assert (await log.verify_chain(run.run_id)).ok, run.run_id
        await rebuild_caches(log, report)
        assert not (await verify_caches(log))[1]
        config = {"configurable": {"thread_id": "chat"}}
        from tests.log.old_databases.graphs import build

        state = await build("chat", saver).aget_state(config)
        assert "hello there" not in repr(state.values)
        assert "[redacted]" in repr(state.values)
    finally:
        await saver.aclose()
    assert b"hello there" not in path.read_bytes()


# --- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("UPDATE redactions SET digest = zeroblob(32) WHERE seq = 1", "altered"),
        ("DELETE FROM redactions WHERE seq = 1", "altered"),
        ("UPDATE events SET payload = '\"changed\"' WHERE seq = 3", "altered"),
        ("UPDATE events SET payload = '{\"x\":1}' WHERE seq = 1", "not the marker"),
        ("UPDATE redactions SET scope = 'contents' WHERE seq = 1", None),
        (
            "INSERT INTO redactions (run_key, seq, digest, scope, redacted_at) "
            "SELECT run_key, seq, zeroblob(32), 'contents', 0 FROM events WHERE seq = 3",
            "holds no redaction marker",
        ),
    ],
)
async def test_tampering_is_still_detected(tmp_path: Path, edit: str, reason: str | None) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await _record(log, "r1", "t1", *_with_text())
        await log.redact("r1", [1, 2])
    with sqlite3.connect(path) as conn:
        conn.execute(edit)
    async with await open_log(path) as log:
        report = await log.verify_chain("r1")
    if reason is None:  # what the scope says is only checked against the payload
        assert report.ok
        return
    assert not report.ok
    assert reason in (report.reason or "")


async def test_a_redaction_row_alone_does_not_make_an_event_redacted(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await _record(log, "r1", "t1", custom("a"))
    digest = hashlib.sha256(b'"a"').digest()
    with sqlite3.connect(path) as conn:  # the true digest, and the payload changed
        conn.execute(
            "INSERT INTO redactions (run_key, seq, digest, scope, redacted_at) "
            "VALUES (1, 1, ?, 'payload', 0)",
            (digest,),
        )
        conn.execute("UPDATE events SET payload = '\"b\"' WHERE seq = 1")
    async with await open_log(path) as log:
        report = await log.verify_chain("r1")
    assert (report.ok, report.first_bad_seq) == (False, 1)


# --- the bytes --------------------------------------------------------------------------------


async def test_the_erased_text_is_nowhere_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    options = LogOptions(snapshots=SnapshotPolicy(min_bytes=1, factor=1))
    async with await open_log(path, options=options) as log:
        await record_runs(log)
    assert _table(path, "SELECT count(*) FROM thread_heads WHERE instr(state, ?)", EMAIL) != [(0,)]
    assert _table(path, "SELECT count(*) FROM snapshots WHERE instr(state, ?)", EMAIL) != [(0,)]
    assert EMAIL.encode() in path.read_bytes()

    async with await open_log(path, options=options) as log:
        report = await log.redact(match=EMAIL, reason="erasure")
        assert set(report.threads) == {AGENT, FLOW} and report.snapshots
        assert await rebuild_caches(log, report) >= len(report.threads) + len(report.snapshots)
        assert not (await verify_caches(log))[1]
        for run in await log.list_runs():
            assert (await log.verify_chain(run.run_id)).ok
    assert EMAIL.encode() not in path.read_bytes()
    assert (
        not Path(f"{path}-wal").exists() or EMAIL.encode() not in Path(f"{path}-wal").read_bytes()
    )
    assert _table(path, "SELECT count(*) FROM snapshots") != [(0,)]  # rebuilt


async def test_without_vacuum_freed_bytes_are_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await record_runs(log)
    async with await open_log(path) as log:
        report = await log.redact(match=EMAIL, vacuum=False)
        assert not report.vacuumed
    assert EMAIL.encode() not in path.read_bytes()


# --- what is recorded ---------------------------------------------------------------------------


async def test_each_redaction_is_recorded(log: EventLog) -> None:
    await _record(log, "r1", "t1", *_with_text())
    await _record(log, "r2", "t2", *_with_text())
    stored = (await log.read("r1"))[1]
    report = await log.redact(types=["custom"], match=EMAIL, reason="request 7", actor="dpo")
    assert [(e.run_id, e.seq, e.type) for e in report.events] == [
        ("r1", 1, "custom"),
        ("r2", 1, "custom"),
    ]
    records = await log.list_redactions()
    assert [(r.run_id, r.seq, r.type, r.scope, r.reason, r.actor) for r in records] == [
        ("r1", 1, "custom", "payload", "request 7", "dpo"),
        ("r2", 1, "custom", "payload", "request 7", "dpo"),
    ]
    from rewind.log import codec

    assert records[0].digest == hashlib.sha256(codec.encode(stored.payload).encode()).digest()
    assert await log.list_redactions(thread_id="t2") == records[1:]

    # Contents first, then the whole payload: one record, widened, the same digest.
    await log.redact("r1", [4], contents_only=True, match=EMAIL)
    first = (await log.list_redactions(run_id="r1"))[-1]
    assert (first.seq, first.scope) == (4, "contents")
    with pytest.raises(RedactionError, match=r"task\.started"):
        await log.redact("r1", [4])
    again = await log.redact("r1", [4], match=EMAIL)  # the text is gone: not selected
    assert (again.events, again.unchanged) == ([], 0)
    again = await log.redact("r1", [4], contents_only=True)  # selected, nothing to erase
    assert (again.events, again.unchanged) == ([], 1)
    await log.redact("r1", [2], contents_only=True)
    await log.redact("r1", [2])
    (token,) = [r for r in await log.list_redactions(run_id="r1") if r.seq == 2]
    assert token.scope == "payload"
    assert token.digest == hashlib.sha256(b'{"run_id":"c","token":"ann@example.com"}').digest()
    assert (await log.verify_chain("r1")).ok


async def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await record_runs(log)
    before = _stored(path)
    async with await open_log(path) as log:
        report = await log.redact(match=EMAIL, dry_run=True)
        assert report.dry_run and report.events and not report.vacuumed
        assert set(report.threads) == {AGENT, FLOW}
    assert _stored(path) == before


async def test_forks_on_other_threads_lose_their_caches_too(log: EventLog) -> None:
    await _record(log, "a", "t1", custom(EMAIL))
    await log.append(
        "b",
        [run_started(thread_id="t2", origin_run_id="a", origin_checkpoint_id="c")],
        expected_seq=0,
    )
    await log.append(
        "c",
        [run_started(thread_id="t3", origin_run_id="b", origin_checkpoint_id="d")],
        expected_seq=0,
    )
    await log.append("b", [run_ended(RunStatus.SUCCESS)], expected_seq=1)
    await log.append("c", [run_ended(RunStatus.SUCCESS)], expected_seq=1)
    await start_run(log, "x", "t4")
    report = await log.redact("a", [1])
    assert report.threads == ["t1", "t2", "t3"]


async def test_store_writes_are_matched_like_any_payload(log: EventLog) -> None:
    def write(key: str, value: Any) -> NewEvent:
        payload = {"namespace": ["users", "42"], "key": key, "value": value}
        return NewEvent(type="store.write", payload=payload)

    await _record(
        log,
        "r1",
        "t1",
        write("profile", {"email": EMAIL, "name": "Ann"}),
        write("prefs", {"theme": "dark"}),
        write("old", None),
        custom({"email": EMAIL}),
    )
    report = await log.redact(types=["store.write"], match=EMAIL, contents_only=True)
    assert [(e.seq, e.scope) for e in report.events] == [(1, "contents")]
    (event,) = await log.read("r1", after_seq=0, until_seq=1)
    assert event.payload == {
        "namespace": ["users", "42"],
        "key": "profile",
        "value": {"email": REDACTED, "name": "Ann"},
    }
    assert (await log.read("r1", after_seq=3, until_seq=4))[0].payload == {"email": EMAIL}


async def test_a_match_may_ignore_case(log: EventLog) -> None:
    await _record(log, "r1", "t1", custom("Ann@Example.COM"), custom("ZOË"), custom("zoe"))
    assert (await log.redact(match=EMAIL, dry_run=True)).events == []
    report = await log.redact(match=EMAIL.upper(), ignore_case=True)
    assert [e.seq for e in report.events] == [1]
    report = await log.redact(match="zoë", ignore_case=True)  # beyond ASCII: no SQL filter
    assert [e.seq for e in report.events] == [2]
    assert [e.payload for e in await log.read("r1")][1:4] == [REDACTED, REDACTED, "zoe"]


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({}, "say which events"),
        ({"seqs": [1]}, "give its run_id"),
        ({"run_id": "r1", "thread_id": "t1", "match": "x"}, "not both"),
        ({"run_id": "r1", "seqs": [-1]}, "0 or more"),
        ({"match": ""}, "must not be empty"),
        ({"types": ["chat token"]}, "not an event type"),
    ],
)
async def test_a_selection_that_makes_no_sense_is_refused(
    log: EventLog, selection: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await log.redact(**selection)


async def test_refusals_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await _record(log, "done", "t1", *_with_text())
        await start_run(log, "live", "t2", custom(EMAIL))
    before = _stored(path)
    async with await open_log(path) as log:
        with pytest.raises(UnknownRunError):
            await log.redact("nope", [1])
        with pytest.raises(UnknownThreadError):
            await log.redact(thread_id="nope", match=EMAIL)
        with pytest.raises(RedactionError, match="has no event 9") as caught:
            await log.redact("done", [1, 9])
        assert (caught.value.run_id, caught.value.seq) == ("done", 9)
        with pytest.raises(RedactionError, match="run live is still running"):
            await log.redact(match=EMAIL)
        with pytest.raises(RedactionError, match=r"event 0 of run done: a run\.started event"):
            await log.redact("done", [0, 1])
        with pytest.raises(RedactionError, match="structure"):
            await log.redact(types=["*"], run_id="done")
    assert _stored(path) == before


async def test_a_run_this_process_is_writing_is_refused(log: EventLog) -> None:
    await log.append("live", [run_started(thread_id="t1"), custom(EMAIL)], expected_seq=0)
    with pytest.raises(RedactionError, match="still running"):
        await log.redact("live", [1])
    await log.append("live", [run_ended(RunStatus.SUCCESS)], expected_seq=2)
    assert len((await log.redact("live", [1])).events) == 1


async def test_a_failure_midway_leaves_the_log_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await record_runs(log)
    before = _stored(path)

    def crash(*_: Any) -> Any:
        raise RuntimeError("the power went out")

    monkeypatch.setattr(erasure, "_drop_caches", crash)  # after every payload was rewritten
    async with await open_log(path) as log:
        with pytest.raises(RuntimeError, match="power"):
            await log.redact(match=EMAIL)
        for run in await log.list_runs():
            assert (await log.verify_chain(run.run_id)).ok
    assert _stored(path) == before


async def test_pruned_runs_take_their_redaction_records_along(log: EventLog) -> None:
    await _record(log, "r1", "t1", custom(EMAIL))
    await log.redact(match=EMAIL)
    assert len(await log.list_redactions()) == 1
    await log.delete_thread("t1")
    assert await log.list_redactions() == []


def test_a_redaction_and_another_logs_appends_take_turns(tmp_path: Path) -> None:
    """Another log on the file appends while it is redacted: both chains verify."""
    path = tmp_path / "rewind.db"

    async def main() -> None:
        async with await open_log(path) as log:
            await _record(log, "old", "t1", *_with_text())
        async with await open_log(path) as writer, await open_log(path) as redactor:
            await writer.append("new", [run_started(thread_id="t2")], expected_seq=0)

            async def appends() -> None:
                for i in range(200):
                    await writer.append("new", [custom(EMAIL)], expected_seq=i + 1)
                await writer.flush()

            await asyncio.gather(appends(), redactor.redact("old", [1, 2, 4], match=EMAIL))
            for run in ("old", "new"):
                assert (await redactor.verify_chain(run)).ok

    asyncio.run(main())


async def test_the_tokens_of_a_reply_that_held_the_text_go_with_it(log: EventLog) -> None:
    """A model streams the text in pieces no match finds: its call's tokens go too."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from rewind.cli.target import bind
    from rewind.graph import END, START, MessagesState, StateGraph

    def replying(said: str) -> Any:
        model = FakeListChatModel(responses=[said])  # (its parameters are recorded too)

        def reply(state: MessagesState) -> dict[str, Any]:
            return {"messages": [model.invoke(state["messages"])]}

        return reply

    for thread, said in (("t1", f"Writing to {EMAIL}"), ("t2", "Nothing else")):
        builder = StateGraph(MessagesState)
        builder.add_node("reply", replying(said))
        builder.add_edge(START, "reply")
        builder.add_edge("reply", END)
        config = {"configurable": {"thread_id": thread}}
        start = {"messages": [("user", "hi")]}
        async for _ in bind(builder.compile(), log).astream(start, config, stream_mode="messages"):
            pass
    (first,) = await log.list_runs(thread_id="t1")
    (second,) = await log.list_runs(thread_id="t2")
    tokens = await log.read(first.run_id, types=[EventType.CHAT_TOKEN])
    assert len(tokens) == len(f"Writing to {EMAIL}")  # one a character: no token holds it

    report = await log.redact(match=EMAIL, contents_only=True)

    # (Tokens stored packed together are reported as their row: seqs seq - count + 1 to seq.)
    redacted = {(e.run_id, s) for e in report.events for s in range(e.seq - e.count + 1, e.seq + 1)}
    assert {(first.run_id, t.seq) for t in tokens} <= redacted
    assert [e for e in report.events if e.run_id != first.run_id] == []  # the other stays
    stored = await log.read(first.run_id, types=[EventType.CHAT_TOKEN])
    assert {t.payload["token"] for t in stored} == {REDACTED}
    chunks = [c async for c in areplay(log, first.run_id, stream_mode="messages")]
    assert {m.content for m, _ in chunks} == {"[redacted]"}
    assert len(await log.read(second.run_id, types=[EventType.CHAT_TOKEN])) == len("Nothing else")
