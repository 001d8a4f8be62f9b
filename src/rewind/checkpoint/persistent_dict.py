"""``PersistentDict``: a dict kept in memory and written to a pickle file on ``sync``/``close``.

LangGraph's ``InMemorySaver`` can keep its tables in these (its ``factory=``); rewind's keeps
its runs in an event log, but the class is here for code that uses it on its own.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
from collections import defaultdict
from typing import Any

__all__ = ["PersistentDict"]

logger = logging.getLogger(__name__)


class PersistentDict(defaultdict[Any, Any]):
    """A ``defaultdict`` written to ``filename`` (pickled, atomically) on ``sync`` and
    ``close``, and read back with ``load``."""

    def __init__(self, *args: Any, filename: str, **kwds: Any) -> None:
        self.flag = "c"
        """``r`` read-only, ``c`` create, ``n`` new (``load`` reads nothing)."""
        self.mode: int | None = None
        """File permissions to set after writing (``None``: leave them)."""
        self.format = "pickle"
        """The file format (only ``pickle``)."""
        self.filename = filename
        """The file."""
        super().__init__(*args, **kwds)

    def sync(self) -> None:
        """Write the dict to the file (through a temporary file, then a rename)."""
        if self.flag == "r":
            return
        tempname = self.filename + ".tmp"
        try:
            with open(tempname, "wb") as fileobj:
                self.dump(fileobj)
        except Exception:
            os.remove(tempname)
            raise
        shutil.move(tempname, self.filename)
        if self.mode is not None:
            os.chmod(self.filename, self.mode)

    def close(self) -> None:
        """Write the dict to the file and empty it."""
        self.sync()
        self.clear()

    def __enter__(self) -> PersistentDict:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def dump(self, fileobj: Any) -> None:
        """Write the dict to an open binary file."""
        if self.format != "pickle":
            raise NotImplementedError("Unknown format: " + repr(self.format))
        pickle.dump(dict(self), fileobj, 2)

    def load(self) -> None:
        """Add the file's items to the dict (nothing for flag ``n`` or an empty file)."""
        if self.flag == "n":
            return
        with open(self.filename, "rb") as fileobj:
            try:
                self.update(pickle.load(fileobj))
            except EOFError:
                return
            except Exception:
                logger.error("Failed to load file: %s", fileobj.name)
                raise
