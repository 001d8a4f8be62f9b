"""Copy a whole log from one database to another (a SQLite file into PostgreSQL, and back):
every table of rewind's schema, row for row, so positions, seqs and hash chains are the same
on the other side (``rewind db verify`` checks them there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update

from rewind.log.base import EventLog
from rewind.log.schema import log_head, metadata, runs

__all__ = ["CopyReport", "copy_log"]

_BATCH = 2000


@dataclass(frozen=True, kw_only=True, slots=True)
class CopyReport:
    """What a copy moved."""

    rows: dict[str, int] = field(default_factory=dict)
    """Rows copied, per table."""
    head: int = 0
    """The log's head position, the same on both sides."""


async def copy_log(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, batch: int = _BATCH
) -> CopyReport:
    """Copy every row of the log at ``source`` into the log at ``target`` (created, or
    migrated, at the newest schema; it must hold no run yet).

    Raises:
        ValueError: ``target`` holds runs already (nothing is written), or is ``source``.
    """
    from rewind.log import open_log

    if os.fspath(source) == os.fspath(target):
        raise ValueError("copy a log to another database, not onto itself")
    src = await open_log(source, read_only=True)
    try:
        dst = await open_log(target)
        try:
            return await _copy(src, dst, batch)
        finally:
            await dst.aclose()
    finally:
        await src.aclose()


async def _copy(src: EventLog, dst: EventLog, batch: int) -> CopyReport:
    await src.flush()
    async with dst._txn(write=True) as out:  # one transaction: all of it, or nothing
        held = (await out.execute(select(func.count()).select_from(runs))).scalar_one()
        if held:
            raise ValueError(
                f"{dst.url} holds {held} run{'s' if held != 1 else ''} already: copy into a "
                "new, empty database"
            )
        copied: dict[str, int] = {}
        head = 0
        async with src._txn() as into:
            for table in metadata.sorted_tables:
                if table is log_head:
                    head = (await into.execute(select(log_head.c.position))).scalar_one()
                    await out.execute(update(log_head).values(position=head))
                    continue
                order = list(table.primary_key.columns) or list(table.columns)
                result = await into.stream(select(table).order_by(*order))
                count = 0
                async for rows in result.partitions(batch):
                    await out.execute(insert(table), [dict(row._mapping) for row in rows])
                    count += len(rows)
                copied[table.name] = count
    return CopyReport(rows=copied, head=head)
