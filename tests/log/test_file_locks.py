"""A process's SQLite locks on a database file survive rewind reading the file's header: a
store or log opened on a file this process already logs to reads it through SQLite, not by
opening and closing the file, which would drop every lock the process holds on it (and let
another process closing its last connection delete the ``-wal`` under this one)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from rewind import open_log
from rewind.errors import NotARewindDatabaseError
from rewind.events import EventType, NewEvent, run_started
from rewind.log.files import hold_file, in_use, release_file
from rewind.log.sqlite_files import read_revision
from rewind.store.sqlite import SqliteStore

OTHER_PROCESS = """
import asyncio, sys
from rewind import open_log
async def main():
    log = await open_log(sys.argv[1])
    await log.aclose()
asyncio.run(main())
"""


async def test_a_store_opened_beside_a_log_keeps_the_log_s_locks(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    log = await open_log(db)
    try:
        await log.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        assert in_use(db)
        with SqliteStore.from_conn_string(str(db)) as store:
            store.put(("notes",), "a", {"text": "kept"})  # its setup reads the file's revision
            assert read_revision(db) is not None
            # Another process opens and closes the database: it must find the file in use by
            # this one (our locks still held) and leave the -wal alone.
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", OTHER_PROCESS, str(db)],
                capture_output=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            assert (tmp_path / "shared.db-wal").exists()
            await log.append(
                "r", [NewEvent(type=EventType.CUSTOM, payload=1)], expected_seq=1, durability="sync"
            )
            assert store.get(("notes",), "a") is not None
        assert [e.seq for e in await log.read("r")] == [0, 1]
    finally:
        await log.aclose()
    assert not in_use(db)


def test_a_file_held_but_not_a_database_is_still_named_for_what_it_is(tmp_path: Path) -> None:
    # A hold left by a log or store never closed can outlive its file, and the inode be reused
    # by another: a file SQLite cannot read is still judged by its header.
    junk = tmp_path / "theirs.db"
    junk.write_bytes(b"not a database at all" * 10)
    key = hold_file(junk)
    try:
        with pytest.raises(NotARewindDatabaseError, match="not an SQLite database file"):
            read_revision(junk)
    finally:
        release_file(key)
