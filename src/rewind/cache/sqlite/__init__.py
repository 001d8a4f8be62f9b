"""``SqliteCache``: a node cache in a SQLite file, shared by the processes that open it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rewind.cache.base import BaseCache, FullKey, Namespace, ValueT

__all__ = ["SqliteCache"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS cache (
    ns TEXT,
    key TEXT,
    expiry REAL,
    encoding TEXT NOT NULL,
    val BLOB NOT NULL,
    PRIMARY KEY (ns, key)
)"""


class SqliteCache(BaseCache[ValueT]):
    """Entries in one table of the file at ``path`` (created when missing), written in WAL
    mode; one connection, shared by threads under a lock. Expired entries are deleted when
    read."""

    def __init__(self, *, path: str, serde: Any = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"cannot use {path!r} as a node cache: {exc}") from exc

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        if not keys:
            return {}
        now = time.time()
        wanted = {(",".join(ns), key): (tuple(ns), key) for ns, key in keys}
        placeholders = ",".join("(?, ?)" for _ in wanted)
        params = [part for pair in wanted for part in pair]
        values: dict[FullKey, ValueT] = {}
        expired: list[tuple[str, str]] = []
        with self._lock, self._conn:
            rows = self._conn.execute(
                "SELECT ns, key, expiry, encoding, val FROM cache "
                f"WHERE (ns, key) IN ({placeholders})",
                params,
            ).fetchall()
            for ns, key, expiry, encoding, raw in rows:
                if expiry is not None and now >= expiry:
                    expired.append((ns, key))
                    continue
                values[wanted[(ns, key)]] = self.serde.loads_typed((encoding, raw))
            if expired:
                self._conn.executemany("DELETE FROM cache WHERE ns = ? AND key = ?", expired)
        return values

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return await asyncio.to_thread(self.get, keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        rows = []
        for (ns, key), (value, ttl) in pairs.items():
            encoding, raw = self.serde.dumps_typed(value)
            rows.append((",".join(ns), key, None if ttl is None else now + ttl, encoding, raw))
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO cache (ns, key, expiry, encoding, val) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        await asyncio.to_thread(self.set, pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock, self._conn:
            if namespaces is None:
                self._conn.execute("DELETE FROM cache")
            else:
                self._conn.executemany(
                    "DELETE FROM cache WHERE ns = ?", [(",".join(ns),) for ns in namespaces]
                )

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        await asyncio.to_thread(self.clear, namespaces)

    def close(self) -> None:
        """Close the file (the cache is unusable afterwards)."""
        with self._lock:
            self._conn.close()
