"""The saver protocol: a named place that opens an event store for a run."""

from __future__ import annotations

import os
from pathlib import Path

from rewind.store import EventStore, open_store

__all__ = ["Saver"]


class Saver:
    """A SQLite event store at ``path``, opened for each run (so it serves any event loop)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        """The database file."""

    async def open_store(self) -> EventStore:
        """Open the event store (the caller closes it)."""
        return await open_store(self.path)

    def setup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        from rewind.runtime.compiled import run_sync

        async def _setup() -> None:
            store = await self.open_store()
            await store.aclose()

        run_sync(_setup())

    async def asetup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        store = await self.open_store()
        await store.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"
