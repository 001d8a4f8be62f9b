"""The hash chain: each event's hash covers the event and the hash of the one before it.

An edit, removal or insertion anywhere in a run's log breaks the chain from that event on,
which :func:`check_chain` reports.

Two formulas, both SHA-256 over the previous hash (32 zero bytes for a run's first event), the
event's header (run id, seq, type, time, step, namespace, node, task id and codec version,
separated by ``\\x1f``, ended by ``\\x1e``) and its payload:

* **over the payload's digest** (:func:`digest_hash`): ``sha256(prev + header +
  sha256(payload))``. Every run created since schema revision 0005 is chained this way. A
  payload can then be erased (``rewind db redact``) and the chain still verifies: the digest
  of the erased payload is kept in the ``redactions`` row that records the erasure, and the
  checker uses it in place of the digest of the marker now stored.
* **over the payload's text** (:func:`text_hash`): ``sha256(prev + header + payload)``, as
  every event written before revision 0005 was. Those runs keep their hashes, and verify as
  they always did. Redacting an event of such a run first checks the run's chain, then
  re-chains its events from the first redacted one on with the digest formula; the run's
  ``chain_from`` column says where the digest formula begins (``NULL``: nowhere, the whole run
  is chained over text), and the redaction row keeps the run's last hash from before.

The digest costs no stored byte: an event that was never redacted has its digest computed
from its payload when the chain is checked.

A packed row (several consecutive tokens in one row, see :mod:`rewind.log.packs`) is chained
as one: its header holds its last event's seq and its first event's time, and its payload is
the row's. Its events' seqs must follow the row before it without a gap, so an edit of its
``packed`` count breaks the chain there as any other edit does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from rewind.log.codec import REDACTED_TEXT, TAG
from rewind.log.packs import texts
from rewind.log.records import ChainReport

__all__ = [
    "GENESIS",
    "ChainRow",
    "check_chain",
    "digest_hash",
    "event_hash",
    "from_micros",
    "payload_digest",
    "text_hash",
    "to_micros",
]

GENESIS = bytes(32)
"""The 'previous hash' of a run's first event."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_micros(ts: datetime) -> int:
    """Microseconds since the epoch (naive datetimes are taken as UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - EPOCH) // MICROSECOND


def from_micros(us: int) -> datetime:
    """The UTC datetime ``us`` microseconds after the epoch."""
    return EPOCH + MICROSECOND * us  # (timedelta * int: exact, and cheaper to build)


_NONE = "\x00"
_sha256 = hashlib.sha256
_MARKER = f'"{TAG}":"redacted"'
"""What the text of a payload redacted in part holds (each value replaced)."""


def payload_digest(payload: str) -> bytes:
    """The SHA-256 of a payload's text: what the digest formula chains over."""
    return _sha256(payload.encode()).digest()


def _header(
    run_id: str,
    seq: int,
    type_: str,
    ts_us: int,
    step: int | None,
    ns: str | None,
    node: str | None,
    task_id: str | None,
    codec: int,
) -> str:
    """The fields an event's hash covers before its payload (text or digest), as both chain
    formulas write them."""
    return (
        f"{run_id}\x1f{seq}\x1f{type_}\x1f{ts_us}\x1f{_NONE if step is None else step}\x1f"
        f"{_NONE if ns is None else ns}\x1f{_NONE if node is None else node}\x1f"
        f"{_NONE if task_id is None else task_id}\x1f{codec}\x1e"
    )


def digest_hash(
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
    digest: bytes,
) -> bytes:
    """The chained SHA-256 of one event, over its payload's digest (runs since revision 0005)."""
    header = _header(run_id, seq, type_, ts_us, step, ns, node, task_id, codec)
    return _sha256(prev + header.encode() + digest).digest()


def text_hash(
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
    """The chained SHA-256 of one event, over its payload's text (runs before revision 0005)."""
    header = _header(run_id, seq, type_, ts_us, step, ns, node, task_id, codec)
    return _sha256(prev + (header + payload).encode()).digest()


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
    """The chained SHA-256 of one event as a new run chains it (over its payload's digest)."""
    return digest_hash(
        prev, run_id, seq, type_, ts_us, step, ns, node, task_id, codec, payload_digest(payload)
    )


ChainRow = tuple[
    int,
    str,
    int,
    int | None,
    str | None,
    str | None,
    str | None,
    int,
    str,
    bytes,
    bytes | None,
    str | None,
    int | None,
]
"""(seq, type, ts_us, step, ns, node, task_id, codec, payload, hash, digest, scope, packed) as
stored: the digest of the payload a redaction erased and what it replaced (``payload`` or
``contents``), both ``None`` for a row never redacted, and the number of events of a packed
row (``None`` for a row of one)."""


def check_chain(
    run_id: str,
    rows: Iterable[ChainRow],
    last_hash: bytes,
    *,
    chain_from: int | None,
) -> ChainReport:
    """Check a run's stored rows (in seq order) against their chain and the run's last hash.

    Args:
        run_id: The run.
        rows: Its rows in seq order.
        last_hash: The run's last hash, as its ``runs`` row has it.
        chain_from: The first seq chained over its payload's digest (``None``: every event is
            chained over its payload's text).
    """
    prev = GENESIS
    count = redacted = 0  # events (a packed row's each), so count is the next seq expected
    for row in rows:
        seq, type_, ts_us, step, ns, node, task_id, codec, payload, stored, erased, scope, k = row
        held = 1 if k is None else k
        first = seq - held + 1
        if k is not None and k < 2:
            reason = f"it is recorded as a row of {k} events (altered)"
            return _broken(run_id, count, count, reason)
        if first != count:
            missing = f"seq {count} is missing"
            reason = missing if first > count else f"seq {first} is out of order"
            if k is not None:
                reason += f" (the row of seqs {first} to {seq}, as its count of {k} says)"
            return _broken(run_id, count, count, reason)
        over_digest = chain_from is not None and seq >= chain_from
        if erased is not None:
            problem = _redaction_problem(payload, scope, over_digest, k)
            if problem is not None:
                return _broken(run_id, count, first, problem)
            redacted += held
        if over_digest:
            digest = bytes(erased) if erased is not None else payload_digest(payload)
            expected = digest_hash(
                prev, run_id, seq, type_, ts_us, step, ns, node, task_id, codec, digest
            )
        else:
            expected = text_hash(
                prev, run_id, seq, type_, ts_us, step, ns, node, task_id, codec, payload
            )
        if expected != bytes(stored):
            return _broken(run_id, count, first, "its content does not match its hash (altered)")
        prev = bytes(stored)
        count += held
    if prev != bytes(last_hash):
        reason = "events after it were removed (the run's last hash differs)"
        return _broken(run_id, count, count, reason)
    return ChainReport(run_id=run_id, ok=True, checked=count, redacted=redacted)


def _redaction_problem(
    payload: str, scope: str | None, over_digest: bool, packed: int | None
) -> str | None:
    """What is wrong with a redacted row as stored, if anything."""
    if not over_digest:
        return "it is recorded as redacted, but its run's chain covers its payload's text"
    if scope == "payload" and payload != REDACTED_TEXT:
        return "it is recorded as redacted whole, but its payload is not the marker (altered)"
    # A packed row's tokens each as a row of its own would store it (its own text splits them).
    each = (texts(payload) or [payload]) if packed is not None else [payload]
    if not any(_MARKER in text for text in each):
        return "it is recorded as redacted, but its payload holds no redaction marker (altered)"
    return None


def _broken(run_id: str, checked: int, seq: int, reason: str) -> ChainReport:
    return ChainReport(run_id=run_id, ok=False, checked=checked, first_bad_seq=seq, reason=reason)
