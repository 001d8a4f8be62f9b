"""Waiting for a SQLite file's write lock never stops the event loop.

A worker process holds transactions of its own on the file (the run queue's, through the loop)
while its log commits. Had the loop's thread waited for the write lock, the transaction that
held it could not go on: ten seconds of busy wait, then "database is locked" for everyone.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from rewind import open_log
from rewind.events import EventType, NewEvent, run_started
from rewind.log.sqlite_files import prepare_file


def test_opening_a_connection_to_a_made_file_takes_no_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "made.db"
    first = sqlite3.connect(db, isolation_level=None)
    prepare_file(first.cursor(), busy_timeout=0)
    first.execute("CREATE TABLE t (a)")
    first.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    first.execute("INSERT INTO t VALUES (1)")
    try:
        second = sqlite3.connect(db, timeout=0, isolation_level=None)
        prepare_file(second.cursor(), busy_timeout=0)  # no wait allowed, none needed
        assert second.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        second.close()
    finally:
        first.execute("ROLLBACK")
        first.close()


async def test_a_first_commit_waits_for_the_lock_off_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    log = await open_log(db)
    try:
        holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # held while the log makes its first commit
        released = threading.Event()
        ticks_while_held = 0

        async def tick() -> None:
            nonlocal ticks_while_held
            while not released.is_set():
                ticks_while_held += 1
                await asyncio.sleep(0.01)

        def release_later() -> None:
            released.wait(0.5)
            holder.execute("ROLLBACK")
            released.set()

        ticker = asyncio.ensure_future(tick())
        releaser = threading.Thread(target=release_later)
        releaser.start()
        try:
            start = run_started(thread_id="t")
            await log.append("r", [start], expected_seq=0, new_run=True, durability="sync")
        finally:
            released.set()
            releaser.join()
            await ticker
            holder.close()
        assert ticks_while_held > 1  # the loop went on while the commit waited
        more = NewEvent(type=EventType.CUSTOM, payload=1)
        await log.append("r", [more], expected_seq=1, durability="sync")
        assert [e.seq for e in await log.read("r")] == [0, 1]
    finally:
        await log.aclose()
