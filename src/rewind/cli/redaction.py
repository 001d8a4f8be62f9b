"""``rewind db redact`` and ``rewind db redactions``: erase values from the log for good."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import click

from rewind.cli.common import CliError, db_option, open_db
from rewind.cli.database import db

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.log.records import RedactionReport

__all__ = ["redact", "redactions"]


@db.command()
@click.option("--run", "run_id", metavar="RUN", help="Only this run's events.")
@click.option(
    "--seq",
    "seqs",
    type=click.IntRange(min=0),
    multiple=True,
    metavar="N",
    help="Event N of --run (repeatable).",
)
@click.option("--thread", metavar="ID", help="Only this thread's events.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only events of this type; a pattern such as 'chat.*' works (repeatable).",
)
@click.option(
    "--match",
    metavar="TEXT",
    help="Only events holding TEXT (case-sensitive); in events whose structure stays, the "
    "strings holding it are what goes.",
)
@click.option("--ignore-case", "-i", is_flag=True, help="Match TEXT's letters in any case.")
@click.option(
    "--contents-only",
    is_flag=True,
    help="Keep the payload's structure: replace chat messages' texts (content, tool call "
    "arguments), tokens and prompts, and with --match every string holding TEXT.",
)
@click.option("--reason", metavar="TEXT", help="Why (kept with the record of the redaction).")
@click.option("--by", "actor", metavar="NAME", help="Who asks (default: your login name).")
@click.option("--dry-run", is_flag=True, help="List what would be redacted; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-vacuum", is_flag=True, help="Do not compact the file afterwards.")
@db_option
def redact(
    run_id: str | None,
    seqs: tuple[int, ...],
    thread: str | None,
    types: tuple[str, ...],
    match: str | None,
    ignore_case: bool,
    contents_only: bool,
    reason: str | None,
    actor: str | None,
    dry_run: bool,
    yes: bool,
    no_vacuum: bool,
) -> None:
    """Erase payloads (or their texts) from the log for good, keeping every hash chain
    verifiable and recording the redaction. Every condition given must hold; say which
    events with --seq, --type or --match.

    Events a run's structure depends on (its start and end, checkpoints, a task's start, end
    and failure, interrupts, resumes) keep it: only their values go (with --contents-only or
    --match). A chat model's tokens stored together in one row go together. Runs
    still running are refused. The caches of the threads concerned are
    rebuilt from the redacted log, and the file is compacted so the erased bytes leave it.

    \b
    Examples:
      rewind db redact --match ann@example.com --ignore-case --dry-run
      rewind db redact --match ann@example.com --reason "erasure request 2025-117" --yes
      rewind db redact --run RUN --seq 12 --seq 13
      rewind db redact --thread support-42 --type 'chat.*' --contents-only
      rewind db redact --type store.write --match ann@example.com
    """
    if ignore_case and match is None:
        raise CliError("--ignore-case goes with --match TEXT")
    selection = {**_selection(run_id, seqs, thread, types, match), "ignore_case": ignore_case}
    if not dry_run and not yes and not sys.stdin.isatty():
        raise CliError("redacting cannot be undone: confirm with --yes (or look first: --dry-run)")
    asyncio.run(
        _redact(selection, contents_only, reason, actor or _login(), dry_run, yes, not no_vacuum)
    )


def _selection(
    run_id: str | None,
    seqs: tuple[int, ...],
    thread: str | None,
    types: tuple[str, ...],
    match: str | None,
) -> dict[str, Any]:
    """The selection as ``log.redact`` takes it, once the options agree."""
    if run_id is not None and thread is not None:
        raise CliError("give --run or --thread, not both")
    if seqs and run_id is None:
        raise CliError("--seq numbers the events of one run: name it with --run RUN")
    if not (seqs or types or match is not None):
        raise CliError(
            "say which events: --run RUN --seq N, --type TYPE (e.g. chat.token) or --match TEXT"
        )
    if match is not None and not match:
        raise CliError("--match needs a text to look for")
    from rewind.log.erasure import Selection

    chosen = Selection(
        run_id=run_id,
        seqs=seqs or None,
        thread_id=thread,
        types=types or None,
        match=match,
    )
    try:
        chosen.check()
    except ValueError as exc:  # what the options above leave: a type that is no type
        raise CliError(f"--type: {exc}") from exc
    return {f: getattr(chosen, f) for f in ("run_id", "seqs", "thread_id", "types", "match")}


async def _redact(
    chosen: dict[str, Any],
    contents_only: bool,
    reason: str | None,
    actor: str | None,
    dry_run: bool,
    yes: bool,
    vacuum: bool,
) -> None:
    log = await open_db()
    try:
        options = {"contents_only": contents_only, **chosen}
        preview = await log.redact(**options, dry_run=True)
        if not preview.events:
            click.echo(_nothing(preview))
            return
        _list(preview, "would redact" if dry_run or not yes else "redacting")
        if dry_run:
            click.echo("dry run: nothing was changed")
            return
        if not yes and not click.confirm("Erase these for good?", default=False):
            click.echo("nothing was changed")
            return
        report = await log.redact(**options, reason=reason, actor=actor, vacuum=vacuum)
        rebuilt = await _rebuild(log, report)
        click.echo(_summary(report, rebuilt))
    finally:
        await log.aclose()


async def _rebuild(log: EventLog, report: RedactionReport) -> int:
    from rewind.thread_state import rebuild_caches

    return await rebuild_caches(log, report)


def _list(report: RedactionReport, verb: str) -> None:
    runs = len({e.run_id for e in report.events})
    total = sum(e.count for e in report.events)
    click.echo(f"{verb} {_count(total, 'event')} in {_count(runs, 'run')}:")
    for event in report.events:
        what = "whole payload" if event.scope == "payload" else "values"
        held = _packed(event.seq, event.count)
        click.echo(f"  {event.run_id}  seq {event.seq:>5}  {event.type:<16} {held}{what}")


def _packed(seq: int, count: int) -> str:
    """What a line about a packed row of tokens says before its scope: the events it holds."""
    if count == 1:
        return ""
    return f"{count} tokens stored together (seqs {seq - count + 1} to {seq}), "


def _nothing(report: RedactionReport) -> str:
    if report.unchanged:
        held = _count(report.unchanged, "event")
        return f"nothing to redact: the {held} selected hold nothing more to erase"
    return "no event matches; nothing was redacted"


def _summary(report: RedactionReport, rebuilt: int) -> str:
    kinds = Counter[str]()
    for event in report.events:
        kinds[event.scope] += event.count
    runs = len({e.run_id for e in report.events})
    parts = [
        f"redacted {_count(kinds.total(), 'event')} in {_count(runs, 'run')} "
        f"({kinds['payload']} whole, {kinds['contents']} values only)"
    ]
    if report.rechained:
        parts.append(
            f"re-chained {_count(len(report.rechained), 'run')} written before schema "
            "revision 0005 (`rewind db redactions` shows each one's previous last hash)"
        )
    parts.append(
        f"caches of {_count(len(report.threads), 'thread')} rebuilt from the redacted log "
        f"({_count(rebuilt, 'state')})"
    )
    parts.append("file compacted" if report.vacuumed else "file not compacted (--no-vacuum)")
    return "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid
        return None


@db.command()
@click.option("--run", "run_id", metavar="RUN", help="Only this run's.")
@click.option("--thread", metavar="ID", help="Only this thread's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per redacted event.")
@db_option
def redactions(run_id: str | None, thread: str | None, as_json: bool) -> None:
    """List the events redacted: when, what, why, by whom, and the digest of the erased
    payload that the run's hash chain goes on covering.

    \b
    Examples:
      rewind db redactions
      rewind db redactions --run RUN --json
    """

    async def go() -> list[Any]:
        log = await open_db(read_only=True)
        try:
            if run_id is not None:
                await log.get_run(run_id)
            return await log.list_redactions(run_id=run_id, thread_id=thread)
        finally:
            await log.aclose()

    records = asyncio.run(go())
    for record in records:
        if as_json:
            click.echo(json.dumps(_as_dict(record), ensure_ascii=False))
            continue
        when = record.redacted_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        held = _packed(record.seq, record.count)
        line = f"{when}  {record.run_id}  seq {record.seq:>5}  {record.type:<16} {held}"
        line += record.scope
        if record.actor or record.reason:
            line += f"  by {record.actor or '?'}: {record.reason or '(no reason given)'}"
        if record.rechained_from is not None:
            line += f"  (re-chained; last hash before {record.rechained_from.hex()})"
        click.echo(line)
    if not as_json:
        click.echo(f"{_count(sum(r.count for r in records), 'event')} redacted")


def _as_dict(record: Any) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "thread_id": record.thread_id,
        "seq": record.seq,
        "type": record.type,
        "scope": record.scope,
        "redacted_at": record.redacted_at.isoformat(),
        "reason": record.reason,
        "actor": record.actor,
        "digest": record.digest.hex(),
        "rechained_from": None if record.rechained_from is None else record.rechained_from.hex(),
        "count": record.count,
    }
