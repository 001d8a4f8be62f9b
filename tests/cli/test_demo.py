"""``rewind demo`` from a fresh directory, then the verbs it suggests, on its database."""

from __future__ import annotations

import re

from tests.cli.conftest import Cli


def test_demo_records_replays_and_suggests_what_next(cli: Cli) -> None:
    demo = cli.run("demo").ok()
    out = demo.stdout
    assert "→ get_weather" in out  # the tool calls, streamed
    assert "Here is what I found: get_weather says 18°C and sunny; multiply says 391." in out
    assert "replayed from the log in `updates` mode" in out
    assert "hash chain of the run: intact" in out
    assert f"the log is in {(cli.cwd / 'rewind.db').resolve()}" in out
    run_id = re.search(r"rewind show (\S+)", out)[1]  # type: ignore[index]
    thread = re.search(r"rewind history (\S+)", out)[1]  # type: ignore[index]

    show, runs, history, verify, backup, values = cli.run_all(
        [
            ["show", run_id],
            ["runs", "--json"],
            ["history", thread],
            ["db", "verify"],
            ["db", "backup", "copy.db"],
            ["replay", run_id, "-m", "values", "--json"],
        ]
    )
    assert "status   success" in show.ok().stdout
    assert re.search(r"agent\s+\d+ ms\s+ok", show.stdout)
    assert "2 calls (ScriptedChatModel)" in show.stdout
    assert [r["run_id"] for r in runs.ok().json_lines()] == [run_id]
    assert len(history.ok().stdout.splitlines()) == 6  # a header and five checkpoints
    checked = verify.ok().stdout.splitlines()
    assert checked[0] == "1 runs checked: every hash chain intact"
    assert re.fullmatch(r"\d+ cached states? checked: every one agrees with the log", checked[1])
    assert "backed up to copy.db" in backup.ok().stdout
    final = values.ok().json_lines()[-1]
    assert [m["type"] for m in final["messages"]] == ["human", "ai", "tool", "tool", "ai"]

    current, pruned, left = cli.run_all(
        [["db", "current"], ["--db", "copy.db", "db", "prune", "--keep-last", "0"], ["runs"]]
    )
    assert "up to date" in current.ok().stdout
    assert pruned.ok().stdout.startswith("deleted 1 runs")
    assert run_id in left.ok().stdout  # the original is untouched
