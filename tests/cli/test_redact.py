"""``rewind db redact`` and ``rewind db redactions``, run as a user runs them."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rewind import open_log
from rewind.cli.app import main
from tests.cli.conftest import Cli
from tests.log.recorded import EMAIL, FLOW, record_runs
from tests.log.test_packed_reads import write


@pytest.fixture
def db(cli: Cli) -> Path:
    """A database in the command's directory holding the recorded runs."""
    path = cli.cwd / "rewind.db"

    async def make() -> None:
        async with await open_log(path) as log:
            await record_runs(log)

    asyncio.run(make())
    return path


def _stored(path: Path) -> list[Any]:
    with sqlite3.connect(path) as conn:
        return [
            *conn.execute("SELECT run_key, seq, payload, hash FROM events ORDER BY position"),
            *conn.execute("SELECT * FROM redactions"),
            *conn.execute("SELECT run_id, last_hash, chain_from FROM runs"),
        ]


def test_a_dry_run_lists_what_would_go_and_changes_nothing(cli: Cli, db: Path) -> None:
    before = _stored(db)
    result = cli.run("db", "redact", "--match", EMAIL.upper(), "-i", "--dry-run").ok()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("would redact ") and lines[0].endswith(" in 3 runs:")
    assert any("checkpoint" in line and line.endswith("values") for line in lines)
    assert any("chat.token" in line and line.endswith("whole payload") for line in lines)
    assert lines[-1] == "dry run: nothing was changed"
    assert _stored(db) == before


def test_a_redaction_for_good_is_verified_and_listed(cli: Cli, db: Path) -> None:
    result = cli.run(
        "db", "redact", "--match", EMAIL, "--reason", "erasure request 7", "--by", "dpo", "--yes"
    ).ok()
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("redacted ") and " in 3 runs (" in summary
    assert "caches of 2 threads rebuilt from the redacted log" in summary
    assert summary.endswith("file compacted")
    assert EMAIL.encode() not in db.read_bytes()

    verify, listed, as_json, again = cli.run_all(
        [
            ["db", "verify"],
            ["db", "redactions"],
            ["db", "redactions", "--thread", FLOW, "--json"],
            ["db", "redact", "--match", EMAIL, "--yes"],
        ]
    )
    lines = verify.ok().stdout.splitlines()
    assert lines[0].startswith("3 runs checked: every hash chain intact (")
    assert "redacted events in 3 runs" in lines[0]
    assert lines[1].endswith("every one agrees with the log")
    rows = listed.ok().stdout.splitlines()
    assert all("by dpo: erasure request 7" in row for row in rows[:-1])
    # A line per record; a record of tokens stored together says how many events it is.
    held = [re.search(r" (\d+) tokens stored together ", row) for row in rows[:-1]]
    assert rows[-1] == f"{sum(int(m[1]) if m else 1 for m in held)} events redacted"
    records = [json.loads(line) for line in as_json.ok().stdout.splitlines()]
    assert records and {r["thread_id"] for r in records} == {FLOW}
    assert all(len(r["digest"]) == 64 and r["reason"] == "erasure request 7" for r in records)
    assert again.ok().stdout.strip() == "no event matches; nothing was redacted"


def test_message_texts_only(cli: Cli, db: Path) -> None:
    result = cli.run(
        "db", "redact", "--thread", FLOW, "--type", "chat.*", "--contents-only", "--no-vacuum", "-y"
    ).ok()
    lines = result.stdout.splitlines()
    assert all(line.endswith("values") for line in lines[1:-1])
    assert "(0 whole, " in lines[-1] and lines[-1].endswith("file not compacted (--no-vacuum)")
    with sqlite3.connect(db) as conn:
        (left,) = conn.execute(
            "SELECT count(*) FROM events WHERE type LIKE 'chat.%' AND instr(payload, ?)", (EMAIL,)
        ).fetchone()
    assert left == 0


def test_bad_requests_change_nothing(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (the console script's code, without its start-up per case)."""
    monkeypatch.chdir(db.parent)
    with sqlite3.connect(db) as conn:
        (run_id,) = conn.execute("SELECT run_id FROM runs WHERE thread_id = ?", (FLOW,)).fetchone()
    before = _stored(db)
    asked = {
        "no events": (["--yes"], "say which events"),
        "seq alone": (["--seq", "3", "--yes"], "name it with --run RUN"),
        "run and thread": (["--run", run_id, "--thread", FLOW, "--match", "x"], "not both"),
        "no type": (["--type", "chat token", "--yes"], "is not an event type"),
        "empty match": (["--match", "", "--yes"], "needs a text"),
        "case of nothing": (["--type", "custom", "-i", "--yes"], "goes with --match"),
        "unknown run": (["--run", "nope", "--seq", "1", "--yes"], "no run 'nope'"),
        "unknown thread": (["--thread", "nope", "--match", "x", "--yes"], "no thread 'nope'"),
        "no such event": (["--run", run_id, "--seq", "9999", "--yes"], "has no event 9999"),
        "structure": (["--type", "checkpoint", "--yes"], "cannot be redacted whole"),
        "unconfirmed": (["--match", EMAIL], "confirm with --yes"),
        "no database": (["--db", "missing.db", "--match", "x", "--yes"], "no database at"),
    }
    refused = ("no such event", "structure")  # by the log, once it looked
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    for name, (args, message) in asked.items():
        assert main(["db", "redact", *args]) == 2, name
        err = capsys.readouterr().err
        assert message in err, f"{name}: {err}"
        assert err.startswith("rewind: ") and err.count("\n") == 1, f"{name}: {err!r}"
        assert ("nothing was redacted" in err) == (name in refused), f"{name}: {err}"
    assert _stored(db) == before


def test_tokens_stored_together_are_redacted_and_listed_as_their_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process: a token the writer stored with others takes them along; the listing,
    the summary and the records say how many events that is, and the chain verifies."""
    asyncio.run(write(tmp_path / "rewind.db", "batches"))
    monkeypatch.chdir(tmp_path)
    assert main(["db", "redact", "--run", "r1", "--seq", "100", "--yes", "--no-vacuum"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "redacting 256 events in 1 run:"
    assert lines[1].endswith(
        "chat.token       256 tokens stored together (seqs 2 to 257), whole payload"
    )
    assert lines[-1].startswith("redacted 256 events in 1 run (256 whole, 0 values only)")
    assert main(["db", "redactions"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert " 256 tokens stored together (seqs 2 to 257), payload" in listed[0]
    assert listed[-1] == "256 events redacted"
    assert main(["db", "redactions", "--json"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (record["seq"], record["count"]) == (257, 256)
    assert main(["db", "verify"]) == 0
    verified = capsys.readouterr().out
    assert "every hash chain intact (256 redacted events in 1 run," in verified
