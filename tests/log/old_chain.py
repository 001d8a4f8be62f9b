"""Runs chained the way releases before schema revision 0005 chained them: over each payload's
text, with ``runs.chain_from`` NULL (what the migration leaves on the runs it finds)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rewind.log.chain import GENESIS, text_hash


def chain_over_text(path: Path, run_id: str) -> bytes:
    """Rewrite a stored run's hashes with the text formula, as an older release wrote them;
    returns its new last hash. The log must be closed (or flushed) first."""
    with sqlite3.connect(path) as conn:
        run_key = conn.execute("SELECT run_key FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        rows = conn.execute(
            "SELECT seq, type, ts, step, ns, node, task_id, codec, payload FROM events "
            "WHERE run_key = ? ORDER BY seq",
            (run_key,),
        ).fetchall()
        prev = GENESIS
        for seq, *rest in rows:
            prev = text_hash(prev, run_id, seq, *rest)
            conn.execute(
                "UPDATE events SET hash = ? WHERE run_key = ? AND seq = ?", (prev, run_key, seq)
            )
        conn.execute(
            "UPDATE runs SET last_hash = ?, chain_from = NULL WHERE run_key = ?", (prev, run_key)
        )
    return prev
