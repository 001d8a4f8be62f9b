"""Read-only databases: a read-only file, a read-only directory. Read commands read them as
they are and leave them byte for byte (no -wal or -shm made beside them); write commands stop
before doing anything, with one line saying why (exit 2). The commands run as a user the file
modes bind (as root, without root's override of them)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import REWIND, Cli

pytestmark = pytest.mark.faults


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def recorded(cli: Cli) -> Iterator[tuple[Cli, str, str]]:
    """A database in a folder of its own, with a run recorded: (cli there, run id, thread)."""
    cli.run("run", "graphs.py:chat", "--input", '{"messages": [["user", "hi"]]}').ok()
    folder = cli.cwd / "data"
    folder.mkdir()
    shutil.move(cli.cwd / "rewind.db", folder / "rewind.db")
    (run,) = cli.run("runs", "--json", "--db", "data/rewind.db").ok().json_lines()
    yield cli, run["run_id"], run["thread_id"]
    folder.chmod(0o755)  # the test may have taken the write bits away
    (folder / "rewind.db").chmod(0o644)


READS = [
    ["runs", "--json"],
    ["show", "{run}"],
    ["state", "{thread}", "--json"],
    ["history", "{thread}", "--json"],
    ["replay", "{run}"],
    ["db", "verify"],
    ["db", "redactions"],
]


@pytest.mark.parametrize("read_only", ["file", "directory"])
def test_read_only_databases_are_read_as_they_are_and_never_written(
    recorded: tuple[Cli, str, str], read_only: str
) -> None:
    cli, run, thread = recorded
    reads = [
        [a.format(run=run, thread=thread) for a in r] + ["--db", "data/rewind.db"] for r in READS
    ]
    expected = [r.ok().stdout for r in cli.run_all(reads)]  # what the writable file shows
    folder = cli.cwd / "data"
    before = _files(folder)
    assert list(before) == ["rewind.db"]
    if read_only == "file":
        (folder / "rewind.db").chmod(0o444)
    else:
        folder.chmod(0o555)
    user = Cli(cli.cwd, unprivileged=True)

    for command, result, shown in zip(reads, user.run_all(reads), expected, strict=True):
        assert result.code == 0, (command, result.stderr)
        assert result.stdout == shown, command

    where = "the file is read-only" if read_only == "file" else "its directory"
    writes = [
        ["run", "graphs.py:chat", "--input", '{"messages": [["user", "again"]]}'],
        ["db", "drop-caches"],
        ["db", "prune", "--keep-last", "0"],
        ["db", "upgrade"],
    ]
    for command, result in zip(
        writes, user.run_all([[*w, "--db", "data/rewind.db"] for w in writes]), strict=True
    ):
        assert result.code == 2, (command, result.stdout, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith("rewind: ") and "cannot be written: " in line, line
        assert where in line and "Read commands" in line, line
        assert result.stdout == "", command  # stopped before it began (no run id printed)
    assert _files(folder) == before  # byte for byte, and nothing beside it


def test_a_wal_without_its_shm_in_a_read_only_directory_is_named_not_misread(cli: Cli) -> None:
    """A crashed writer's database copied with its -wal (commits not yet folded into the file)
    but not its -shm, into a read-only directory: SQLite cannot read the -wal there, and reading
    the file alone would silently miss those commits, so the command says what to do."""
    import asyncio

    from rewind import open_log
    from rewind.events import run_started

    folder = cli.cwd / "copied"
    folder.mkdir()

    async def crashed_copy() -> None:
        log = await open_log(cli.cwd / "live.db")
        await log.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
        await log.flush()  # committed to the -wal, which the open writer keeps
        for name in ("live.db", "live.db-wal"):
            shutil.copy(cli.cwd / name, folder / name.replace("live", "rewind"))
        await log.aclose()

    asyncio.run(crashed_copy())
    before = _files(folder)
    assert sorted(before) == ["rewind.db", "rewind.db-wal"]
    folder.chmod(0o555)
    try:
        result = Cli(cli.cwd, unprivileged=True).run("runs", "--db", "copied/rewind.db")
    finally:
        folder.chmod(0o755)
    assert result.code == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert "has a -wal file beside it" in line and "Copy the database and its -wal" in line
    assert _files(folder) == before
    # In a writable directory the same copy is read whole, its -wal's commits included.
    runs = cli.run("runs", "--json", "--db", "copied/rewind.db").ok().json_lines()
    assert [r["run_id"] for r in runs] == ["r"]


def _namespaces() -> bool:
    """Whether this machine lets an unprivileged process mount in a namespace of its own."""
    try:
        done = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.skipif(not _namespaces(), reason="needs `unshare -rm` (user and mount namespaces)")
def test_a_database_on_a_read_only_filesystem(recorded: tuple[Cli, str, str]) -> None:
    """A read-only mount (a tmpfs remounted read-only in a mount namespace of the test's own):
    read commands read it; a write command stops before it begins, saying why."""
    cli, run, _thread = recorded
    mount = cli.cwd / "mnt"
    mount.mkdir()
    script = f"""
        set -e
        mount -t tmpfs -o size=8m tmpfs {mount}
        cp {cli.cwd / "data" / "rewind.db"} {mount}/rewind.db
        mount -o remount,ro {mount}
        {REWIND} runs --json --db {mount}/rewind.db > {cli.cwd}/runs.out 2> {cli.cwd}/runs.err
        echo "runs $?"
        {REWIND} show {run} --db {mount}/rewind.db > /dev/null 2> {cli.cwd}/show.err
        echo "show $?"
        set +e
        {REWIND} run graphs.py:chat --input '{{"messages": [["user", "hi"]]}}' \\
            --db {mount}/rewind.db > {cli.cwd}/run.out 2> {cli.cwd}/run.err
        echo "run $?"
        ls -a {mount}
    """
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=cli.cwd,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[:6] == ["runs", "0", "show", "0", "run", "2"], (done.stdout, done.stderr)
    listed = [json.loads(line) for line in (cli.cwd / "runs.out").read_text().splitlines()]
    assert [r["run_id"] for r in listed] == [run]
    (line,) = (cli.cwd / "run.err").read_text().splitlines()
    assert "cannot be written: it is on a read-only filesystem" in line, line
    assert (cli.cwd / "run.out").read_text() == ""
    assert sorted(lines[6:]) == [".", "..", "rewind.db"]  # nothing made beside it
