"""``SqliteSaver``: a graph's runs in a SQLite file, constructed as LangGraph's is."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rewind.checkpoint.saver import Saver
from rewind.checkpoint.serde.base import SerializerProtocol
from rewind.events import NewEvent

__all__ = ["SqliteSaver"]


def path_of(conn: sqlite3.Connection) -> Path:
    """The file behind a sqlite3 connection (a private temporary file for ``:memory:``)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file)
    return Path(tempfile.mkdtemp(prefix="rewind-sqlite-")) / "rewind.db"


class SqliteSaver(Saver):
    """rewind's event log in a SQLite file.

    ``SqliteSaver(sqlite3.connect(path))`` records into the file behind the connection (rewind
    opens its own connections to it); ``SqliteSaver.from_conn_string(path)`` is the context
    manager form.
    """

    def __init__(
        self,
        conn: sqlite3.Connection | str,
        *,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        path = conn if isinstance(conn, str) else path_of(conn)
        super().__init__(path, redact=redact, serde=serde)
        self.conn = conn if isinstance(conn, sqlite3.Connection) else None

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> Iterator[SqliteSaver]:
        """A saver on the file ``conn_string`` (``":memory:"`` for a temporary one)."""
        if conn_string == ":memory:":
            conn_string = str(Path(tempfile.mkdtemp(prefix="rewind-sqlite-")) / "rewind.db")
        saver = cls(conn_string, redact=redact, serde=serde)
        try:
            yield saver
        finally:
            saver.close()
