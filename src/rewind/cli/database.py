"""``rewind db``: migrate, inspect, verify, back up and prune the database."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from rewind import migrations
from rewind.cli.app import CONTEXT, cli
from rewind.cli.common import (
    EXIT_FAILED,
    CliError,
    db_file,
    db_option,
    open_db,
    parse_duration,
    settings,
)

__all__ = ["db"]


@cli.group(context_settings=CONTEXT)
def db() -> None:
    """Manage the database: upgrade, current, verify, drop-caches, backup, prune, redact,
    redactions.

    \b
    Examples:
      rewind db verify
      rewind --db runs.db db backup runs-2025-06-30.db
      rewind db prune --older-than 30d
      rewind db redact --match ann@example.com --dry-run
    """


@db.command()
@db_option
def upgrade() -> None:
    """Create the database, or migrate it to the newest schema.

    \b
    Example:
      rewind db upgrade
    """

    async def go() -> str:
        log = await open_db(create=True)
        await log.aclose()
        return f"{_label()}: at schema revision {migrations.head_revision()} (newest)"

    click.echo(asyncio.run(go()))


@db.command()
@db_option
def current() -> None:
    """Show the database's schema revision, and whether it needs `rewind db upgrade`.

    \b
    Example:
      rewind db current
    """
    from rewind.log.postgres import is_postgres_url, read_postgres_revision, shown
    from rewind.log.sqlite_files import needs_migration, read_revision

    if is_postgres_url(settings().db):
        url = settings().db
        found = read_postgres_revision(url)
        head = migrations.head_revision()
        if found is None:
            click.echo(
                f"{shown(url)}: no rewind schema yet (it will be created at revision {head})"
            )
        else:
            state = "up to date" if found == head else "needs `rewind db upgrade`"
            click.echo(f"{shown(url)}: schema revision {found} ({state}; newest {head})")
        return
    file = _file()
    if not file.exists():
        head = migrations.head_revision()
        click.echo(f"{file}: no database yet (it will be created at revision {head})")
        return
    revision = read_revision(file.resolve())
    needs = needs_migration(str(file), revision, upgrade=True)
    state = "needs `rewind db upgrade`" if needs else "up to date"
    click.echo(f"{file}: schema revision {revision} ({state}; newest {migrations.head_revision()})")


@db.command()
@db_option
def verify() -> int:
    """Check the database file (SQLite's integrity check), every run's hash chain, and that the
    caches of folded state (thread heads, snapshots) agree with the log. Exits with 0 when all
    is well; 1 when the file is corrupt, an event was altered or removed, or a cache disagrees
    (`rewind db drop-caches` then rebuilds them from the log); 2 when the database cannot be
    opened (missing, another application's, newer than this rewind).

    \b
    Example:
      rewind db verify
    """
    from rewind.errors import DatabaseError, NotARewindDatabaseError
    from rewind.log.sqlite_files import integrity_problems, read_revision
    from rewind.thread_state import verify_caches

    file = db_file(settings().db)
    if file is not None and file.is_file() and file.stat().st_size > 0:
        try:
            read_revision(file)  # refuses a file that is not a database (exit 2), reading only
        except NotARewindDatabaseError:
            raise
        except DatabaseError as exc:  # an SQLite file too damaged to read its schema
            problems = [str(exc.__cause__ or exc)]
        else:
            problems = integrity_problems(file)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            click.echo(
                f"CORRUPT {file}: SQLite's integrity check failed: {problems[0]}{more}; "
                "restore it from a backup (nothing was read further or written)"
            )
            return EXIT_FAILED

    async def go() -> bool:
        log = await open_db(upgrade=False, read_only=True)
        try:
            records = await log.list_runs(oldest_first=True)
            ok = True
            redacted = Counter[str]()
            for record in records:
                report = await log.verify_chain(record.run_id)
                redacted[record.run_id] = report.redacted
                if not report.ok:
                    ok = False
                    click.echo(
                        f"BROKEN {record.run_id}: event {report.first_bad_seq}: {report.reason}"
                    )
            tail = "every hash chain intact" if ok else "see above"
            click.echo(f"{len(records)} runs checked: {tail}{_redacted(redacted)}")
            checked, problems = await verify_caches(log)
            for problem in problems:
                click.echo(
                    f"STALE {problem.what} of thread {problem.thread_id} at checkpoint "
                    f"{problem.checkpoint_id}: {problem.reason}"
                )
            fix = "; `rewind db drop-caches` rebuilds them from the log" if problems else ""
            plural = "" if checked == 1 else "s"
            click.echo(
                f"{checked} cached state{plural} checked: "
                f"{'every one agrees with the log' if not problems else 'see above'}{fix}"
            )
            return ok and not problems
        finally:
            await log.aclose()

    ok = asyncio.run(go())
    if file is not None and file.is_file():
        click.echo(f"{file}: SQLite's integrity check passed")
    return 0 if ok else EXIT_FAILED


@db.command(name="drop-caches")
@db_option
def drop_caches() -> None:
    """Drop the caches of folded state (thread heads, snapshots). Nothing you see changes:
    a thread's head is rebuilt from its log the next time it is read.

    \b
    Example:
      rewind db drop-caches
    """

    async def go() -> int:
        log = await open_db()
        try:
            return await log.drop_caches()
        finally:
            await log.aclose()

    click.echo(f"{_label()}: {asyncio.run(go())} cached states dropped")


@db.command()
@click.argument("target", metavar="FILE")
@db_option
def backup(target: str) -> None:
    """Write a consistent copy of the database to FILE, even while runs are appending.

    \b
    Example:
      rewind db backup backups/rewind-2025-06-30.db
    """
    from rewind.log.postgres import is_postgres_url

    if is_postgres_url(settings().db):
        raise CliError(
            "a PostgreSQL database is backed up by the server's own tools, e.g. "
            f"pg_dump --format=custom --file={target} '<the URL>' (restore with pg_restore)"
        )
    path = Path(target)
    if path.exists():
        raise CliError(f"{target} exists; back up to a new file name")
    if not path.parent.is_dir():
        raise CliError(f"no directory {path.parent} to write {target} in")

    async def go() -> None:
        log = await open_db(read_only=True)
        try:
            await log.backup(str(path))
        finally:
            await log.aclose()

    asyncio.run(go())
    click.echo(f"{_label()} backed up to {path} ({path.stat().st_size:,} bytes)")


@db.command(name="copy")
@click.argument("source", metavar="SRC")
@click.argument("target", metavar="DST")
def copy_command(source: str, target: str) -> int:
    """Copy a whole log from SRC to DST (files or PostgreSQL URLs): every run, event and
    cache, positions and hash chains unchanged; then check DST's chains. DST must hold no run.

    \b
    Examples:
      rewind db copy rewind.db postgresql://rewind@db.internal/rewind
      rewind db copy postgresql://rewind@db.internal/rewind archive.db
    """
    from rewind.log import open_log
    from rewind.log.copy import copy_log
    from rewind.log.postgres import is_postgres_url, shown

    if not is_postgres_url(source) and not Path(source).is_file():
        raise CliError(f"no database at {source}")

    async def go() -> tuple[dict[str, int], int, int, list[str]]:
        try:
            report = await copy_log(source, target)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        log = await open_log(target)
        try:
            records = await log.list_runs(oldest_first=True)
            broken = [r.run_id for r in records if not (await log.verify_chain(r.run_id)).ok]
        finally:
            await log.aclose()
        return report.rows, report.head, len(records), broken

    rows, head, chains, broken = asyncio.run(go())
    where = shown(target) if is_postgres_url(target) else target
    click.echo(
        f"copied {rows.get('runs', 0)} runs ({rows.get('events', 0)} events, head position "
        f"{head}) to {where}"
    )
    verdict = "every hash chain intact" if not broken else f"BROKEN: {', '.join(broken)}"
    click.echo(f"{chains} runs checked there: {verdict}")
    return EXIT_FAILED if broken else 0


@db.command()
@click.option("--older-than", metavar="AGE", help="Delete runs started more than AGE ago (30d).")
@click.option("--keep-last", type=click.IntRange(min=0), metavar="N", help="Keep N per thread.")
@db_option
def prune(older_than: str | None, keep_last: int | None) -> None:
    """Delete finished runs, then give the space back. Runs that a kept run starts from (a
    fork's origin, a thread's earlier runs) stay, so every kept run can still be rebuilt.

    \b
    Examples:
      rewind db prune --older-than 30d
      rewind db prune --keep-last 10
    """
    if (older_than is None) == (keep_last is None):
        raise CliError("say what to delete: --older-than AGE (e.g. 30d) or --keep-last N")
    cutoff = datetime.now(UTC) - parse_duration(older_than, "--older-than") if older_than else None

    async def go() -> str:
        log = await open_db()
        try:
            report = await log.prune(older_than=cutoff, keep_last=keep_last)
        finally:
            await log.aclose()
        kept = report.runs_kept_for_dependants
        return f"deleted {report.runs_deleted} runs ({report.events_deleted} events)" + (
            f"; kept {kept} that retained runs start from" if kept else ""
        )

    click.echo(asyncio.run(go()))


def _redacted(counts: Counter[str]) -> str:
    """How many events the chains checked cover by the digest a redaction kept."""
    total, runs = sum(counts.values()), sum(1 for n in counts.values() if n)
    if not total:
        return ""
    return (
        f" ({total} redacted event{'s' if total != 1 else ''} in {runs} "
        f"run{'s' if runs != 1 else ''}, covered by their erased payloads' digests; "
        "`rewind db redactions` lists them)"
    )


def _file() -> Path:
    file = db_file(settings().db)
    if file is None:
        raise CliError(f"{settings().db} is not a database file")
    return file


def _label() -> str:
    file = db_file(settings().db)
    return str(file) if file is not None else settings().db
