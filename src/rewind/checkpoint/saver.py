"""The saver protocol: a named place whose event log serves a graph's runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewind.events import NewEvent
from rewind.log import EventLog, LogOptions, open_log
from rewind.runtime.loops import LogPerLoop, exited, run_sync

__all__ = ["Saver"]


class Saver:
    """An event log at ``path`` (a SQLite file, or a PostgreSQL URL), kept open per event
    loop between runs."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Callable[[NewEvent], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        """The database file (for a PostgreSQL saver: see :attr:`target`)."""
        self.target: str | Path = self.path
        """Where the log is: the file, or a PostgreSQL saver's URL."""
        self.redact = redact
        """Rewrites payloads before they are appended (see :class:`LogOptions`)."""
        self._logs = LogPerLoop(self.open_log)

    async def open_log(self) -> EventLog:
        """Open a new event log on the file (the caller closes it)."""
        return await open_log(self.target, options=LogOptions(redact=self.redact))

    async def log(self) -> EventLog:
        """The event log this saver keeps open for the running event loop."""
        return await self._logs.get()

    def setup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        run_sync(self.asetup())

    async def asetup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        await self.log()

    async def aclose(self) -> None:
        """Flush and close the log of the running loop."""
        await self._logs.aclose()

    def close(self) -> None:
        """Flush and close the log the sync API uses (at exit, Python's exit hook already
        did: a saver left open closes with the program)."""
        if exited():
            return
        run_sync(self.aclose())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.target)!r})"
