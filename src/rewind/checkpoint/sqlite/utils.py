"""The SQL helpers of LangGraph's ``SqliteSaver``, for code that queries LangGraph's tables.

They build SQL over LangGraph's checkpoint schema (``checkpoints`` and ``writes`` tables with
``thread_id``, ``checkpoint_ns``, ``checkpoint_id`` and ``metadata`` columns). rewind's savers
do not use them: their runs are in rewind's event log, whose tables differ; a program that
reads a database LangGraph's ``SqliteSaver`` wrote can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rewind.checkpoint.base import PendingWrite, get_checkpoint_id, writes_sort_key
from rewind.checkpoint.serde.base import SerializerProtocol

__all__ = ["load_pending_writes", "pending_writes_sql", "search_where"]

_FILTER_KEY = re.compile(r"^[a-zA-Z0-9_.-]+$")


def _where_value(value: Any) -> tuple[str, Any]:
    if value is None:
        return "IS ?", None
    if isinstance(value, str | int | float):  # a bool is an int: 1 or 0, as LangGraph's
        return "= ?", value
    if isinstance(value, dict | list):  # as SQLite's json_extract writes them: no spaces
        return "= ?", json.dumps(value, separators=(",", ":"))
    return "= ?", str(value)


def _metadata_predicates(metadata_filter: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    predicates: list[str] = []
    values: list[Any] = []
    for key, value in metadata_filter.items():
        if not _FILTER_KEY.match(key):
            raise ValueError(
                f"Invalid filter key: '{key}'. Filter keys must contain only alphanumeric "
                "characters, underscores, dots, and hyphens."
            )
        operator, param = _where_value(value)
        predicates.append(f"json_extract(CAST(metadata AS TEXT), '$.{key}') {operator}")
        values.append(param)
    return predicates, values


def search_where(
    config: Mapping[str, Any] | None,
    filter: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
) -> tuple[str, Sequence[Any]]:
    """The ``WHERE`` clause (with its parameters) that selects the checkpoints of ``config``'s
    thread (namespace, checkpoint), whose metadata matches ``filter``, before ``before``'s."""
    wheres: list[str] = []
    params: list[Any] = []
    if config is not None:
        wheres.append("thread_id = ?")
        params.append(config["configurable"]["thread_id"])
        checkpoint_ns = config["configurable"].get("checkpoint_ns")
        if checkpoint_ns is not None:
            wheres.append("checkpoint_ns = ?")
            params.append(checkpoint_ns)
        if checkpoint_id := get_checkpoint_id(config):
            wheres.append("checkpoint_id = ?")
            params.append(checkpoint_id)
    if filter:
        predicates, values = _metadata_predicates(filter)
        wheres.extend(predicates)
        params.extend(values)
    if before is not None:
        wheres.append("checkpoint_id < ?")
        params.append(get_checkpoint_id(before))
    return ("WHERE " + " AND ".join(wheres) if wheres else "", params)


def pending_writes_sql(has_task_path: bool) -> str:
    """The query for a checkpoint's writes (``task_path`` read only where the table has it)."""
    task_path = "task_path" if has_task_path else "''"
    return (
        f"SELECT task_id, channel, type, value, {task_path}, idx FROM writes "
        "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
    )


def load_pending_writes(rows: Iterable[Any], serde: SerializerProtocol) -> list[PendingWrite]:
    """:func:`pending_writes_sql`'s rows, loaded, in :func:`writes_sort_key` order."""
    ordered = sorted(rows, key=lambda r: writes_sort_key(r[4], r[0], r[5]))
    return [
        (task_id, channel, serde.loads_typed((type_, value)))
        for task_id, channel, type_, value, _, _ in ordered
    ]
