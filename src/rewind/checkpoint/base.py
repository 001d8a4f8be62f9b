"""The saver protocol: a named place whose event store serves a graph's runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewind.events import NewEvent
from rewind.runtime.loops import StorePerLoop, run_sync
from rewind.store import EventStore, StoreOptions, open_store

__all__ = ["Saver"]


class Saver:
    """A SQLite event store at ``path``, kept open per event loop between runs."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Callable[[NewEvent], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        """The database file."""
        self.redact = redact
        """Rewrites payloads before they are appended (see :class:`StoreOptions`)."""
        self._stores = StorePerLoop(self.open_store)

    async def open_store(self) -> EventStore:
        """Open a new event store on the file (the caller closes it)."""
        return await open_store(self.path, options=StoreOptions(redact=self.redact))

    async def store(self) -> EventStore:
        """The event store this saver keeps open for the running event loop."""
        return await self._stores.get()

    def setup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        run_sync(self.asetup())

    async def asetup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        await self.store()

    async def aclose(self) -> None:
        """Flush and close the store of the running loop."""
        await self._stores.aclose()

    def close(self) -> None:
        """Flush and close the store the sync API uses."""
        run_sync(self.aclose())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"
