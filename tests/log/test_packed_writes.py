"""How tokens are stored: consecutive tokens of one task share a row (``events.packed``), each
still its own event with its own seq and position; anything else breaks the row."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rewind.events import EventType, NewEvent, run_started
from rewind.log import LogOptions, open_log
from rewind.log.packs import PACK_MAX

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


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
