"""The ``rewind`` command. For now it manages the database (``rewind db ...``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rewind import migrations
from rewind.errors import RewindError
from rewind.store import open_sqlite
from rewind.store.sqlite import needs_migration, read_revision

__all__ = ["main"]

DEFAULT_DB = "./rewind.db"


def _db_path(args: argparse.Namespace) -> Path:
    raw: str = args.db or os.environ.get("REWIND_DB") or DEFAULT_DB
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
    return Path(raw)


async def _upgrade(path: Path) -> str:
    store = await open_sqlite(path, upgrade=True)
    await store.aclose()
    return f"{path}: at schema revision {migrations.head_revision()} (newest)"


async def _current(path: Path) -> str:
    if not path.exists():
        return (
            f"{path}: no database yet (it will be created at revision {migrations.head_revision()})"
        )
    revision = read_revision(path.resolve())
    needs = needs_migration(str(path), revision, upgrade=True)
    state = "needs `rewind db upgrade`" if needs else "up to date"
    return f"{path}: schema revision {revision} ({state}; newest {migrations.head_revision()})"


async def _verify(path: Path) -> tuple[str, bool]:
    store = await open_sqlite(path, upgrade=False)
    try:
        lines, ok = [], True
        for run in await store.list_runs(oldest_first=True):
            report = await store.verify_chain(run.run_id)
            if not report.ok:
                ok = False
                lines.append(f"BROKEN {run.run_id}: event {report.first_bad_seq}: {report.reason}")
        count = len(await store.list_runs())
        lines.append(f"{count} runs checked: " + ("every hash chain intact" if ok else "see above"))
        return "\n".join(lines), ok
    finally:
        await store.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="rewind", description="rewind: the agent flight recorder")
    parser.add_argument("--db", help=f"database path (default $REWIND_DB or {DEFAULT_DB})")
    verbs = parser.add_subparsers(dest="verb", required=True)
    db = verbs.add_parser("db", help="manage the database")
    db_verbs = db.add_subparsers(dest="db_verb", required=True)
    db_verbs.add_parser("upgrade", help="migrate the database to the newest schema")
    db_verbs.add_parser("current", help="show the database's schema revision")
    db_verbs.add_parser("verify", help="check every run's hash chain")
    args = parser.parse_args(argv)
    path = _db_path(args)
    try:
        if args.db_verb == "upgrade":
            print(asyncio.run(_upgrade(path)))
        elif args.db_verb == "current":
            print(asyncio.run(_current(path)))
        else:
            text, ok = asyncio.run(_verify(path))
            print(text)
            return 0 if ok else 1
    except RewindError as exc:
        print(f"rewind: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
