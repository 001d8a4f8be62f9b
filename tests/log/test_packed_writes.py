"""How tokens are stored: consecutive tokens of one task share a row (``events.packed``), each
still its own event with its own seq and position; anything else breaks the row."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessageChunk

from rewind.events import EventType, NewEvent, StoredEvent, run_started
from rewind.log import LogOptions, open_log
from rewind.log.packs import PACK_MAX, texts

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
USAGE = {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}


def _token(i: int, *, task_id: str = "t1", node: str = "chat", step: int = 1) -> NewEvent:
    return NewEvent(
        type=EventType.CHAT_TOKEN,
        payload={"run_id": "call-1", "parent_run_id": None, "token": f"w{i}"},
        ts=T0 + timedelta(microseconds=7 * i),
        step=step,
        node=node,
        task_id=task_id,
    )


async def _append(path: Path, batches: list[list[NewEvent]]) -> None:
    """Start run ``r`` and append each batch, one by one without waiting (as a run does)."""
    log = await open_log(path, options=LogOptions(commit_delay=0.05))
    try:
        await log.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        seq = 1
        for batch in batches:
            for event in batch:
                log.append_nowait("r", [event], expected_seq=seq)
                seq += 1
        await log.flush()
    finally:
        await log.aclose()


def _rows(path: Path) -> list[tuple[int, int, str, int | None, int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT position, seq, type, packed, ts, payload FROM events ORDER BY position"
        ).fetchall()


async def test_consecutive_tokens_of_a_task_share_one_row_keyed_by_the_last(
    tmp_path: Path,
) -> None:
    await _append(tmp_path / "log.db", [[_token(i) for i in range(10)]])
    (start, row) = _rows(tmp_path / "log.db")
    assert start[1] == 0 and start[3] is None  # run.started: a row of its own
    position, seq, type_, packed, ts, payload = row
    assert (position, seq, type_, packed) == (11, 10, "chat.token", 10)
    first = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert ts == first  # the first token's time; each token's offset in the payload
    prefix, offsets, rests = json.loads(payload)
    assert offsets == [7 * i for i in range(10)]
    # The call's ids once, in the prefix its tokens' texts share; each token's text after it.
    assert prefix.count("call-1") == 1 and all("call-1" not in r for r in rests)
    texts = [json.loads(prefix + rest) for rest in rests]
    assert [p["token"] for p in texts] == [f"w{i}" for i in range(10)]


async def test_a_row_holds_at_most_pack_max_tokens(tmp_path: Path) -> None:
    count = PACK_MAX * 2 + 3
    await _append(tmp_path / "log.db", [[_token(i) for i in range(count)]])
    rows = _rows(tmp_path / "log.db")[1:]
    assert sum(r[3] or 1 for r in rows) == count
    assert all((r[3] or 1) <= PACK_MAX for r in rows)
    # Keyed by their last events: each row's first seq follows the row before it.
    firsts = [r[1] - (r[3] or 1) + 1 for r in rows]
    assert firsts == [1] + [r[1] + 1 for r in rows[:-1]]


async def test_another_event_or_another_task_ends_a_row(tmp_path: Path) -> None:
    custom = NewEvent(type=EventType.CUSTOM, payload={"x": 1}, step=1, node="chat", task_id="t1")
    events = [
        *(_token(i) for i in range(3)),
        custom,
        *(_token(i) for i in range(3, 5)),
        *(_token(i, task_id="t2") for i in range(5, 8)),
        _token(8, task_id="t2", step=2),
    ]
    await _append(tmp_path / "log.db", [events])
    rows = [(seq, type_, packed) for _, seq, type_, packed, _, _ in _rows(tmp_path / "log.db")]
    assert rows == [
        (0, "run.started", None),
        (3, "chat.token", 3),
        (4, "custom", None),
        (6, "chat.token", 2),
        (9, "chat.token", 3),
        (10, "chat.token", None),  # one token alone is an ordinary row
    ]


def _streamed(
    i: int,
    call: str = "call-1",
    *,
    text: str | None = None,
    ts: datetime | str | None = "at",
    **fields: Any,
) -> NewEvent:
    """A token as a chat model's recorder makes it: with its chunk (plain, unless ``fields``
    give it more)."""
    token = f"w{i}" if text is None else text
    chunk = AIMessageChunk(content=token, id=f"lc_run--{call}", **fields)
    return NewEvent(
        type=EventType.CHAT_TOKEN,
        payload={"run_id": call, "parent_run_id": None, "token": token, "chunk": chunk},
        ts=T0 + timedelta(microseconds=7 * i) if ts == "at" else ts,  # type: ignore[arg-type]
        step=1,
        node="chat",
        task_id="t1",
    )


async def _stream(path: Path, events: list[NewEvent]) -> list[StoredEvent]:
    """Append ``events`` to run ``r`` as a run streams tokens (:meth:`append_token`), then
    read them back."""
    log = await open_log(path)
    try:
        await log.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        for seq, event in enumerate(events, start=1):
            log.append_token("r", event, seq)
        await log.flush()
        return (await log.read("r"))[1:]
    finally:
        await log.aclose()


def _same(read: list[StoredEvent], appended: list[NewEvent]) -> None:
    """Each event read back is the one appended: type, time, fields and payload (its chunk
    built back equal)."""
    assert len(read) == len(appended)
    for got, sent in zip(read, appended, strict=True):
        assert (got.type, got.step, got.node, got.task_id) == (
            sent.type,
            sent.step,
            sent.node,
            sent.task_id,
        )
        if sent.ts is not None:
            assert got.ts == sent.ts.replace(tzinfo=sent.ts.tzinfo or UTC)
        assert got.payload == sent.payload


async def test_streamed_tokens_are_gathered_with_their_calls_fields_once(tmp_path: Path) -> None:
    events = [_streamed(i) for i in range(20)]
    read = await _stream(tmp_path / "log.db", events)
    _same(read, events)
    (_, row) = _rows(tmp_path / "log.db")
    _position, seq, _type, packed, _ts, payload = row
    assert (seq, packed) == (20, 20)
    call, offsets, tokens = json.loads(payload)
    assert call == {"run_id": "call-1", "parent_run_id": None}  # (the derived chunk id: implied)
    assert offsets == [7 * i for i in range(20)] and tokens == [f"w{i}" for i in range(20)]


async def test_streamed_tokens_of_calls_in_turns_and_chunks_with_more_keep_apart(
    tmp_path: Path,
) -> None:
    events = [
        *(_streamed(i) for i in range(3)),
        *(_streamed(i, "call-2") for i in range(3, 5)),  # another call's
        _streamed(5, "call-2", usage_metadata=USAGE),  # a chunk with more than its text
        *(_streamed(i, "call-2") for i in range(6, 9)),
    ]
    _same(await _stream(tmp_path / "log.db", events), events)
    rows = [(seq, packed) for _, seq, _, packed, _, _ in _rows(tmp_path / "log.db")][1:]
    assert rows == [(3, 3), (5, 2), (6, None), (9, 3)]


async def test_a_token_json_cannot_hold_as_it_is_still_goes_in_its_row(tmp_path: Path) -> None:
    """A lone surrogate (JSON's fast writer refuses it): the row takes the codec's texts."""
    events = [_streamed(0), _streamed(1, text="bad \ud800 half"), _streamed(2)]
    read = await _stream(tmp_path / "log.db", events)
    _same(read, events)
    assert [packed for _, _, _, packed, _, _ in _rows(tmp_path / "log.db")][1:] == [3]


async def test_a_token_without_a_time_or_with_a_naive_one_is_stamped_in_utc(
    tmp_path: Path,
) -> None:
    naive = datetime(2026, 12, 6, 9, 0, 1)
    events = [_streamed(0), _streamed(1, ts=naive), _streamed(2, ts=None)]
    before = datetime.now(UTC)
    read = await _stream(tmp_path / "log.db", events)
    _same(read[:2], events[:2])
    assert read[1].ts == naive.replace(tzinfo=UTC)
    assert before <= read[2].ts <= datetime.now(UTC)


async def test_a_pack_closes_when_anything_is_queued_after_it_or_it_is_taken_to_commit(
    tmp_path: Path,
) -> None:
    """Positions follow the order of appends across runs: a run's token after another run's
    event does not join the pack queued before that event; nor does a token join a pack the
    writer took to commit, or one whose append is full. Every token is stored, in order."""
    log = await open_log(tmp_path / "log.db", options=LogOptions(max_group_events=40))
    try:
        for run in ("a", "b"):
            await log.append(run, [run_started(thread_id=run)], expected_seq=0, new_run=True)
        seqs = {"a": 1, "b": 1}

        def token(run: str) -> None:
            log.append_token(run, _streamed(seqs[run], f"call-{run}"), seqs[run])
            seqs[run] += 1

        for _ in range(3):
            token("a")
        log.append_nowait("b", [NewEvent(type=EventType.CUSTOM, payload={})], expected_seq=1)
        seqs["b"] += 1
        for _ in range(2):
            token("a")
        await asyncio.sleep(0.01)  # the writer takes what is queued to commit
        for _ in range(50):  # (more than an append of 40 events holds)
            token("a")
        await log.flush()
        events = await log.read_all()
        a = [e for e in events if e.run_id == "a"][1:]
        assert [e.seq for e in a] == list(range(1, 56))
        assert [e.payload["token"] for e in a] == [f"w{i}" for i in range(1, 56)]
        custom = next(e for e in events if e.run_id == "b" and e.seq == 1)
        assert a[2].position < custom.position < a[3].position
        with sqlite3.connect(tmp_path / "log.db") as conn:
            rows = conn.execute(
                "SELECT seq, packed FROM events e JOIN runs r USING (run_key) "
                "WHERE r.run_id = 'a' AND seq > 0 ORDER BY seq"
            ).fetchall()
        assert rows[:2] == [(3, 3), (5, 2)]  # cut by b's event, then by the commit
        assert sum(packed or 1 for _, packed in rows) == 55 and len(rows) >= 4
    finally:
        await log.aclose()


async def test_tokens_whose_chunks_carry_the_same_metadata_share_a_row_that_holds_it_once(
    tmp_path: Path,
) -> None:
    """A provider's chat model tags every chunk (ChatOpenAI: ``response_metadata=
    {"model_provider": "openai"}``): its tokens are gathered as plain ones are, the metadata
    stored once for the row, each token read back with its chunk whole; a chunk with other
    metadata (the last, with its finish reason) is stored on its own."""
    tagged = {"response_metadata": {"model_provider": "openai"}}
    events = [_streamed(i, **tagged) for i in range(30)]
    last = {"response_metadata": {"model_provider": "openai", "finish_reason": "stop"}}
    events.append(_streamed(30, **last))
    read = await _stream(tmp_path / "log.db", events)
    _same(read, events)
    assert read[0].payload["chunk"].response_metadata == {"model_provider": "openai"}
    # Built as validating its fields builds it (fields set included), for each token anew.
    built = read[1].payload["chunk"]
    assert built.model_fields_set == {"content", "response_metadata", "id"}
    assert built.response_metadata is not read[2].payload["chunk"].response_metadata
    rows = _rows(tmp_path / "log.db")[1:]
    assert [(seq, packed) for _, seq, _, packed, _, _ in rows] == [(30, 30), (31, None)]
    call, _offsets, tokens = json.loads(rows[0][5])
    assert tokens == [f"w{i}" for i in range(30)]
    assert json.loads(call["chunk"]) == tagged  # once, not per token
    assert len(rows[0][5]) < 30 * 12 + 200
    # Each token's text, as a row of its own would store it (what search and redaction read).
    each = texts(rows[0][5])
    assert each is not None and [json.loads(t)["token"] for t in each] == tokens
    assert all('"model_provider":"openai"' in t for t in each)
