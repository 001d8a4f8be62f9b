"""``AsyncSqliteSaver``: the async construction of the SQLite saver."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rewind.checkpoint.saver import Saver
from rewind.checkpoint.serde.base import SerializerProtocol
from rewind.checkpoint.sqlite import path_of

__all__ = ["AsyncSqliteSaver"]


class AsyncSqliteSaver(Saver):
    """rewind's event log in a SQLite file, for async code."""

    def __init__(self, conn: Any, *, serde: SerializerProtocol | None = None) -> None:
        import sqlite3

        if isinstance(conn, str):
            super().__init__(conn, serde=serde)
        elif isinstance(conn, sqlite3.Connection):
            super().__init__(path_of(conn), serde=serde)
        else:  # an aiosqlite connection
            path = getattr(conn, "_database", None) or path_of_aiosqlite(conn)
            super().__init__(path, serde=serde)
        self.conn = conn

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, serde: SerializerProtocol | None = None
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on the file ``conn_string`` (``":memory:"`` for a temporary one)."""
        if conn_string == ":memory:":
            conn_string = str(Path(tempfile.mkdtemp(prefix="rewind-sqlite-")) / "rewind.db")
        yield cls(conn_string, serde=serde)


def path_of_aiosqlite(conn: Any) -> str:
    """A temporary file when an aiosqlite connection does not say where it points."""
    return str(Path(tempfile.mkdtemp(prefix="rewind-sqlite-")) / "rewind.db")
