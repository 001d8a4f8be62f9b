"""How a ``checkpoint`` event records a step: its next tasks, its changes and its metadata,
compactly (what a reader can derive is left out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewind.events import PULL
from rewind.projections.modes import EXCLUDED_METADATA_KEYS
from rewind.projections.state import VALUE_CHANGES

__all__ = ["checkpoint_metadata", "compact_changes", "compact_task"]


def compact_task(described: dict[str, Any]) -> dict[str, Any]:
    """A next task as a checkpoint event records it: no id (derived), no pull path."""
    out = {k: v for k, v in described.items() if k != "id"}
    if out["path"] == [PULL, out["name"]]:
        del out["path"]
    return out


def compact_changes(changes: list[list[Any]], previous: list[str] | None) -> list[list[Any]]:
    """A checkpoint's changes with the step's tasks named by their index in the previous
    checkpoint's list (known to this loop), where they are among them."""
    if not previous:
        return changes
    index = {task_id: i for i, task_id in enumerate(previous)}
    return [
        [name, kind, refs if kind in VALUE_CHANGES else [index.get(r, r) for r in refs]]
        for name, kind, refs in changes
    ]


def checkpoint_metadata(config: Mapping[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Checkpoint metadata as LangGraph writes it: the caller's scalar metadata and
    configurable values join ``source``/``step``/``parents``."""
    out = dict(base)
    for source in (config.get("metadata"), config.get("configurable")):
        for key, value in (source or {}).items():
            if key in out or key in EXCLUDED_METADATA_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str):
                out[key] = value.replace("\x00", "")
            elif isinstance(value, int | float | bool):
                out[key] = value
    return out
