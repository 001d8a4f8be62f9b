"""``InMemorySaver``: runs kept for the life of the process, in a private temporary database."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewind.checkpoint.persistent_dict import PersistentDict
from rewind.checkpoint.saver import Saver
from rewind.checkpoint.serde.base import SerializerProtocol
from rewind.events import NewEvent

__all__ = ["InMemorySaver", "MemorySaver", "PersistentDict"]


class InMemorySaver(Saver):
    """Keeps a graph's runs until the process ends (or the saver is garbage-collected).

    The log lives in a SQLite file in a private temporary directory, so that every event loop
    and thread of the process sees the same runs; the directory is removed with the saver.
    ``serde`` is kept as :attr:`serde` (see :class:`~rewind.checkpoint.saver.Saver`);
    ``factory`` (LangGraph's storage dicts, e.g. a ``PersistentDict``) is accepted and not
    used: the runs are in the log.
    """

    def __init__(
        self,
        *,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
        factory: Any = None,
    ) -> None:
        directory = tempfile.mkdtemp(prefix="rewind-memory-")
        super().__init__(Path(directory) / "rewind.db", redact=redact, serde=serde)
        self._cleanup = weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)


MemorySaver = InMemorySaver
"""LangGraph's older name for :class:`InMemorySaver`."""
