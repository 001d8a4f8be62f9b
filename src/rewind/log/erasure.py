"""Erasing values from the log for good (privacy requests): :meth:`LogErasure.redact`.

One redaction is one write transaction: it selects the events, rewrites their payloads (see
:mod:`rewind.log.redaction`), records each in ``redactions`` with the digest of the payload it
erased (so the run's hash chain still verifies: see :mod:`rewind.log.chain`), re-chains the runs
written before schema revision 0005 from their first redacted event on (after checking their
chain), and drops the caches of folded state (thread heads, snapshots) of every thread whose
state the erased values reach: the threads of the runs redacted and of every run that starts
from one of them. A crash leaves the log as it was before, or as it is after, and its chains
verify either way. Then, unless told not to, the file is compacted (``VACUUM``): SQLite keeps
freed pages, with their old bytes, until then.

A packed row (a chat model's consecutive tokens stored together, see :mod:`rewind.log.packs`)
is redacted as a whole, whichever of its tokens is selected (by seq, type, text, or as a token
of a model call whose message held the text): a token on its own says little, and its
neighbours say the rest. Its payload becomes the redaction marker (each of its events reads as
redacted, at the row's time), or, with ``contents_only``, each of its tokens loses its text as
a token of its own row would (each keeps its time and ids). The record of the redaction is the
row's: keyed by its last event's seq, with the number of events it held.

Runs still running are refused: the process running one holds its state in memory and would
write the erased values again with its next checkpoint. A run of this log that has ended can no
longer be appended to, so no writer races a redaction. Processes of a release older than
revision 0005 must not write to a database being redacted (they would chain a re-chained run's
next events over text); they refuse a migrated database when they open it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rewind.errors import RedactionError, UnknownThreadError
from rewind.events import EventType, RunStatus
from rewind.log.chain import GENESIS, check_chain, digest_hash, from_micros, payload_digest
from rewind.log.codec import REDACTED_TEXT
from rewind.log.packs import PACK_MAX, offsets, pack_payload, texts
from rewind.log.reads import chain_rows, run_row
from rewind.log.records import RedactedEvent, RedactionRecord, RedactionReport
from rewind.log.redaction import RefusedError, Rewrite, escaped, holds_text, redact_text
from rewind.log.schema import events, redactions, runs, snapshots, thread_heads
from rewind.log.writer import GroupWriter

__all__ = ["LogErasure", "Selection"]

T = TypeVar("T")

_CHAT_ENDED, _CHAT_TOKEN = EventType.CHAT_ENDED.value, EventType.CHAT_TOKEN.value
_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_.*?\[\]-]+")
_RUNNING = RunStatus.RUNNING.value


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    """Which events a redaction concerns: every condition given must hold."""

    run_id: str | None = None
    """Events of this run."""
    seqs: tuple[int, ...] | None = None
    """With ``run_id``: these events of it."""
    thread_id: str | None = None
    """Events of this thread's runs."""
    types: tuple[str, ...] | None = None
    """Events of these types (shell-style patterns: ``chat.*``)."""
    match: str | None = None
    """Events whose payload holds this text."""
    ignore_case: bool = False
    """Match the text's letters in any case."""

    def check(self) -> None:
        """Refuse a selection that is contradictory or names no events.

        Raises:
            ValueError: what is wrong with it.
        """
        if self.run_id is not None and self.thread_id is not None:
            raise ValueError("select a run or a thread, not both")
        if self.seqs is not None and self.run_id is None:
            raise ValueError("seqs are the events of one run: give its run_id too")
        if self.seqs is None and self.types is None and self.match is None:
            raise ValueError("say which events: seqs of a run, types, or a text to match")
        if self.seqs is not None and (not self.seqs or min(self.seqs) < 0):
            raise ValueError(f"seqs must be event numbers (0 or more), not {list(self.seqs)}")
        if self.match is not None and not self.match:
            raise ValueError("the text to match must not be empty")
        for pattern in self.types or ():
            if not _TYPE_PATTERN.fullmatch(pattern):
                raise ValueError(f"{pattern!r} is not an event type (e.g. chat.token, chat.*)")


@dataclass(kw_only=True, slots=True)
class _Target:
    """One selected row (an event, or a packed row's events), and what it becomes."""

    seq: int  # the row's (its last event's)
    position: int
    type: str
    rewrite: Rewrite
    digest: bytes  # of the payload as stored now (the original, unless redacted before)
    count: int = 1  # the events the row holds

    @property
    def first_seq(self) -> int:
        return self.seq - self.count + 1


@dataclass(kw_only=True, slots=True)
class _Run:
    key: int
    run_id: str
    thread_id: str
    status: str
    chain_from: int | None
    last_hash: bytes
    targets: list[_Target] = field(default_factory=list)


@dataclass(kw_only=True, slots=True)
class _Plan:
    runs: dict[int, _Run] = field(default_factory=dict)
    """The runs of the events selected, by key (some may have nothing to redact)."""
    unchanged: int = 0
    threads: list[str] = field(default_factory=list)
    """The threads whose folded state the erased values reach."""

    def redacted(self) -> list[_Run]:
        """The runs with events to redact."""
        return [r for r in self.runs.values() if r.targets]


class LogErasure:
    """Redaction, on :class:`~rewind.log.EventLog` (a mixin: the log provides transactions)."""

    _writer: GroupWriter
    _runs: dict[str, Any]

    def _txn(self, *, write: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        raise NotImplementedError

    async def _vacuum(self) -> None:
        """Give freed space back to the file system (backends override)."""

    def _erasing(self, conn: Connection) -> None:
        """Make ``conn`` overwrite what it frees (a backend's own setting; none here)."""

    async def redact(
        self,
        run_id: str | None = None,
        seqs: Iterable[int] | None = None,
        *,
        thread_id: str | None = None,
        types: Iterable[str] | None = None,
        match: str | None = None,
        ignore_case: bool = False,
        contents_only: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        dry_run: bool = False,
        vacuum: bool = True,
    ) -> RedactionReport:
        """Erase the payloads (or their message texts) of the events selected, for good.

        Every condition given must hold: ``run_id`` with ``seqs`` (those events), ``run_id``
        or ``thread_id`` (their events), ``types`` (patterns such as ``chat.*``), ``match``
        (payloads holding that text, whose strings holding it are replaced). A token stored
        packed with its neighbours (:mod:`rewind.log.packs`) takes them along: each of them
        is redacted as it is. Events that hold
        the structure rewind reads runs by (see :mod:`rewind.log.redaction`) keep it: only
        their values go. The caches of the threads the erased values reach are dropped (a
        head is rebuilt the next time its thread is read; :func:`rewind.thread_state.
        rebuild_caches` rebuilds them and the snapshots now).

        Args:
            run_id: Only events of this run.
            seqs: With ``run_id``: only these events of it.
            thread_id: Only events of this thread.
            types: Only events of these types.
            match: Only events whose payload holds this text; its strings (and numbers)
                holding it are redacted, and the tokens of a model call whose message held it.
            ignore_case: Match the text's letters in any case.
            contents_only: Redact the texts of chat messages (content, tool call arguments),
                tokens and prompts, keeping the rest of the payload; otherwise the whole
                payload (the values only, of a structural event).
            reason: Why, kept with the record of each event redacted.
            actor: Who asked, kept likewise.
            dry_run: Only say what would be redacted.
            vacuum: Compact the file afterwards, so the erased bytes leave it too.

        Raises:
            ValueError: the selection is contradictory or selects nothing in particular.
            UnknownRunError: ``run_id`` names no run.
            UnknownThreadError: ``thread_id`` names no thread.
            RedactionError: a selected event's run is still running, its chain is broken,
                or it cannot be redacted as asked; nothing is changed.
        """
        chosen = Selection(
            run_id=run_id,
            seqs=None if seqs is None else tuple(sorted(set(seqs))),
            thread_id=thread_id,
            types=None if types is None else tuple(types),
            match=match,
            ignore_case=ignore_case,
        )
        chosen.check()
        await self._writer.drain()
        writing = set(self._runs)  # runs this process is appending to

        def plan(conn: Connection) -> _Plan:
            return _plan(conn, chosen, contents_only, writing)

        if dry_run:
            return _report(await self._read(plan), dry_run=True)
        now_us = time.time_ns() // 1000
        async with self._txn(write=True) as conn:
            report = await conn.run_sync(
                lambda sync: self._apply(sync, plan(sync), reason, actor, now_us)
            )
        if vacuum and report.events:
            await self._vacuum()
            report = dataclasses.replace(report, vacuumed=True)
        return report

    def _apply(
        self, conn: Connection, found: _Plan, reason: str | None, actor: str | None, now_us: int
    ) -> RedactionReport:
        """Write a plan (in the redaction's transaction)."""
        self._erasing(conn)
        rechained: list[str] = []
        for run in found.redacted():
            previous = _rechain(conn, run)
            if previous is not None:
                rechained.append(run.run_id)
            _write_run(conn, run, previous, reason, actor, now_us)
        dropped = _drop_caches(conn, found.threads)
        return _report(found, rechained=rechained, snapshots=dropped)

    async def list_redactions(
        self, *, run_id: str | None = None, thread_id: str | None = None
    ) -> list[RedactionRecord]:
        """The events redacted (of one run, or one thread, or all), in log order."""
        query = (
            select(
                runs.c.run_id,
                runs.c.thread_id,
                redactions.c.seq,
                events.c.type,
                redactions.c.scope,
                redactions.c.redacted_at,
                redactions.c.reason,
                redactions.c.actor,
                redactions.c.digest,
                redactions.c.rechained_from,
                events.c.packed,
            )
            .join(runs, runs.c.run_key == redactions.c.run_key)
            .join(
                events,
                (events.c.run_key == redactions.c.run_key) & (events.c.seq == redactions.c.seq),
            )
            .order_by(events.c.position)
        )
        if run_id is not None:
            query = query.where(runs.c.run_id == run_id)
        if thread_id is not None:
            query = query.where(runs.c.thread_id == thread_id)
        rows = await self._read(lambda conn: conn.execute(query).all())
        return [
            RedactionRecord(
                run_id=r[0],
                thread_id=r[1],
                seq=r[2],
                type=r[3],
                scope=r[4],
                redacted_at=from_micros(r[5]),
                reason=r[6],
                actor=r[7],
                digest=bytes(r[8]),
                rechained_from=None if r[9] is None else bytes(r[9]),
                count=1 if r[10] is None else r[10],
            )
            for r in rows
        ]


# --- planning ---------------------------------------------------------------------------------


def _plan(conn: Connection, chosen: Selection, contents_only: bool, writing: set[str]) -> _Plan:
    """The events selected and what each becomes (reads only)."""
    keys = _run_keys(conn, chosen)
    query = _SELECTED
    if keys is not None:
        query = query.where(events.c.run_key.in_(keys))
    if chosen.seqs is not None:
        assert keys is not None  # seqs go with a run
        query = query.where(events.c.seq.in_(_row_seqs(conn, keys[0], chosen.seqs)))
    if chosen.types is not None:
        query = query.where(events.c.type.in_(_types(conn, keys, chosen.types)))
    if chosen.match is not None:
        query = _matching(query, chosen.match, chosen.ignore_case)
    found = _Plan()
    calls: dict[int, set[str]] = {}  # per run key: the model calls whose message matched
    for row in conn.execute(query.order_by(events.c.position)):
        if chosen.match is not None and not _holds(row, chosen.match, chosen.ignore_case):
            continue
        _add(conn, found, row, contents_only=contents_only, chosen=chosen)
        if row.type == _CHAT_ENDED and chosen.match is not None:
            call = _call_of(row.payload)
            if call is not None:
                calls.setdefault(row.run_key, set()).add(call)
    if calls and chosen.seqs is None and _admits(chosen.types, _CHAT_TOKEN):
        _sweep_tokens(conn, found, calls, contents_only=contents_only)
    _refuse_running(found, writing)
    found.threads = _reached_threads(conn, found.redacted())
    return found


def _add(
    conn: Connection,
    found: _Plan,
    row: Row[*tuple[Any, ...]],
    *,
    contents_only: bool,
    chosen: Selection | None,
) -> None:
    """Plan one selected event's redaction (nothing when it holds nothing to erase)."""
    run = found.runs.get(row.run_key) or _load_run(conn, row.run_key, found)
    count = 1 if row.packed is None else row.packed
    match = None if chosen is None else chosen.match
    ignore_case = chosen is not None and chosen.ignore_case
    try:
        if row.packed is not None:  # a row of tokens, each redacted (see the module's notes)
            rewrite = _packed_rewrite(row, contents_only, match, ignore_case)
        else:
            rewrite = redact_text(
                row.payload,
                row.type,
                contents_only=contents_only,
                match=match,
                ignore_case=ignore_case,
            )
    except RefusedError as exc:
        raise RedactionError(
            f"event {row.seq} of run {run.run_id}: {exc}", run_id=run.run_id, seq=row.seq
        ) from None
    if rewrite is None:
        found.unchanged += count
        return
    original = bytes(row.digest) if row.digest is not None else payload_digest(row.payload)
    run.targets.append(
        _Target(
            seq=row.seq,
            position=row.position,
            type=row.type,
            rewrite=rewrite,
            digest=original,
            count=count,
        )
    )


def _packed_rewrite(
    row: Row[*tuple[Any, ...]], contents_only: bool, match: str | None, ignore_case: bool
) -> Rewrite | None:
    """What a packed row of tokens becomes: the marker, or (``contents_only``) each token
    redacted as a row of its own would be, the row's times kept; ``None`` when nothing in it
    is left to redact."""
    if row.payload == REDACTED_TEXT:
        return None
    whole = Rewrite(text=REDACTED_TEXT, scope="payload")
    each = texts(row.payload)
    if not contents_only or each is None:
        return whole
    new, changed = [], False
    for text in each:
        rewrite = redact_text(
            text, row.type, contents_only=True, match=match, ignore_case=ignore_case
        )
        if rewrite is not None and rewrite.scope == "payload":
            return whole  # (the text is where no value holds it alone: as a token's would be)
        changed = changed or rewrite is not None
        new.append(text if rewrite is None else rewrite.text)
    if not changed:
        return None
    times = offsets(row.payload)
    assert times is not None  # (texts were found)
    return Rewrite(text=pack_payload([row.ts + dt for dt in times], new), scope="contents")


def _sweep_tokens(
    conn: Connection, found: _Plan, calls: dict[int, set[str]], *, contents_only: bool
) -> None:
    """The tokens of the model calls whose message held the text: a token holds a piece of
    it (the text is seldom one token), which no match finds."""
    query = _SELECTED.where(
        events.c.run_key.in_(list(calls)), events.c.type == _CHAT_TOKEN
    ).order_by(events.c.position)
    for row in conn.execute(query):
        run = found.runs.get(row.run_key)
        if run is not None and any(t.seq == row.seq for t in run.targets):
            continue
        if not _token_calls(row.payload, row.packed).isdisjoint(calls[row.run_key]):
            before = found.unchanged
            _add(conn, found, row, contents_only=contents_only, chosen=None)
            found.unchanged = before  # (not selected: an erased token is no news)


def _matching(query: Select[Any], match: str, ignore_case: bool) -> Select[Any]:
    """A coarse filter of the payloads that may hold ``match`` (checked exactly after). A
    packed row's text does not hold its tokens' texts as they are (see :func:`_holds`): every
    packed row passes."""
    said = {match, escaped(match)}
    packed = events.c.packed.is_not(None)
    if not ignore_case:  # (SQLite's LIKE ignores ASCII case: a superset)
        likes = (events.c.payload.contains(t, autoescape=True) for t in said)
        return query.where(or_(packed, *likes))
    if all(t.isascii() for t in said):  # the database's lower() knows ASCII letters only
        likes = (events.c.payload.icontains(t, autoescape=True) for t in said)
        return query.where(or_(packed, *likes))
    return query


def _holds(row: Row[*tuple[Any, ...]], match: str, ignore_case: bool) -> bool:
    """Whether a selected row's payload holds ``match``: an event's, or one of a packed row's
    events' (each as a row of its own would store it)."""
    if row.packed is None:
        return holds_text(row.payload, match, ignore_case=ignore_case)
    each = texts(row.payload)
    if each is None:  # redacted whole
        return holds_text(row.payload, match, ignore_case=ignore_case)
    return any(holds_text(text, match, ignore_case=ignore_case) for text in each)


def _call_of(payload: str) -> str | None:
    """The model call a ``chat.*`` event belongs to (its payload's ``run_id``)."""
    try:
        value = json.loads(payload)
    except ValueError:  # pragma: no cover - the codec writes JSON
        return None
    call = value.get("run_id") if isinstance(value, dict) else None
    return call if isinstance(call, str) else None


def _token_calls(payload: str, packed: int | None) -> set[str]:
    """The model calls a row of tokens belongs to: its token's, or a packed row's tokens'."""
    each = [payload] if packed is None else texts(payload) or []
    return {call for call in map(_call_of, each) if call is not None}


def _row_seqs(conn: Connection, run_key: int, seqs: Sequence[int]) -> list[int]:
    """The seqs of the rows that hold the events ``seqs`` of a run: each its own, or the
    packed row's that holds it (its last event's)."""
    low, high = min(seqs), max(seqs)
    packed = conn.execute(
        select(events.c.seq, events.c.packed).where(
            events.c.run_key == run_key,
            events.c.packed.is_not(None),
            events.c.seq >= low,
            events.c.seq < high + PACK_MAX,  # (a row holding `high` ends before this)
        )
    ).all()
    rows = {seq: seq for seq in seqs}
    for last, count in packed:
        for seq in seqs:
            if last - count < seq <= last:
                rows[seq] = last
    return sorted(set(rows.values()))


def _admits(patterns: Sequence[str] | None, type_: str) -> bool:
    return patterns is None or any(fnmatch.fnmatchcase(type_, p) for p in patterns)


def _run_keys(conn: Connection, chosen: Selection) -> list[int] | None:
    """The runs the selection is confined to (``None``: all of them)."""
    if chosen.run_id is not None:
        run = run_row(conn, chosen.run_id)
        for seq in chosen.seqs or ():
            if seq > run.last_seq:
                raise RedactionError(
                    f"run {chosen.run_id} has no event {seq} (its last is {run.last_seq})",
                    run_id=chosen.run_id,
                    seq=seq,
                )
        return [run.run_key]
    if chosen.thread_id is not None:
        found = conn.execute(select(runs.c.run_key).where(runs.c.thread_id == chosen.thread_id))
        keys = [int(k) for (k,) in found]
        if not keys:
            raise UnknownThreadError(chosen.thread_id)
        return keys
    return None


def _types(conn: Connection, keys: list[int] | None, patterns: Sequence[str]) -> list[str]:
    """The stored event types (of the runs ``keys``) the patterns name."""
    if not any(set(p) & set("*?[") for p in patterns):
        return list(patterns)
    query = select(events.c.type).distinct()
    if keys is not None:
        query = query.where(events.c.run_key.in_(keys))
    stored = [t for (t,) in conn.execute(query)]
    return [t for t in stored if any(fnmatch.fnmatchcase(t, p) for p in patterns)]


def _load_run(conn: Connection, key: int, found: _Plan) -> _Run:
    row = conn.execute(select(runs).where(runs.c.run_key == key)).one()
    run = found.runs[key] = _Run(
        key=key,
        run_id=row.run_id,
        thread_id=row.thread_id,
        status=row.status,
        chain_from=row.chain_from,
        last_hash=bytes(row.last_hash),
    )
    return run


def _refuse_running(found: _Plan, writing: set[str]) -> None:
    running = [r.run_id for r in found.redacted() if r.status == _RUNNING or r.run_id in writing]
    if running:
        listed = ", ".join(running[:5]) + (f" and {len(running) - 5} more" if running[5:] else "")
        which = f"run {listed} is" if len(running) == 1 else f"runs {listed} are"
        raise RedactionError(
            f"{which} still running: the process running a run holds its state and would "
            "write the erased values again. Redact once it has ended (a run left running by "
            "a process that died is closed by the next run on its thread)",
            run_id=running[0],
        )


# --- writing ----------------------------------------------------------------------------------


def _rechain(conn: Connection, run: _Run) -> bytes | None:
    """Re-chain a run over payload digests from its first redacted event on, where it is
    chained over text there (a run written before revision 0005); returns its last hash from
    before, or ``None`` when its chain needs no change."""
    first = min(t.first_seq for t in run.targets)
    if run.chain_from is not None and run.chain_from <= first:
        return None  # redacted events keep their hashes: the chain covers their digests
    report = check_chain(
        run.run_id,
        conn.execute(chain_rows(run.key)),
        run.last_hash,
        chain_from=run.chain_from,
    )
    if not report.ok:
        raise RedactionError(
            f"run {run.run_id}'s hash chain is broken at event {report.first_bad_seq} "
            f"({report.reason}); re-chaining it for the redaction would hide that. Restore "
            "the database from a backup, or redact only other runs",
            run_id=run.run_id,
            seq=report.first_bad_seq,
        )
    erased = {t.seq: t.digest for t in run.targets}
    kept = dict(
        conn.execute(
            select(redactions.c.seq, redactions.c.digest).where(
                redactions.c.run_key == run.key, redactions.c.seq >= first
            )
        ).all()
    )
    prev = GENESIS
    if first > 0:  # the hash of the row before (keyed by its last event: first - 1)
        prev = bytes(
            conn.execute(
                select(events.c.hash).where(events.c.run_key == run.key, events.c.seq == first - 1)
            ).scalar_one()
        )
    rows = conn.execute(
        select(
            events.c.seq,
            events.c.type,
            events.c.ts,
            events.c.step,
            events.c.ns,
            events.c.node,
            events.c.task_id,
            events.c.codec,
            events.c.payload,
        )
        .where(events.c.run_key == run.key, events.c.seq >= first)
        .order_by(events.c.seq)
    ).all()
    hashes = []
    for seq, type_, ts, step, ns, node, task_id, codec, payload in rows:
        digest = erased.get(seq) or (bytes(kept[seq]) if seq in kept else payload_digest(payload))
        prev = digest_hash(prev, run.run_id, seq, type_, ts, step, ns, node, task_id, codec, digest)
        hashes.append({"b_key": run.key, "b_seq": seq, "b_hash": prev})
    if hashes:
        conn.execute(_SET_HASH, hashes)
    conn.execute(
        update(runs).where(runs.c.run_key == run.key).values(last_hash=prev, chain_from=first)
    )
    previous, run.last_hash, run.chain_from = run.last_hash, prev, first
    return previous


def _write_run(
    conn: Connection,
    run: _Run,
    previous: bytes | None,
    reason: str | None,
    actor: str | None,
    now_us: int,
) -> None:
    """Store a run's redacted payloads and record each redaction (a packed row's as one)."""
    first = min(t.first_seq for t in run.targets)
    recorded = {
        seq
        for (seq,) in conn.execute(
            select(redactions.c.seq).where(
                redactions.c.run_key == run.key,
                redactions.c.seq.in_([t.seq for t in run.targets]),
            )
        )
    }
    for target in run.targets:
        conn.execute(
            update(events)
            .where(events.c.run_key == run.key, events.c.seq == target.seq)
            .values(payload=target.rewrite.text)
        )
        values: dict[str, Any] = {
            "scope": target.rewrite.scope,
            "redacted_at": now_us,
            "reason": reason,
            "actor": actor,
        }
        if previous is not None and target.first_seq == first:
            values["rechained_from"] = previous
        key = (redactions.c.run_key == run.key) & (redactions.c.seq == target.seq)
        if target.seq in recorded:  # redacted before: the digest the chain covers stays
            conn.execute(update(redactions).where(key).values(**values))
        else:
            conn.execute(
                insert(redactions).values(
                    run_key=run.key, seq=target.seq, digest=target.digest, **values
                )
            )


def _reached_threads(conn: Connection, redacted: list[_Run]) -> list[str]:
    """The threads of the runs redacted and of every run that starts from one of them (a
    fork, a thread's next run, a copy), at any depth: where folded state holds their values."""
    all_runs = conn.execute(select(runs.c.run_id, runs.c.thread_id, runs.c.origin_run_id)).all()
    children: dict[str, list[tuple[str, str]]] = {}
    for run_id, thread_id, origin in all_runs:
        if origin is not None:
            children.setdefault(origin, []).append((run_id, thread_id))
    threads = {r.thread_id: None for r in redacted}
    pending = [r.run_id for r in redacted]
    seen = set(pending)
    while pending:
        for run_id, thread_id in children.get(pending.pop(), ()):
            if run_id not in seen:
                seen.add(run_id)
                threads.setdefault(thread_id, None)
                pending.append(run_id)
    return sorted(threads)


def _drop_caches(conn: Connection, threads: list[str]) -> list[tuple[str, int]]:
    """Drop the heads and snapshots of ``threads``; returns the snapshots dropped."""
    dropped: list[tuple[str, int]] = []
    for i in range(0, len(threads), 500):
        chunk = threads[i : i + 500]
        keys = select(runs.c.run_key).where(runs.c.thread_id.in_(chunk)).scalar_subquery()
        dropped += [
            (r[0], int(r[1]))
            for r in conn.execute(
                select(runs.c.run_id, snapshots.c.seq)
                .join(runs, runs.c.run_key == snapshots.c.run_key)
                .where(snapshots.c.run_key.in_(keys))
                .order_by(snapshots.c.run_key, snapshots.c.seq)
            )
        ]
        conn.execute(delete(snapshots).where(snapshots.c.run_key.in_(keys)))
        conn.execute(delete(thread_heads).where(thread_heads.c.thread_id.in_(chunk)))
    return dropped


def _report(
    found: _Plan,
    *,
    rechained: list[str] | None = None,
    snapshots: list[tuple[str, int]] | None = None,
    dry_run: bool = False,
) -> RedactionReport:
    done = sorted(
        ((t, r) for r in found.redacted() for t in r.targets), key=lambda p: p[0].position
    )
    return RedactionReport(
        events=[
            RedactedEvent(
                run_id=run.run_id,
                thread_id=run.thread_id,
                seq=t.seq,
                type=t.type,
                scope=t.rewrite.scope,
                count=t.count,
            )
            for t, run in done
        ],
        unchanged=found.unchanged,
        rechained=rechained or [],
        threads=found.threads,
        snapshots=snapshots or [],
        dry_run=dry_run,
        vacuumed=False,
    )


_SELECTED = select(
    events.c.run_key,
    events.c.seq,
    events.c.position,
    events.c.type,
    events.c.payload,
    redactions.c.digest,
    events.c.packed,
    events.c.ts,
).outerjoin(
    redactions,
    (redactions.c.run_key == events.c.run_key) & (redactions.c.seq == events.c.seq),
)
_SET_HASH = (
    update(events)
    .where(events.c.run_key == bindparam("b_key"), events.c.seq == bindparam("b_seq"))
    .values(hash=bindparam("b_hash"))
)
