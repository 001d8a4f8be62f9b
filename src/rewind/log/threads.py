"""Threads as a whole: the metadata an API keeps for them, and deleting what is no longer kept."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rewind.log import codec, retention
from rewind.log.chain import from_micros, to_micros
from rewind.log.records import PruneReport, ThreadMetadata
from rewind.log.schema import thread_metadata
from rewind.log.writer import GroupWriter

__all__ = ["ThreadKeeping"]

T = TypeVar("T")


class ThreadKeeping:
    """Thread metadata and retention, on :class:`~rewind.log.EventLog` (a mixin)."""

    _writer: GroupWriter

    def _txn(self, *, write: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def _read(self, fn: Callable[[Connection], T], *, drain: bool = True) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    # --- thread metadata ----------------------------------------------------------------------

    async def save_thread_metadata(
        self, thread_id: str, metadata: Mapping[str, Any]
    ) -> ThreadMetadata:
        """Keep ``metadata`` for a thread (replacing what was kept); the thread need have no run.

        Raises:
            EncodingError: a value the codec cannot encode (nothing is written).
        """
        text = codec.encode(dict(metadata))
        now = to_micros(datetime.now().astimezone())
        created = await self._write_thread_metadata(thread_id, text, now)
        return ThreadMetadata(
            thread_id=thread_id,
            metadata=dict(metadata),
            created_at=from_micros(created),
            updated_at=from_micros(now),
        )

    async def _write_thread_metadata(self, thread_id: str, text: str, now_us: int) -> int:
        """Insert or replace a thread's metadata row (``text``: encoded) at ``now_us``; the
        time the thread's row was first written. Backends may write it their own way."""
        async with self._txn(write=True) as conn:
            key = thread_metadata.c.thread_id == thread_id
            row = (await conn.execute(select(thread_metadata.c.created_at).where(key))).first()
            values = {"updated_at": now_us, "codec": codec.CODEC_VERSION, "metadata": text}
            if row is None:
                await conn.execute(
                    insert(thread_metadata).values(thread_id=thread_id, created_at=now_us, **values)
                )
            else:
                await conn.execute(update(thread_metadata).where(key).values(**values))
        return now_us if row is None else int(row.created_at)

    async def get_thread_metadata(self, thread_id: str | None = None) -> list[ThreadMetadata]:
        """The metadata kept for one thread (a list of one, or empty), or for all of them."""
        query = select(thread_metadata).order_by(thread_metadata.c.created_at)
        if thread_id is not None:
            query = query.where(thread_metadata.c.thread_id == thread_id)
        rows = await self._read(lambda conn: conn.execute(query).all())
        return [
            ThreadMetadata(
                thread_id=row.thread_id,
                metadata=codec.decode(row.metadata, row.codec),
                created_at=from_micros(row.created_at),
                updated_at=from_micros(row.updated_at),
            )
            for row in rows
        ]

    # --- retention ----------------------------------------------------------------------------

    async def delete_thread(self, thread_id: str, *, vacuum: bool = True) -> PruneReport:
        """Delete a thread's runs, events and snapshots, and the metadata kept for it.

        Runs still running, and runs that a retained run of another thread starts from, stay;
        the report counts them. Its cost does not grow with the other threads in the database.
        """

        def delete_in(conn: Connection) -> PruneReport:
            conn.execute(delete(thread_metadata).where(thread_metadata.c.thread_id == thread_id))
            loaded = retention.load_thread_runs(conn, thread_id)
            return _delete_planned(
                conn, loaded, {r.run_id for r in loaded if r.thread_id == thread_id}
            )

        return await self._delete(delete_in, vacuum=vacuum)

    async def prune_thread(
        self, thread_id: str, *, keep_last: int, vacuum: bool = True
    ) -> PruneReport:
        """Delete a thread's finished runs but its ``keep_last`` newest (and those a kept run
        starts from); the thread's metadata stays. Its cost does not grow with other threads."""
        if keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, not {keep_last}")

        def prune_in(conn: Connection) -> PruneReport:
            loaded = retention.load_thread_runs(conn, thread_id)
            own = [r for r in loaded if r.thread_id == thread_id]
            chosen = retention.candidates_beyond_newest(own, keep_last)
            return _delete_planned(conn, loaded, chosen)

        return await self._delete(prune_in, vacuum=vacuum)

    async def prune(
        self,
        *,
        older_than: datetime | None = None,
        keep_last: int | None = None,
        vacuum: bool = True,
    ) -> PruneReport:
        """Delete finished runs that started before ``older_than``, or all but each thread's
        ``keep_last`` newest, then give the space back to the file system.

        A run that a retained run starts from (a fork's origin, the run a thread's next run
        continues) is kept, so every retained run can still be rebuilt.
        """
        if (older_than is None) == (keep_last is None):
            raise ValueError("prune needs exactly one of older_than= or keep_last=")
        if keep_last is not None and keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, not {keep_last}")

        def prune_in(conn: Connection) -> PruneReport:
            all_runs = retention.load_runs(conn)
            if older_than is not None:
                chosen = retention.candidates_older_than(all_runs, to_micros(older_than))
            else:
                assert keep_last is not None
                chosen = retention.candidates_beyond_newest(all_runs, keep_last)
            return _delete_planned(conn, all_runs, chosen)

        return await self._delete(prune_in, vacuum=vacuum)

    async def _delete(
        self, delete_in: Callable[[Connection], PruneReport], *, vacuum: bool
    ) -> PruneReport:
        await self._writer.drain()  # what this process appended is in the database first
        report = await self._write(delete_in)
        if vacuum and report.runs_deleted:
            await self._vacuum()
        return report

    async def _vacuum(self) -> None:
        """Give freed space back to the file system (backends override)."""

    async def backup(self, target: str) -> None:
        """Write a consistent copy of the live database to ``target`` (backends override)."""
        raise NotImplementedError(f"{type(self).__name__} cannot back up")


def _delete_planned(conn: Connection, loaded: list[Any], candidates: set[str]) -> PruneReport:
    """Delete the ``candidates`` among the ``loaded`` runs that nothing retained depends on."""
    plan = retention.plan_deletion(loaded, candidates)
    deleted = retention.delete_runs(conn, plan.run_keys)
    return PruneReport(
        runs_deleted=len(plan.run_keys),
        events_deleted=deleted,
        runs_kept_for_dependants=plan.kept_for_dependants,
    )
