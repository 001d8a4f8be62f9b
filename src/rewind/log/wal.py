"""Folding a SQLite log's write-ahead log back into its database, beside the commits.

SQLite's own way (``wal_autocheckpoint``) folds the WAL back in the commit that takes it over
its limit: that commit copies the WAL's pages into the database and syncs the file, during
which nothing this process appends becomes durable (and a server streams only what is
durable); when the commit runs on the event loop's thread, everything waits. Here the log's
writing connection never folds by itself. The log tells a :class:`WalFolder` how much it
committed; once that comes to about ``limit`` bytes, the folder folds on a thread and
connection of its own, in SQLite's ``PASSIVE`` mode, which waits for no reader and no writer:
commits go on meanwhile.

What they committed meanwhile is not folded yet, and SQLite starts the WAL over (cut back to
``journal_size_limit``) only when a write begins with all of it folded. So after a fold, the
log's next commit first folds those few pages itself (:meth:`WalFolder.catch_up`, on the
writer's connection, within the store's write turn, so nothing is added meanwhile): the WAL
then starts over, and stays near ``limit`` however long the writing goes on.

Should commits outrun a fold (half of ``limit`` more committed while it runs: a disk slower
than the writers), the next commit waits for the fold to end (:attr:`WalFolder.overdue`), so
the WAL stays under twice ``limit`` whatever the disk's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

__all__ = ["WalFolder"]

_log = logging.getLogger("rewind.log")


class WalFolder:
    """Folds the WAL of the database at ``path`` back every ``limit`` bytes committed."""

    def __init__(self, path: str, limit: int) -> None:
        self._path = path
        self._limit = limit
        self._since = 0
        self._thread: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._folding: asyncio.Future[None] | None = None
        self.behind = False
        """A fold ended: the next commit catches up first (:meth:`catch_up`)."""

    def committed(self, size: int) -> None:
        """About ``size`` bytes went into the WAL (on the event loop, after a commit)."""
        self._since += size
        if self._since < self._limit or (self._folding is not None and not self._folding.done()):
            return
        self._since = 0
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewind-wal")
        self._folding = asyncio.get_running_loop().run_in_executor(self._thread, self._fold)
        self._folding.add_done_callback(self._folded)

    def _folded(self, _: object) -> None:
        self.behind = True

    @property
    def overdue(self) -> bool:
        """Whether half of ``limit`` more was committed while the fold under way runs: the
        next commit waits for it (:meth:`wait`) before adding to the WAL."""
        folding = self._folding is not None and not self._folding.done()
        return folding and self._since >= self._limit // 2

    async def wait(self) -> None:
        """Return when the fold under way (if any) has ended."""
        if self._folding is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._folding)

    def _fold(self) -> None:
        if self._conn is None:
            try:
                self._conn = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                _log.warning("could not fold the WAL of %s back into it: %s", self._path, exc)
                return
        self._checkpoint(self._conn)

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Fold what was committed during the last fold, through the writer's connection
        ``conn`` (outside a transaction, with the store's write turn held)."""
        self.behind = False
        self._checkpoint(conn)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # nothing is lost: the WAL keeps it, the next fold tries
            _log.warning("could not fold the WAL of %s back into it: %s", self._path, exc)

    def _close_on_thread(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        """Wait for a fold under way, then release the thread and its connection."""
        if self._thread is None:
            return
        if self._folding is not None:
            with contextlib.suppress(Exception):
                await self._folding
        with contextlib.suppress(RuntimeError):  # the interpreter is shutting down
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_on_thread)
        self._thread.shutdown(wait=False)
        self._thread = None
