"""The README's quick-start command runs: a graph streams live, is replayed and verified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_quickstart_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), str(tmp_path / "rewind.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "every token of this answer is in the log" in result.stdout
    assert "hash chain: intact" in result.stdout
    assert (tmp_path / "rewind.db").exists()
