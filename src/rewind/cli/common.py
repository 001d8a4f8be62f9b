"""What every verb shares: the database option, errors with exit codes, input parsing."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rewind.log import EventLog

__all__ = [
    "DEFAULT_DB",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "CliError",
    "Settings",
    "command_name",
    "db_file",
    "db_option",
    "open_db",
    "parse_duration",
    "parse_json",
    "parse_since",
    "settings",
    "use_settings",
]

DEFAULT_DB = "./rewind.db"
"""The database every verb uses unless ``--db`` or ``REWIND_DB`` names another."""

EXIT_FAILED = 1
"""Exit code: the graph run (or a delivery) failed."""
EXIT_USAGE = 2
"""Exit code: bad usage or bad input."""

F = TypeVar("F", bound=Callable[..., Any])


class CliError(Exception):
    """A failure the command reports as one line on stderr, with an exit code."""

    def __init__(self, message: str, *, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(kw_only=True)
class Settings:
    """The options given before (or with) the verb."""

    db: str
    """The database: a path or a SQLAlchemy URL."""
    debug: bool = False
    """Show tracebacks."""


_current = Settings(db=DEFAULT_DB)


def settings() -> Settings:
    """The settings of the running (or just failed) command."""
    return _current


def use_settings(chosen: Settings) -> None:
    """Make ``chosen`` the running command's settings."""
    global _current
    _current = chosen


def _set_db(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _current.db = value


def db_option(fn: F) -> F:
    """``--db`` accepted after the verb too (``rewind runs --db other.db``)."""
    return click.option(
        "--db",
        expose_value=False,
        callback=_set_db,
        metavar="PATH|URL",
        help=f"The database (default: $REWIND_DB, else {DEFAULT_DB}).",
    )(fn)


def db_file(db: str) -> Path | None:
    """The file behind a database path or ``sqlite://`` URL; ``None`` for memory or others."""
    text = db
    if "://" in text:
        if not text.startswith("sqlite"):
            return None
        text = text.split("://", 1)[1]
        text = text[1:] if text.startswith("/") else text
    if text in ("", ":memory:"):
        return None
    return Path(text).expanduser()


async def open_db(
    *, create: bool = False, upgrade: bool = True, read_only: bool = False, live: bool = False
) -> EventLog:
    """Open the chosen database; unless ``create``, one that must already exist. Without
    ``upgrade`` an older schema is refused rather than migrated.

    ``read_only`` (read commands): nothing is written to it, so a read-only file, directory or
    filesystem is read as it is, and an older schema is refused. ``live`` (a command that
    follows appends as they are made): as ``read_only``, but opened for reading and writing
    when this process may write it, so that appends made after it opened are seen even when
    no writer held the file open before."""
    from rewind.errors import ReadOnlyDatabaseError
    from rewind.log import open_log

    db = settings().db
    file = db_file(db)
    if not create and file is not None and (not file.exists() or _empty(file)):
        found = "an empty file" if file.exists() else "no database"
        raise CliError(
            f"{found} at {file}: record a run first (`rewind demo` or `rewind run "
            "FILE.py:ATTR`), or name the database with --db PATH or REWIND_DB"
        )
    try:
        if live:
            try:
                return await open_log(db, upgrade=upgrade)
            except ReadOnlyDatabaseError:
                read_only = True
        return await open_log(db, upgrade=upgrade, read_only=read_only)
    except ValueError as exc:  # a URL no backend serves
        raise CliError(str(exc)) from exc


def _empty(file: Path) -> bool:
    """Whether ``file`` is a zero-byte file (no database yet, as a missing one: a read command
    leaves it as it is)."""
    try:
        return file.is_file() and file.stat().st_size == 0
    except OSError:
        return False


def command_name() -> str:
    """How to call this command again: ``rewind`` when that is on the PATH, else the path it
    was started by (``.venv/bin/rewind`` in a virtualenv that is not activated)."""
    started = Path(sys.argv[0])
    if started.name != "rewind":
        return "rewind"
    found = shutil.which("rewind")
    if found is not None and Path(found).resolve() == started.resolve():
        return "rewind"
    relative = os.path.relpath(started)
    return relative if not relative.startswith("..") else str(started)


def parse_json(text: str, option: str) -> Any:
    """A JSON value given inline, as ``@file``, or as ``@-`` (standard input)."""
    source = "the value"
    if text.startswith("@"):
        name = text[1:]
        source = "standard input" if name == "-" else name
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
        except OSError as exc:
            raise CliError(f"{option}: cannot read {name}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{option}: {source} is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f'{exc.colno}); quote it for the shell, e.g. {option} \'{{"key": "value"}}\''
        ) from exc


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, option: str) -> timedelta:
    """``90s``, ``15m``, ``12h``, ``30d`` or ``2w``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not match:
        raise CliError(f"{option}: {text!r} is not a duration; write e.g. 30d, 12h, 15m or 2w")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def parse_since(text: str, option: str) -> datetime:
    """A date or time (ISO 8601, local time unless it says otherwise) or a duration ago."""
    if re.fullmatch(r"\s*\d+\s*[smhdw]\s*", text):
        return datetime.now(UTC) - parse_duration(text, option)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(
            f"{option}: {text!r} is neither a date (2025-06-30, 2025-06-30T14:00) nor a "
            "duration ago (12h, 7d)"
        ) from exc
    return moment if moment.tzinfo else moment.astimezone()
