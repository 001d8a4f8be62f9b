"""Bad usage and bad input exit with 2 and one line on stderr saying what to do."""

from __future__ import annotations

import sqlite3

import pytest

from tests.cli.conftest import Cli


def test_bad_inputs_exit_2_with_a_clear_message(cli: Cli) -> None:
    conn = sqlite3.connect(cli.cwd / "notes.db")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    (cli.cwd / "input.json").write_text('{"draft": ')
    cases = {
        ("run", "missing.py:graph"): "no file missing.py",
        ("run", "graphs.py:nothing"): "graphs.py has no attribute 'nothing'; graphs it defines",
        ("run", "graphs.py:approval", "--input", "{draft: cats}"): "--input: the value is not "
        "valid JSON",
        ("run", "graphs.py:approval", "--input", "@input.json"): "--input: input.json is not "
        "valid JSON",
        ("run", "graphs.py:needs_args"): "is a function that needs arguments",
        ("run", "graphs.py:approval", "--resume", '"yes"'): "--resume answers an interrupt on a "
        "thread: name it with --thread ID",
        ("replay", "no-such-run"): "no run 'no-such-run' in ./rewind.db; `rewind runs` lists",
        ("--db", "notes.db", "runs"): "notes.db is not a rewind database (it is another "
        "application's",
        ("run", "graphs.py:approval", "-m", "colours"): "Invalid value for '--stream-mode'",
        ("worker",): "no graphs given: name them with --graphs ID=FILE.py:ATTR or --config",
        ("worker", "-g", "a=graphs.py:approval", "--jobs", "0"): "--jobs must be at least 1",
    }
    # The database replay reads must exist for "unknown run" to be the complaint.
    cli.run("db", "upgrade").ok()
    results = cli.run_all([list(args) for args in cases])
    for result, expected in zip(results, cases.values(), strict=True):
        assert result.code == 2, (result.args, result.code, result.stderr)
        assert expected in result.stderr, (result.args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        if "Invalid value" not in expected:  # Click's own usage errors print the usage too
            (line,) = result.stderr.splitlines()
            assert line.startswith("rewind: ")
    # Nothing was written to the other application's file.
    assert sqlite3.connect(cli.cwd / "notes.db").execute("SELECT count(*) FROM notes").fetchone()


def test_read_verbs_do_not_create_a_database(cli: Cli) -> None:
    result = cli.run("runs")
    assert result.code == 2
    assert "no database at rewind.db" in result.stderr
    assert not (cli.cwd / "rewind.db").exists()


@pytest.mark.faults
def test_read_verbs_take_an_empty_file_for_a_missing_database(cli: Cli) -> None:
    empty = cli.cwd / "empty.db"
    empty.touch()
    for verb in (["runs"], ["db", "verify"], ["state", "t"]):
        result = cli.run("--db", "empty.db", *verb)
        assert result.code == 2, (verb, result.stderr)
        assert "an empty file at empty.db: record a run first" in result.stderr
        assert empty.stat().st_size == 0  # nothing written into it
    assert sorted(p.name for p in cli.cwd.glob("empty.db*")) == ["empty.db"]  # no side files


@pytest.mark.faults
def test_db_verify_finds_a_corrupt_file_and_leaves_it_as_it_was(cli: Cli) -> None:
    cli.run("run", "graphs.py:chat", "--input", '{"messages": [["user", "hi"]]}').ok()
    assert cli.run("db", "verify").ok().stdout.splitlines()[-1] == (
        "rewind.db: SQLite's integrity check passed"
    )
    path = cli.cwd / "rewind.db"
    intact = path.read_bytes()
    page = 2048
    middle = len(intact) // 2 // page * page
    damages = {
        "4 KiB overwritten in the middle": (middle, middle + 2 * page),
        "every third page from the third": None,
    }
    for what, span in damages.items():
        data = bytearray(intact)
        spans = [span] if span else [(a, a + page) for a in range(2 * page, len(data), 3 * page)]
        for start, end in spans:
            data[start:end] = bytes(range(256)) * ((end - start) // 256)
        path.write_bytes(data)
        result = cli.run("db", "verify")
        assert result.code == 1, (what, result.stdout, result.stderr)
        (line,) = result.stdout.splitlines()
        assert line.startswith("CORRUPT rewind.db: SQLite's integrity check failed: "), what
        assert "restore it from a backup" in line and "Traceback" not in result.stderr
        assert path.read_bytes() == data  # byte for byte
    assert sorted(p.name for p in cli.cwd.glob("rewind.db*")) == ["rewind.db"]  # no side files


def test_sqlite_s_malformed_error_is_one_line_naming_the_damage() -> None:
    import sqlite3

    import sqlalchemy.exc

    from rewind.cli.app import _code_of, _describe

    driver = sqlite3.DatabaseError("database disk image is malformed")
    wrapped = sqlalchemy.exc.DatabaseError("SELECT ...", {}, driver)
    try:
        try:
            raise wrapped
        except sqlalchemy.exc.DatabaseError as exc:
            raise RuntimeError("while replaying") from exc
    except RuntimeError as outer:
        message, code = _describe(outer), _code_of(outer)
    assert code == 2
    assert "is damaged (SQLite: database disk image is malformed)" in message
    assert "rewind db verify" in message and "SELECT" not in message and "\n" not in message
