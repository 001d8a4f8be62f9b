"""The hash chain: each event's hash covers the event and the hash of the one before it.

An edit, removal or insertion anywhere in a run's log breaks the chain from that event on,
which :func:`check_chain` reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from rewind.log.records import ChainReport

__all__ = ["GENESIS", "check_chain", "event_hash", "from_micros", "to_micros"]

GENESIS = bytes(32)
"""The 'previous hash' of a run's first event."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(ts: datetime) -> int:
    """Microseconds since the epoch (naive datetimes are taken as UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MICROSECOND


def from_micros(us: int) -> datetime:
    """The UTC datetime ``us`` microseconds after the epoch."""
    return _EPOCH + _MICROSECOND * us  # (timedelta * int: exact, and cheaper to build)


_NONE = "\x00"
_sha256 = hashlib.sha256


def event_hash(
    prev: bytes,
    run_id: str,
    seq: int,
    type_: str,
    ts_us: int,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
    codec: int,
    payload: str,
) -> bytes:
    """The chained SHA-256 of one event."""
    header = (
        f"{run_id}\x1f{seq}\x1f{type_}\x1f{ts_us}\x1f{_NONE if step is None else step}\x1f"
        f"{_NONE if ns is None else ns}\x1f{_NONE if node is None else node}\x1f"
        f"{_NONE if task_id is None else task_id}\x1f{codec}\x1e{payload}"
    )
    return _sha256(prev + header.encode()).digest()


ChainRow = tuple[int, str, int, int | None, str | None, str | None, str | None, int, str, bytes]
"""(seq, type, ts_us, step, ns, node, task_id, codec, payload, hash) as stored."""


def check_chain(run_id: str, rows: Iterable[ChainRow], last_hash: bytes) -> ChainReport:
    """Check a run's stored rows (in seq order) against their chain and the run's last hash."""
    prev = GENESIS
    count = 0
    for seq, type_, ts_us, step, ns, node, task_id, codec, payload, stored in rows:
        if seq != count:
            reason = f"seq {count} is missing" if seq > count else f"seq {seq} is out of order"
            return ChainReport(
                run_id=run_id, ok=False, checked=count, first_bad_seq=count, reason=reason
            )
        expected = event_hash(
            prev, run_id, seq, type_, ts_us, step, ns, node, task_id, codec, payload
        )
        if expected != bytes(stored):
            return ChainReport(
                run_id=run_id,
                ok=False,
                checked=count,
                first_bad_seq=seq,
                reason="its content does not match its hash (altered)",
            )
        prev = bytes(stored)
        count += 1
    if prev != bytes(last_hash):
        return ChainReport(
            run_id=run_id,
            ok=False,
            checked=count,
            first_bad_seq=count,
            reason="events after it were removed (the run's last hash differs)",
        )
    return ChainReport(run_id=run_id, ok=True, checked=count)
