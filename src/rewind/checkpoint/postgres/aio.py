"""``AsyncPostgresSaver``: the async construction of the PostgreSQL saver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rewind.checkpoint.postgres import PostgresSaver
from rewind.events import NewEvent

__all__ = ["AsyncPostgresSaver"]


class AsyncPostgresSaver(PostgresSaver):
    """rewind's event log on a PostgreSQL server, for async code (``await saver.setup()``)."""

    @classmethod
    @asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        serde: Any = None,
        redact: Callable[[NewEvent], Any] | None = None,
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on the database at ``conn_string``; closed (its log flushed) on exit."""
        saver = cls(conn_string, redact=redact, serde=serde)
        try:
            yield saver
        finally:
            await saver.aclose()

    async def setup(self) -> None:  # type: ignore[override]
        """Create (or migrate) the schema now rather than at the first run."""
        await self.asetup()
