"""A new database gives its free pages back when its log closes (``auto_vacuum=INCREMENTAL``).

A thread's head is replaced at every checkpoint and a deleted thread's rows go, so a log leaves
pages free in its file; it hands them back to the filesystem as it closes, instead of keeping
them in the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rewind import open_log
from rewind.events import NewEvent, RunStatus, run_ended, run_started


def _free_pages(path: Path) -> int:
    with sqlite3.connect(path) as look:
        return int(look.execute("PRAGMA freelist_count").fetchone()[0])


def test_a_closed_log_leaves_no_free_pages_in_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"

    async def scenario() -> int:
        log = await open_log(path)
        try:
            events = [
                run_started(thread_id="gone"),
                *(NewEvent(type="custom", payload={"text": "x" * 4096}) for _ in range(50)),
                run_ended(RunStatus.SUCCESS),
            ]
            await log.append("r1", events, expected_seq=0, durability="sync")
            await log.delete_thread("gone", vacuum=False)
            await log.flush()
            return _free_pages(path)
        finally:
            await log.aclose()

    assert asyncio.run(scenario()) > 0  # the deleted thread's pages are free in the file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    assert _free_pages(path) == 0
