"""Opening database files: what rewind refuses (and leaves untouched) and what it accepts."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import sys
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import rewind.migrations
from rewind import EventLog, NewEvent, open_log, run_started
from rewind.errors import (
    DatabaseError,
    NotARewindDatabaseError,
    SchemaOutdatedError,
    SchemaTooNewError,
)
from rewind.events import EventType
from rewind.log import open_sqlite
from rewind.log.sqlite_files import APPLICATION_ID

pytestmark = pytest.mark.faults

Opener = Callable[[Path], Awaitable[EventLog]]

OPENERS: dict[str, Opener] = {
    "open_log": lambda p: open_log(p),
    "open_sqlite": lambda p: open_sqlite(p),
    "open_log_url": lambda p: open_log(f"sqlite:///{p}"),
}


@pytest.fixture(params=sorted(OPENERS))
def opener(request: pytest.FixtureRequest) -> Opener:
    return OPENERS[request.param]


SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class FileState:
    data: bytes
    mtime_ns: int
    size: int
    siblings: tuple[str, ...]


def state_of(path: Path) -> FileState:
    st = path.stat()
    return FileState(
        data=path.read_bytes(),
        mtime_ns=st.st_mtime_ns,
        size=st.st_size,
        siblings=tuple(sorted(p.name for p in path.parent.iterdir())),
    )


def assert_untouched(path: Path, before: FileState) -> None:
    after = state_of(path)
    assert after.data == before.data, "the file's bytes changed"
    assert after.mtime_ns == before.mtime_ns, "the file's mtime changed"
    assert after.size == before.size
    created = [path.name + s for s in SIDE_FILES if (path.parent / (path.name + s)).exists()]
    assert created == [], f"side files were left next to a refused database: {created}"
    assert after.siblings == before.siblings


def assert_message(exc: DatabaseError, path: Path, *advice: str) -> None:
    label = str(path.resolve())
    assert exc.url == label
    message = str(exc)
    assert label in message
    for phrase in advice:
        assert phrase in message


async def refuse(
    opener: Opener, path: Path, error: type[DatabaseError]
) -> tuple[DatabaseError, FileState]:
    """Open ``path`` expecting ``error``; returns it and the file's state from before.

    The caller checks its error first and ends with ``assert_untouched(path, before)``.
    """
    before = state_of(path)
    try:
        store = await opener(path)
    except error as exc:
        return exc, before
    await store.aclose()
    pytest.fail(f"{path} was opened; expected {error.__name__}")


def sqlite_file(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)
    try:
        for sql in statements:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    return path


async def new_rewind_db(path: Path) -> Path:
    store = await open_log(path)
    await store.aclose()
    return path


def _custom(payload: Any) -> NewEvent:
    return NewEvent(type=EventType.CUSTOM, payload=payload)


# --- refused files ----------------------------------------------------------------------------


async def test_random_bytes_are_refused_untouched(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "random.db"
    path.write_bytes(random.Random(1234).randbytes(8192))
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "not a rewind database", "left untouched", "Point rewind at a new")
    assert_untouched(path, before)


async def test_text_file_is_refused_untouched(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes\nnot a database\n" * 50)
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "not a rewind database", "left untouched", "Point rewind at a new")
    assert_untouched(path, before)


async def test_short_file_is_refused_untouched(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "short.db"
    path.write_bytes(b"SQLite")
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "left untouched")
    assert_untouched(path, before)


async def test_sqlite_header_with_garbage_is_refused_untouched(
    tmp_path: Path, opener: Opener
) -> None:
    path = tmp_path / "damaged.db"
    garbage = bytearray(random.Random(5).randbytes(8192))
    garbage[52:56] = bytes(4)  # application_id 0: nothing in the header says whose it is
    path.write_bytes(b"SQLite format 3\x00" + bytes(garbage))
    exc, before = await refuse(opener, path, DatabaseError)
    assert type(exc) is DatabaseError  # damaged, rather than someone else's
    assert_message(exc, path, "left untouched", "restore it from a backup")
    assert_untouched(path, before)


async def test_random_bytes_in_the_header_are_damage_not_another_application(
    tmp_path: Path, opener: Opener
) -> None:
    # Its application_id is random too: the header's fixed fields say it is damaged, before
    # that field is taken for another application's mark (nor its schema for a newer one).
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + random.Random(5).randbytes(8192))
    exc, before = await refuse(opener, path, DatabaseError)
    assert type(exc) is DatabaseError
    assert_message(exc, path, "header is not valid", "left untouched", "restore it from a backup")
    assert_untouched(path, before)


async def test_other_applications_sqlite_file_is_refused_untouched(
    tmp_path: Path, opener: Opener
) -> None:
    path = sqlite_file(
        tmp_path / "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        "INSERT INTO users (name) VALUES ('ada')",
    )
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "another application", "users", "left untouched", "Point rewind")
    assert_untouched(path, before)


async def test_other_applications_wal_mode_sqlite_file_is_refused_untouched(
    tmp_path: Path, opener: Opener
) -> None:
    # The read-only look at a WAL-mode database leaves -wal and -shm files next to it.
    path = sqlite_file(
        tmp_path / "app.db",
        "PRAGMA journal_mode=WAL",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
    )
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "another application", "left untouched")
    assert_untouched(path, before)


@pytest.mark.parametrize("with_tables", [False, True])
async def test_sqlite_file_with_other_application_id_is_refused_untouched(
    tmp_path: Path, opener: Opener, with_tables: bool
) -> None:
    statements = ["PRAGMA application_id = 1234"]
    if with_tables:
        statements.append("CREATE TABLE things (x)")
    path = sqlite_file(tmp_path / "other.db", *statements)
    exc, before = await refuse(opener, path, NotARewindDatabaseError)
    assert_message(exc, path, "another application", hex(1234), "left untouched")
    assert_untouched(path, before)


async def test_rewind_marked_file_without_schema_version_is_refused_untouched(
    tmp_path: Path, opener: Opener
) -> None:
    path = sqlite_file(
        tmp_path / "marked.db", f"PRAGMA application_id = {APPLICATION_ID}", "CREATE TABLE x (y)"
    )
    exc, before = await refuse(opener, path, DatabaseError)
    assert type(exc) is DatabaseError
    assert_message(exc, path, "no schema version", "from a backup")
    assert_untouched(path, before)


async def test_schema_newer_than_this_rewind_is_refused_untouched(
    tmp_path: Path, opener: Opener
) -> None:
    path = await new_rewind_db(tmp_path / "future.db")
    sqlite_file(path, "UPDATE alembic_version SET version_num = 'ffff_future'")
    exc, before = await refuse(opener, path, SchemaTooNewError)
    assert isinstance(exc, SchemaTooNewError)
    assert exc.found == "ffff_future"
    assert exc.supported == rewind.migrations.head_revision()
    assert_message(exc, path, "ffff_future", "left untouched", "Upgrade rewind")
    assert_untouched(path, before)


async def test_schema_newer_than_this_rewind_is_refused_even_with_upgrade_disabled(
    tmp_path: Path,
) -> None:
    path = await new_rewind_db(tmp_path / "future.db")
    sqlite_file(path, "UPDATE alembic_version SET version_num = 'ffff_future'")
    before = state_of(path)
    with pytest.raises(SchemaTooNewError):
        await open_sqlite(path, upgrade=False)
    assert state_of(path).data == before.data
    assert state_of(path).mtime_ns == before.mtime_ns


# --- accepted and initialised -----------------------------------------------------------------


async def assert_initialised(store: EventLog, path: Path) -> None:
    await store.append("r1", [run_started(thread_id="t"), _custom({"n": 1})], expected_seq=0)
    assert [e.payload for e in await store.read("r1")] == [
        {"thread_id": "t", "graph": None},
        {"n": 1},
    ]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert revision == rewind.migrations.head_revision()
    finally:
        conn.close()


async def test_new_path_is_created(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "new.db"
    store = await opener(path)
    try:
        assert path.exists()
        await assert_initialised(store, path)
    finally:
        await store.aclose()


async def test_empty_file_is_accepted_and_initialised(tmp_path: Path, opener: Opener) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    store = await opener(path)
    try:
        await assert_initialised(store, path)
    finally:
        await store.aclose()


async def test_empty_sqlite_database_is_accepted_and_initialised(
    tmp_path: Path, opener: Opener
) -> None:
    path = sqlite_file(tmp_path / "empty.db", "PRAGMA user_version = 0", "VACUUM")
    assert path.stat().st_size > 0
    store = await opener(path)
    try:
        await assert_initialised(store, path)
    finally:
        await store.aclose()


@pytest.mark.parametrize("existing", ["missing", "zero-bytes"])
async def test_new_database_is_initialised_even_with_upgrade_disabled(
    tmp_path: Path, existing: str
) -> None:
    # upgrade=False refuses an *older schema*; a new (or empty) file has no schema to upgrade,
    # so it is initialised (the file's revision reads as ``None``: a new database).
    path = tmp_path / "fresh.db"
    if existing == "zero-bytes":
        path.touch()
    store = await open_sqlite(path, upgrade=False)
    try:
        await assert_initialised(store, path)
    finally:
        await store.aclose()


# --- an older schema --------------------------------------------------------------------------

_NEXT_REVISION = textwrap.dedent(
    '''
    """A later schema revision, for the tests.

    Revision ID: {next}
    Revises: {head}
    """

    import sqlalchemy as sa
    from alembic import op

    revision = "{next}"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        op.create_table("test_extra", sa.Column("id", sa.Integer, primary_key=True))


    def downgrade() -> None:
        op.drop_table("test_extra")
    '''
)


@pytest.fixture
def newer_rewind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Make this rewind's migrations one revision newer; returns a function that applies it."""

    def apply() -> str:
        scripts = tmp_path / "migrations"
        shutil.copytree(
            Path(rewind.migrations.__file__).parent,
            scripts,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        current = rewind.migrations.head_revision()
        later = f"{int(current) + 1:04d}"
        text = _NEXT_REVISION.replace("{next}", later).replace("{head}", current)
        (scripts / "versions" / f"{later}_test_extra.py").write_text(text)
        monkeypatch.setattr(rewind.migrations, "_HERE", scripts)
        head = rewind.migrations.head_revision()
        assert head == later
        return head

    return apply


async def test_older_schema_is_refused_when_upgrade_disabled(
    tmp_path: Path, newer_rewind: Callable[[], str]
) -> None:
    path = await new_rewind_db(tmp_path / "old.db")
    old = rewind.migrations.head_revision()
    head = newer_rewind()
    exc, before = await refuse(lambda p: open_sqlite(p, upgrade=False), path, SchemaOutdatedError)
    assert isinstance(exc, SchemaOutdatedError)
    assert (exc.found, exc.head) == (old, head)
    assert_message(exc, path, "rewind db upgrade", "upgrade=True")
    with pytest.raises(SchemaOutdatedError):
        await open_log(path, upgrade=False)
    assert_untouched(path, before)


async def test_older_schema_is_refused_when_opened_read_only(
    tmp_path: Path, newer_rewind: Callable[[], str]
) -> None:
    path = await new_rewind_db(tmp_path / "old.db")
    newer_rewind()
    exc, before = await refuse(lambda p: open_sqlite(p, read_only=True), path, SchemaOutdatedError)
    assert_message(exc, path, "rewind db upgrade")
    assert_untouched(path, before)


async def test_older_schema_is_migrated_when_upgrade_enabled(
    tmp_path: Path, newer_rewind: Callable[[], str]
) -> None:
    path = tmp_path / "old.db"
    store = await open_log(path)
    try:
        await store.append("r1", [run_started(thread_id="t")], expected_seq=0, durability="sync")
    finally:
        await store.aclose()
    head = newer_rewind()

    store = await open_sqlite(path, upgrade=True)
    try:
        assert len(await store.read("r1")) == 1
        await store.append("r1", [_custom("after")], expected_seq=1, durability="sync")
    finally:
        await store.aclose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
        assert conn.execute("SELECT count(*) FROM test_extra").fetchone()[0] == 0
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        conn.close()


# --- reopening and concurrent opens -----------------------------------------------------------


async def test_reopened_database_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "keep.db"
    store = await open_log(path)
    try:
        await store.append(
            "r1", [run_started(thread_id="t"), _custom({"n": (1, 2)})], expected_seq=0
        )
    finally:
        await store.aclose()
    for round_ in range(2):
        store = await open_log(path)
        try:
            events = await store.read("r1")
            assert [e.seq for e in events] == list(range(2 + round_))
            assert events[1].payload == {"n": (1, 2)}
            await store.append("r1", [_custom(round_)], expected_seq=2 + round_)
        finally:
            await store.aclose()
    store = await open_sqlite(path, upgrade=False)
    try:
        assert [e.payload for e in await store.read("r1")][2:] == [0, 1]
        assert (await store.verify_chain("r1")).ok
    finally:
        await store.aclose()


async def test_concurrent_opens_of_a_new_file_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    stores = await asyncio.gather(*(open_log(path) for _ in range(3)))
    try:
        for i, store in enumerate(stores):
            await store.append(f"r{i}", [run_started(thread_id="t")], expected_seq=0)
        for store in stores:
            await store.flush()
    finally:
        for store in stores:
            await store.aclose()
    store = await open_log(path)
    try:
        assert sorted(r.run_id for r in await store.list_runs()) == ["r0", "r1", "r2"]
    finally:
        await store.aclose()


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from rewind import open_log, run_started

    async def main(path, run_id):
        print("ready", flush=True)
        sys.stdin.readline()
        store = await open_log(path)
        try:
            await store.append(run_id, [run_started(thread_id="t")], expected_seq=0)
        finally:
            await store.aclose()
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_concurrent_opens_of_a_new_file_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            str(path),
            f"child{i}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert line == b"ready\n", (await child.communicate())[1].decode()

        async def open_here() -> None:
            store = await open_log(path)
            try:
                await store.append("parent", [run_started(thread_id="t")], expected_seq=0)
            finally:
                await store.aclose()

        async def release(child: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
            return await child.communicate(b"go\n")

        results = await asyncio.wait_for(
            asyncio.gather(open_here(), *(release(c) for c in children)), 60
        )
        for child, (out, err) in zip(children, results[1:], strict=True):
            assert child.returncode == 0, err.decode()
            assert out.decode().split() == ["done"]
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()

    store = await open_log(path)
    try:
        runs = sorted(r.run_id for r in await store.list_runs())
        assert runs == ["child0", "child1", "parent"]
    finally:
        await store.aclose()


# --- pragmas ----------------------------------------------------------------------------------


async def test_file_store_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "pragmas.db"
    store = await open_sqlite(path)
    try:
        await store.append("r1", [run_started(thread_id="t")], expected_seq=0, durability="sync")

        # The store's own connections (pool and writer thread) are per-connection settings.
        async with store._engine.connect() as conn:
            conn = await conn.execution_options(rewind_begin="NONE")
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            synchronous = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
            app_id = (await conn.exec_driver_sql("PRAGMA application_id")).scalar()
        assert (journal, synchronous, app_id) == ("wal", 1, APPLICATION_ID)

        raw = store._raw
        assert raw is not None

        def writer_pragmas() -> tuple[Any, ...]:
            return tuple(
                raw.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("journal_mode", "synchronous", "application_id")
            )

        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(store._thread, writer_pragmas) == (
            "wal",
            1,
            APPLICATION_ID,
        )

        # And what the file itself says, to any other connection.
        conn2 = sqlite3.connect(path)
        try:
            assert conn2.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn2.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        finally:
            conn2.close()
    finally:
        await store.aclose()
    assert APPLICATION_ID == 0x52574E44
