"""Redacting tokens the writer stored together (a packed row, :mod:`rewind.log.packs`): any
token selected takes its row along, each of the row's events reads as redacted, the record is
the row's and says how many events it held, and the chain still verifies (and breaks where the
redacted row is edited)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rewind import NewEvent, RunStatus, open_log, run_ended, run_started
from rewind.events import REDACTED, EventType, StoredEvent
from rewind.log import EventLog, RedactedEvent
from rewind.log.packs import pack_payload, texts
from tests.log.recorded import EMAIL
from tests.log.test_packed_reads import at, packed_rows, token, view, write

# Run r1 of tests.log.test_packed_reads' script, by seq: 0 run.started, 1 custom, 2-257 and
# 258-301 tokens of call c1 (two packed rows), 302 custom, 303-312 tokens of call c2 (a row),
# 313 a token alone, 314 custom, 315-317 tokens (a row), 318 run.ended.
FIRST_ROW = range(2, 258)
TOKENS = [*range(2, 302), *range(303, 314), *range(315, 318)]


@pytest.fixture(params=["batches", "streamed"])
async def logs(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[EventLog, EventLog]]:
    """The script written packed (to be redacted; in either of the layouts of
    :func:`tests.log.test_packed_reads.write`), and one by one (to compare with)."""
    await write(tmp_path / "packed.db", request.param)
    await write(tmp_path / "plain.db", "one_by_one")
    async with (
        await open_log(tmp_path / "packed.db") as packed,
        await open_log(tmp_path / "plain.db") as plain,
    ):
        yield packed, plain


def _payloads(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT position, payload FROM events ORDER BY position").fetchall()


def _seqs(events: list[StoredEvent], seqs: range | list[int]) -> list[StoredEvent]:
    wanted = set(seqs)
    return [e for e in events if e.seq in wanted]


def _others(events: list[StoredEvent], seqs: range | list[int]) -> list[StoredEvent]:
    wanted = set(seqs)
    return [e for e in events if e.seq not in wanted]


async def test_one_token_redacts_its_row(logs: tuple[EventLog, EventLog]) -> None:
    packed, plain = logs
    report = await packed.redact("r1", [100], reason="a request")
    assert report.events == [
        RedactedEvent(
            run_id="r1", thread_id="t1", seq=257, type="chat.token", scope="payload", count=256
        )
    ]
    read, before = await packed.read("r1"), await plain.read("r1")
    row = _seqs(read, FIRST_ROW)
    assert [(e.seq, e.position) for e in row] == [
        (e.seq, e.position) for e in _seqs(before, FIRST_ROW)
    ]
    assert {e.payload for e in row} == {REDACTED}
    assert {e.ts for e in row} == {at(0)}  # the row's time: its times went with its payload
    assert view(_others(read, FIRST_ROW)) == view(_others(before, FIRST_ROW))
    inner = await packed.read("r1", after_seq=100, until_seq=110)
    assert [(e.seq, e.payload) for e in inner] == [(s, REDACTED) for s in range(101, 111)]
    chain = await packed.verify_chain("r1")
    assert chain.ok and chain.redacted == 256 and chain.checked == 319
    (record,) = await packed.list_redactions(run_id="r1")
    assert (record.seq, record.count, record.scope, record.reason) == (
        257,
        256,
        "payload",
        "a request",
    )
    again = await packed.redact("r1", [5])
    assert again.events == [] and again.unchanged == 256


async def test_seqs_of_two_rows_and_of_a_token_alone(logs: tuple[EventLog, EventLog]) -> None:
    packed, _ = logs
    path = Path(packed.path or "")
    before = _payloads(path)
    report = await packed.redact("r1", [3, 260, 261, 313], dry_run=True)
    assert [(e.seq, e.count) for e in report.events] == [(257, 256), (301, 44), (313, 1)]
    assert _payloads(path) == before
    report = await packed.redact("r1", [3, 260, 261, 313])
    assert sum(e.count for e in report.events) == 301
    read = await packed.read("r1", types=[EventType.CHAT_TOKEN])
    assert [e.seq for e in read if e.payload == REDACTED] == [*range(2, 302), 313]
    assert (await packed.verify_chain("r1")).redacted == 301


async def test_contents_only_keeps_each_tokens_time_and_ids(
    logs: tuple[EventLog, EventLog],
) -> None:
    packed, plain = logs
    report = await packed.redact("r1", types=["chat.token"], contents_only=True)
    assert [(e.seq, e.count, e.scope) for e in report.events] == [
        (257, 256, "contents"),
        (301, 44, "contents"),
        (312, 10, "contents"),
        (313, 1, "contents"),
        (317, 3, "contents"),
    ]
    read, before = await packed.read("r1"), await plain.read("r1")
    tokens = _seqs(read, TOKENS)
    assert [(e.seq, e.position, e.ts, e.task_id) for e in tokens] == [
        (e.seq, e.position, e.ts, e.task_id) for e in _seqs(before, TOKENS)
    ]
    assert {e.payload["token"] for e in tokens} == {REDACTED}
    assert [e.payload["run_id"] for e in tokens] == [
        e.payload["run_id"] for e in _seqs(before, TOKENS)
    ]
    assert view(_others(read, TOKENS)) == view(_others(before, TOKENS))
    assert (await packed.verify_chain("r1")).redacted == len(TOKENS)
    # Then whole: each row's payload becomes the marker; the records say so.
    whole = await packed.redact("r1", types=["chat.token"])
    assert [(e.seq, e.scope) for e in whole.events][:2] == [(257, "payload"), (301, "payload")]
    assert {e.payload for e in _seqs(await packed.read("r1"), TOKENS)} == {REDACTED}
    chain = await packed.verify_chain("r1")
    assert chain.ok and chain.redacted == len(TOKENS)
    assert {r.scope for r in await packed.list_redactions(run_id="r1")} == {"payload"}


async def test_a_text_in_one_token_takes_its_row(logs: tuple[EventLog, EventLog]) -> None:
    """Matched in each token's own text: the tokens of the row of seqs 258 to 301 all begin
    with "w2", which a row of encoded tokens stores once, apart from each one's rest (a row
    of tokens gathered as they came holds each token whole)."""
    packed, _ = logs
    path = Path(packed.path or "")
    with sqlite3.connect(path) as conn:
        (text,) = conn.execute("SELECT payload FROM events WHERE seq = 301").fetchone()
    assert "w263 " in "".join(texts(text) or [])
    if isinstance(json.loads(text)[0], str):
        assert "w263" not in text
    report = await packed.redact(match="w263")
    assert [(e.run_id, e.seq, e.count, e.scope) for e in report.events] == [
        ("r1", 301, 44, "payload")
    ]
    report = await packed.redact(match="W12", ignore_case=True, contents_only=True)
    assert [(e.seq, e.count, e.scope) for e in report.events] == [(257, 256, "contents")]
    assert (await packed.verify_chain("r1")).ok


async def test_a_model_calls_tokens_go_with_the_message_that_held_the_text(
    tmp_path: Path,
) -> None:
    """Its tokens spell the text in pieces no match finds; another call's tokens stay."""
    pieces = ["Writing", " to", " ann", "@", "example", ".", "com"]
    assert "".join(pieces[2:]).strip() == EMAIL
    spelled = [
        NewEvent(
            type=EventType.CHAT_TOKEN,
            payload={"run_id": "m1", "token": piece},
            ts=at(i),
            task_id="a",
        )
        for i, piece in enumerate(pieces)
    ]
    ended = NewEvent(
        type=EventType.CHAT_ENDED, payload={"run_id": "m1", "text": "".join(pieces)}, ts=at(9)
    )
    other = [token(20 + i, "m2", task="b") for i in range(5)]
    async with await open_log(tmp_path / "calls.db") as log:
        batch = [run_started(thread_id="t", ts=at(0)), *spelled, ended, *other]
        await log.append("r", [*batch, run_ended(RunStatus.SUCCESS, ts=at(30))], expected_seq=0)
        await log.flush()
        assert [count for *_, count in packed_rows(tmp_path / "calls.db")] == [7, 5]
        report = await log.redact(match=EMAIL)
        assert [(e.seq, e.type, e.count) for e in report.events] == [
            (7, "chat.token", 7),
            (8, "chat.ended", 1),
        ]
        tokens = await log.read("r", types=[EventType.CHAT_TOKEN])
        assert [e.payload == REDACTED for e in tokens] == [True] * 7 + [False] * 5
        assert (await log.verify_chain("r")).ok


@pytest.mark.parametrize("scope", ["payload", "contents"])
async def test_an_edited_redacted_row_breaks_the_chain(
    logs: tuple[EventLog, EventLog], scope: str
) -> None:
    packed, _ = logs
    path = Path(packed.path or "")
    await packed.redact("r1", [100], contents_only=scope == "contents")
    with sqlite3.connect(path) as conn:
        (text, ts) = conn.execute("SELECT payload, ts FROM events WHERE seq = 257").fetchone()
        if scope == "payload":  # any text but the marker
            edited = pack_payload([ts, ts + 1], ['"a"', '"b"'])
        else:  # the markers put back as texts
            _, offsets, _ = json.loads(text)
            each = [t.replace('{"__rw__":"redacted"}', '"w"') for t in texts(text) or []]
            edited = pack_payload([ts + dt for dt in offsets], each)
        conn.execute("UPDATE events SET payload = ? WHERE seq = 257 AND run_key = 1", (edited,))
    async with await open_log(path) as log:
        report = await log.verify_chain("r1")
    assert not report.ok and report.first_bad_seq == 2
    assert report.reason is not None and "marker (altered)" in report.reason
