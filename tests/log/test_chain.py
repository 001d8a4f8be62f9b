"""The hash chain's two formulas: over each payload's digest (runs since revision 0005) and over
its text (runs written before), each checked by the formula its run was written with."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rewind import RunStatus, open_log, run_ended
from rewind.log.chain import GENESIS, digest_hash, payload_digest, text_hash
from tests.log.contract import custom, start_run
from tests.log.old_chain import chain_over_text


def _rows(path: Path, run_id: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT e.seq, e.type, e.ts, e.step, e.ns, e.node, e.task_id, e.codec, e.payload, "
            "e.hash FROM events e JOIN runs r USING (run_key) WHERE r.run_id = ? ORDER BY e.seq",
            (run_id,),
        ).fetchall()


def _chain_from(path: Path, run_id: str) -> int | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT chain_from FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row[0] is None else int(row[0])


async def test_a_new_run_is_chained_over_its_payloads_digests(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await start_run(log, "r1", "t1", custom({"email": "ann@example.com"}), custom([1, 2]))
    assert _chain_from(path, "r1") == 0
    prev = GENESIS
    for seq, type_, ts, step, ns, node, task_id, codec, payload, stored in _rows(path, "r1"):
        header = (seq, type_, ts, step, ns, node, task_id, codec)
        over_text = text_hash(prev, "r1", *header, payload)
        prev = digest_hash(prev, "r1", *header, payload_digest(payload))
        assert prev == stored
        assert prev != over_text


async def test_a_run_chained_over_text_verifies_and_goes_on_that_way(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await start_run(log, "old", "t1", custom("a"), custom("b"))
    chain_over_text(path, "old")
    async with await open_log(path) as log:
        assert (await log.verify_chain("old")).ok
        await log.append("old", [custom("c")], expected_seq=3, durability="sync")
        await log.append("old", [run_ended(RunStatus.SUCCESS)], expected_seq=4)
        await log.flush()
        report = await log.verify_chain("old")
        assert (report.ok, report.checked, report.redacted) == (True, 5, 0)
    assert _chain_from(path, "old") is None
    *_, before, last = _rows(path, "old")
    assert last[-1] == text_hash(before[-1], "old", *last[:-1])


async def test_either_formula_detects_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "rewind.db"
    async with await open_log(path) as log:
        await start_run(log, "new", "t1", custom("a"), custom("b"))
        await start_run(log, "old", "t2", custom("a"), custom("b"))
    chain_over_text(path, "old")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET payload = '\"z\"' WHERE seq = 1")
    async with await open_log(path) as log:
        for run_id in ("new", "old"):
            report = await log.verify_chain(run_id)
            assert (report.ok, report.first_bad_seq) == (False, 1), run_id
            assert "altered" in (report.reason or "")
