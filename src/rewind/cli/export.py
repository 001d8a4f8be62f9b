"""``rewind export``: stored runs as OpenTelemetry spans to an OTLP endpoint; and the live
span mirror ``rewind run`` attaches when an endpoint is configured."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rewind.cli.app import cli
from rewind.cli.common import EXIT_FAILED, CliError, db_option, open_db, parse_since

if TYPE_CHECKING:
    from rewind.log import EventLog

__all__ = ["export", "start_mirror"]

_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def _endpoint() -> str:
    return next((os.environ[v] for v in _ENDPOINT_VARS if os.environ.get(v)), "the endpoint")


async def start_mirror(log: EventLog) -> Any:
    """Mirror the log's runs as spans when an OTLP endpoint is configured; else ``None``."""
    from rewind.telemetry import attach_mirror, otlp_endpoint_configured

    return attach_mirror(log) if otlp_endpoint_configured() else None


@cli.command(short_help="Send stored runs' spans to an OTLP endpoint.")
@click.argument("run_id", metavar="[RUN]", required=False)
@click.option("--thread", metavar="ID", help="Export every run of a thread.")
@click.option(
    "--since", metavar="DATE|AGO", help="Export runs started since a date (2025-06-30) or 12h ago."
)
@db_option
def export(run_id: str | None, thread: str | None, since: str | None) -> int:
    """Send stored runs' spans to the OTLP endpoint that the OTEL_* variables name.

    Spans are rebuilt from the log, so exporting a run twice sends the same spans (same
    ids). Waits until every span is delivered; exits with 1 if some could not be.

    \b
    Examples:
      OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:6006 rewind export RUN
      rewind export --thread support-42
      rewind export --since 24h
    """
    chosen = [x for x in (run_id, thread, since) if x is not None]
    if len(chosen) != 1:
        raise CliError("name what to export: a RUN, --thread ID or --since DATE (one of them)")
    from rewind.telemetry import export_runs, otlp_endpoint_configured

    if not otlp_endpoint_configured():
        raise CliError(
            "no OTLP endpoint configured: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. "
            "http://localhost:4318) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        )
    after = parse_since(since, "--since") if since is not None else None
    return asyncio.run(_export(export_runs, run_id, thread, after))


async def _export(export_runs: Any, run_id: str | None, thread: str | None, after: Any) -> int:
    err = Console(stderr=True, highlight=False)
    log = await open_db(read_only=True)
    try:
        if run_id is not None:
            run_ids = [(await log.get_run(run_id)).run_id]
        else:
            records = await log.list_runs(thread_id=thread, created_after=after, oldest_first=True)
            if not records and thread is not None:
                raise CliError(f"no runs on thread {thread!r}; `rewind runs` lists them")
            run_ids = [r.run_id for r in records]
        if not run_ids:
            err.print("no runs started since then: nothing to export")
            return 0
        with Progress(
            TextColumn("exporting runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("export", total=len(run_ids))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = await export_runs(log, run_ids, progress=progress)
    finally:
        await log.aclose()
    sent = f"{result.spans_exported} spans of {len(run_ids)} runs to {_endpoint()}"
    if result.spans_failed:
        raise CliError(
            f"{result.spans_failed} spans could not be delivered to {_endpoint()} ({sent} "
            "delivered); check that the collector is running and reachable",
            code=EXIT_FAILED,
        )
    err.print(f"exported {sent}")
    return 0
