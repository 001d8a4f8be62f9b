"""The database files this process has open through SQLite.

A POSIX lock belongs to a process and a file, not to a descriptor: closing *any* descriptor of
a file drops every lock the process holds on it, those its SQLite connections hold included.
In WAL mode each connection keeps a shared lock on the database file for as long as it is
open, and that lock is what tells another process closing its last connection that the file is
still in use; without it, that process checkpoints and deletes the ``-wal`` and ``-shm`` files
under this one, whose next statement fails ("disk I/O error"). So rewind reads a file's header
itself (opening and closing the file) only while no connection of this process is open on it:
each log and store holds its file here while it is open.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["FileKey", "hold_file", "in_use", "release_file"]

FileKey = tuple[int, int]
"""A file's device and inode: the same file whatever path names it."""

_held: dict[FileKey, int] = {}
_lock = threading.Lock()


def _key(file: Path | str) -> FileKey | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def hold_file(file: Path | str) -> FileKey | None:
    """Note that a connection of this process has ``file`` open (until :func:`release_file`
    of the key returned); ``None`` when there is no such file."""
    key = _key(file)
    if key is not None:
        with _lock:
            _held[key] = _held.get(key, 0) + 1
    return key


def release_file(key: FileKey | None) -> None:
    """Undo one :func:`hold_file`."""
    if key is None:
        return
    with _lock:
        count = _held.get(key, 0) - 1
        if count > 0:
            _held[key] = count
        else:
            _held.pop(key, None)


def in_use(file: Path | str) -> bool:
    """Whether a connection of this process has ``file`` open (see the module's docstring)."""
    key = _key(file)
    with _lock:
        return key is not None and key in _held
