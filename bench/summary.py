"""The figures a bench hands to ``bench/all.py``: one row per figure with a goal.

A bench run with ``--summary FILE`` writes its rows there as JSON lines, besides printing its
own report; ``bench/all.py`` runs every bench that way and prints the rows as one table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Row", "read_rows", "write_rows"]


@dataclass(frozen=True)
class Row:
    """One figure: rewind's value, its peer's (if it has one) and the goal it is held to.

    ``kind`` says how the goal reads: ``ratio_max`` (rewind / peer at most ``goal``),
    ``ratio_min`` (at least), ``max`` or ``min`` (rewind's own value against ``goal``)."""

    bench: str
    figure: str
    unit: str
    rewind: float
    goal: float
    kind: Literal["ratio_max", "ratio_min", "max", "min"]
    peer: float | None = None
    peer_name: str = ""

    @property
    def ratio(self) -> float | None:
        return None if not self.peer else self.rewind / self.peer

    @property
    def met(self) -> bool:
        if self.kind in ("ratio_max", "ratio_min"):
            ratio = self.ratio
            if ratio is None:
                return False
            return ratio <= self.goal if self.kind == "ratio_max" else ratio >= self.goal
        return self.rewind <= self.goal if self.kind == "max" else self.rewind >= self.goal

    @property
    def goal_text(self) -> str:
        sign = "<=" if self.kind in ("ratio_max", "max") else ">="
        if self.kind.startswith("ratio") or self.unit == "x":
            return f"{sign} {self.goal:g}x"
        return f"{sign} {self.goal:,g} {self.unit}"


def write_rows(path: str | None, rows: list[Row]) -> None:
    """Append ``rows`` to ``path`` as JSON lines (nothing when no path was given)."""
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(asdict(row)) + "\n")


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Row(**json.loads(line)) for line in lines if line.strip()]
