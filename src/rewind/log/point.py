"""Point reads: a few index lookups a run makes before it starts, without a driver's detours.

A run reads its thread's head (and the few events after it) before its first step. Through
SQLAlchemy, on the store's reader thread, that costs a thread hop and a statement's execution
machinery each, several times what SQLite spends. A backend may serve such reads itself, on a
connection of its own, with the statements compiled once to its driver's SQL (the SQLite file
store does; see :class:`rewind.log.sqlite.SqliteLog`); every other store runs them through
SQLAlchemy. Either way the code asking reads rows the same way: :class:`PointRows`.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Select
from sqlalchemy.dialects import sqlite as sqlite_dialect

__all__ = ["DriverRows", "PointRows", "SqlaRows"]


class PointRows(Protocol):
    """Runs a prebuilt ``select`` and gives its rows (by index and by column name)."""

    def rows(self, stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]: ...


class SqlaRows:
    """Point reads through a SQLAlchemy connection (in the read's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rows(self, stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        return self._conn.execute(stmt, dict(params)).all()


class DriverRows:
    """Point reads straight through a ``sqlite3`` connection (in its open transaction): each
    statement compiled once to SQLite's SQL with named parameters, its rows as named tuples."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        sql, row = _compiled(stmt)
        return [row._make(r) for r in self._conn.execute(sql, params)]


_DIALECT = sqlite_dialect.dialect(paramstyle="named")
_statements: dict[int, tuple[Select[Any], str, Any]] = {}
"""Per statement (by identity; the statement is kept so its id is not reused): its SQL and row
type. Only prebuilt, module-level statements are read this way."""


def _compiled(stmt: Select[Any]) -> tuple[str, Any]:
    known = _statements.get(id(stmt))
    if known is None or known[0] is not stmt:
        sql = str(stmt.compile(dialect=_DIALECT))
        names = [str(c.key) for c in stmt.selected_columns]
        known = _statements[id(stmt)] = (stmt, sql, namedtuple("Row", names, rename=True))
    return known[1], known[2]
