"""Verbs that read the log: ``runs``, ``show``, ``state``, ``history`` and ``tail``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from rewind.cli.app import cli
from rewind.cli.common import CliError, db_option, open_db
from rewind.cli.output import brief, json_line
from rewind.events import EventType, Redacted, RunStatus, StoredEvent, fields_of

if TYPE_CHECKING:
    from rewind.log import ChainReport, EventLog
    from rewind.projections.state import CheckpointView

__all__ = ["history", "runs", "show", "state", "tail", "thread_views"]

_STATUS_STYLE = {
    "success": "green",
    "error": "red",
    "interrupted": "yellow",
    "running": "cyan",
    "cancelled": "dim",
}


def _out() -> Console:
    # Piped output keeps whole lines (full ids) rather than wrapping to 80 columns.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 400)


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _seconds(start: datetime, end: datetime) -> str:
    took = (end - start).total_seconds()
    return f"{took * 1000:.0f} ms" if took < 1 else f"{took:.2f} s"


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, '')}]{status}[/]"


@cli.command()
@click.option("--thread", metavar="ID", help="Only this thread's runs.")
@click.option("--status", type=click.Choice([s.value for s in RunStatus]), help="Only these.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@db_option
def runs(thread: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List recorded runs, newest first, with their full ids.

    \b
    Examples:
      rewind runs
      rewind runs --thread support-42 --status interrupted --json
    """

    async def go() -> list[Any]:
        log = await open_db(read_only=True)
        try:
            return await log.list_runs(thread_id=thread, status=status, limit=limit)
        finally:
            await log.aclose()

    records = asyncio.run(go())
    if as_json:
        for record in records:
            click.echo(json_line(record))
        return
    if not records:
        click.echo("no runs match", err=True)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("run", "thread", "graph", "status", "started", "took", "from"):
        table.add_column(column, no_wrap=column in ("run", "started", "status"))
    for r in records:
        table.add_row(
            r.run_id,
            r.thread_id,
            r.graph_name or "",
            _status(r.status),
            _when(r.created_at),
            _seconds(r.created_at, r.updated_at),
            r.origin_checkpoint_id or "",
        )
    _out().print(table)


@cli.command(short_help="Summarise one run: nodes, timings, tokens, errors.")
@click.argument("run_id", metavar="RUN")
@db_option
def show(run_id: str) -> None:
    """Summarise a run: status, error, fork origin, each node with its duration, model calls
    and tokens, interrupts, and the checkpoints to fork from.

    \b
    Example:
      rewind show 0b6e4a1c-...
    """

    async def go() -> tuple[Any, list[StoredEvent], ChainReport]:
        log = await open_db(read_only=True)
        try:
            record = await log.get_run(run_id)
            events = await log.read(run_id)
            return record, events, await log.verify_chain(run_id)
        finally:
            await log.aclose()

    record, events, report = asyncio.run(go())
    out = _out()
    started = events[0].payload or {}
    ended = next((e for e in events if e.type == EventType.RUN_ENDED), None)
    out.print(f"[bold]run[/]      {record.run_id}")
    out.print(f"[bold]thread[/]   {record.thread_id}")
    out.print(f"[bold]graph[/]    {record.graph_name or ''}")
    out.print(f"[bold]status[/]   {_status(record.status)}")
    if ended is not None and (ended.payload or {}).get("error"):
        error = ended.payload["error"]
        out.print(f"[bold]error[/]    {error.get('type')}: {error.get('message')}", markup=True)
    took = _seconds(record.created_at, record.updated_at)
    out.print(f"[bold]started[/]  {_when(record.created_at)} (took {took})")
    if record.origin_run_id:
        out.print(
            f"[bold]from[/]     {_origin_kind(started)} run {record.origin_run_id} at checkpoint "
            f"{record.origin_checkpoint_id}"
        )
    chain = "hash chain intact" if report.ok else "[red]hash chain BROKEN[/] (see rewind db verify)"
    if report.redacted:
        chain += (
            f", {report.redacted} redacted (`rewind db redactions --run {record.run_id}` "
            "says when and why)"
        )
    out.print(f"[bold]events[/]   {len(events)}, {chain}")
    out.print(_nodes(events))
    _models(out, events)
    for event in events:
        if event.type == EventType.INTERRUPT:
            for interrupt in (event.payload or {}).get("interrupts") or ():
                value = getattr(interrupt, "value", interrupt)
                out.print(f"[yellow]interrupt[/] in {event.node}: {brief(value)}", markup=True)
    checkpoints = [e for e in events if e.type == EventType.CHECKPOINT and not e.ns]
    if checkpoints:
        out.print("[bold]checkpoints[/] (fork from one with `rewind fork RUN --checkpoint ID`):")
        for e in checkpoints:
            nxt = ", ".join(t["name"] for t in e.payload.get("next") or ()) or "-"
            step = e.payload.get("step", e.step)
            out.print(f"  step {step:>3}  {e.payload['id']}  next: {nxt}")


def _origin_kind(started: dict[str, Any]) -> str:
    """How a run relates to the run it starts from, as its ``run.started`` event tells."""
    if "update" in started:
        return "state update after"
    configurable = (started.get("config") or {}).get("configurable") or {}
    return "fork of" if configurable.get("checkpoint_id") else "continues"


def _nodes(events: list[StoredEvent]) -> Table:
    table = Table(box=None, pad_edge=False, title_justify="left")
    for column in ("step", "node", "took", "outcome"):
        table.add_column(column, justify="right" if column in ("step", "took") else "left")
    started: dict[tuple[str | None, str | None], StoredEvent] = {}
    for event in events:
        key = (event.ns, event.task_id)
        if event.type == EventType.TASK_STARTED:
            started[key] = event
        elif event.type in (EventType.TASK_ENDED, EventType.TASK_FAILED, EventType.INTERRUPT):
            begin = started.pop(key, None)
            if begin is None or event.node in (None, "__start__"):
                continue
            payload = event.payload or {}
            if event.type == EventType.TASK_ENDED:
                outcome = "[green]ok[/]"
            elif event.type == EventType.TASK_FAILED:
                outcome = f"[red]{payload.get('type')}[/]: {payload.get('message')}"
            else:
                outcome = "[yellow]interrupted[/]"
            name = f"{event.ns.split(':')[0]} / {event.node}" if event.ns else str(event.node)
            table.add_row(str(event.step), name, _seconds(begin.ts, event.ts), outcome)
    return table


def _models(out: Console, events: list[StoredEvent]) -> None:
    calls = [e for e in events if e.type == EventType.CHAT_STARTED]
    if not calls:
        return
    tokens = sum(1 for e in events if e.type == EventType.CHAT_TOKEN)
    usage: dict[str, int] = {}
    for event in events:
        if event.type == EventType.CHAT_ENDED:
            for generation in fields_of(event.payload).get("generations") or ():
                for message in generation or ():
                    for key, value in (getattr(message, "usage_metadata", None) or {}).items():
                        if isinstance(value, int):
                            usage[key] = usage.get(key, 0) + value
    models = sorted({_model_name(fields_of(e.payload)) for e in calls})
    line = f"[bold]models[/]   {len(calls)} calls ({', '.join(models)}), {tokens} tokens streamed"
    if usage:
        line += ", usage " + ", ".join(f"{k} {v}" for k, v in sorted(usage.items()))
    out.print(line)


def _model_name(payload: Mapping[str, Any]) -> str:
    params = payload.get("invocation_params") or {}
    serialized = payload.get("serialized") or {}
    return str(
        params.get("model") or params.get("model_name") or serialized.get("name") or "chat model"
    )


async def thread_views(
    log: EventLog, thread: str, *, checkpoint: str | None = None, newest_only: bool = False
) -> list[CheckpointView]:
    """A thread's checkpoints, newest first, read from the log (values in schema order): every
    one, only ``checkpoint``, or only the newest (``newest_only``).

    Raises:
        UnknownThreadError: the thread has no runs.
    """
    from rewind.errors import UnknownThreadError
    from rewind.thread_state import history, read_checkpoint, read_head

    if not await log.list_runs(thread_id=thread, limit=1):
        raise UnknownThreadError(thread)
    if checkpoint is not None:
        found = await read_checkpoint(log, checkpoint, thread_id=thread)
        views = [found.view] if found is not None and found.view is not None else []
    elif newest_only:
        head = (await read_head(log, thread)).view
        views = [head] if head is not None else []
    else:
        views = [view async for view in history(log, thread)]
    orders: dict[str, list[str]] = {}
    for view in views:
        if view.run_id not in orders:
            started = await log.read(view.run_id, types=[EventType.RUN_STARTED], limit=1)
            orders[view.run_id] = list((started[0].payload or {}).get("channels") or [])
        order = orders[view.run_id]
        view.values = {
            **{k: view.values[k] for k in order if k in view.values},
            **{k: v for k, v in view.values.items() if k not in order},
        }
    return views


def _read_views(thread: str, **kwargs: Any) -> list[CheckpointView]:
    async def go() -> list[CheckpointView]:
        log = await open_db(read_only=True)
        try:
            return await thread_views(log, thread, **kwargs)
        finally:
            await log.aclose()

    return asyncio.run(go())


def _described(view: CheckpointView, thread: str) -> dict[str, Any]:
    return {
        "thread_id": thread,
        "checkpoint_id": view.id,
        "parent_checkpoint_id": view.parent_id,
        "run_id": view.run_id,
        "step": view.step,
        "source": view.source,
        "created_at": view.ts,
        "next": [t["name"] for t in view.next],
        "interrupts": [i for t in view.interrupted_order for i in view.interrupts.get(t, ())],
        "values": view.values,
    }


@cli.command(short_help="Show a thread's state, folded from the log.")
@click.argument("thread")
@click.option("--checkpoint", metavar="ID", help="The state at this checkpoint (default: newest).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@db_option
def state(thread: str, checkpoint: str | None, as_json: bool) -> None:
    """Show a thread's state at its newest checkpoint (or --checkpoint), folded from the log
    alone: the graph's code is not needed.

    \b
    Examples:
      rewind state support-42
      rewind state support-42 --checkpoint 1f0a... --json
    """
    chosen = _read_views(thread, checkpoint=checkpoint, newest_only=checkpoint is None)
    if not chosen:
        raise CliError(
            f"no checkpoint {checkpoint!r} on thread {thread}; `rewind history {thread}` lists them"
        )
    described = _described(chosen[0], thread)
    if as_json:
        click.echo(json_line(described))
        return
    out = _out()
    view = chosen[0]
    out.print(
        f"[bold]thread[/] {thread}  [bold]checkpoint[/] {view.id}  (step {view.step}, "
        f"{view.source}, run {view.run_id})"
    )
    out.print(f"[bold]next[/]   {', '.join(described['next']) or '- (done)'}")
    for interrupt in described["interrupts"]:
        out.print(f"[yellow]interrupt[/] {brief(getattr(interrupt, 'value', interrupt))}")
    for key, value in view.values.items():
        if isinstance(value, list) and value:
            out.print(f"[bold]{key}[/]:")
            for item in value:
                out.print(f"  {brief(item)}", markup=False)
        else:
            out.print(f"[bold]{key}[/]: ", end="")
            out.print(brief(value), markup=False)


@cli.command(short_help="List a thread's checkpoints, newest first.")
@click.argument("thread")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per checkpoint.")
@db_option
def history(thread: str, as_json: bool) -> None:
    """List a thread's checkpoints, newest first, across all its runs and forks.

    \b
    Example:
      rewind history support-42
    """
    views = _read_views(thread)
    if as_json:
        for view in views:
            click.echo(json_line(_described(view, thread)))
        return
    table = Table(box=None, pad_edge=False)
    for column in ("step", "checkpoint", "source", "next", "run", "written"):
        table.add_column(column, no_wrap=column in ("step", "checkpoint", "run", "written"))
    for view in views:
        table.add_row(
            str(view.step),
            view.id,
            view.source,
            ", ".join(t["name"] for t in view.next) or "-",
            view.run_id,
            _when(view.ts),
        )
    _out().print(table)


@cli.command(short_help="Follow runs live, from any process.")
@click.argument("run_id", metavar="[RUN]", required=False)
@click.option("--thread", metavar="ID", help="Follow every run of a thread.")
@click.option("--all", "everything", is_flag=True, help="Follow every run (the default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@db_option
def tail(run_id: str | None, thread: str | None, everything: bool, as_json: bool) -> int:
    """Follow runs live as their events are appended, by this or any other process.

    With RUN, prints the run from its start and stops when it ends. With --thread or --all,
    prints the events appended from now on, until Ctrl-C.

    \b
    Examples:
      rewind tail --all
      rewind tail --thread support-42 --json
      rewind tail RUN
    """
    if sum(x is not None and x is not False for x in (run_id, thread, everything)) > 1:
        raise CliError("follow one thing: a RUN, --thread ID or --all")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(run_id, thread, as_json))
    return 0


async def _tail(run_id: str | None, thread: str | None, as_json: bool) -> None:
    err = Console(stderr=True, highlight=False)
    log = await open_db(live=True)
    try:
        if run_id is not None:
            await log.get_run(run_id)
            after = 0
            err.print(f"following run {run_id} until it ends")
        else:
            after = await log.head()
            what = f"thread {thread}" if thread else "all runs"
            err.print(f"following {what} (Ctrl-C to stop)")
        async for event in log.subscribe(run_id=run_id, thread_id=thread, after_position=after):
            line = json_line(_event_dict(event)) if as_json else _event_line(event)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    finally:
        await log.aclose()


def _event_dict(event: StoredEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "run_id": event.run_id,
        "thread_id": event.thread_id,
        "seq": event.seq,
        "type": event.type,
        "ts": event.ts,
        "step": event.step,
        "ns": event.ns,
        "node": event.node,
        "task_id": event.task_id,
        "payload": event.payload,
    }


def _event_line(event: StoredEvent) -> str:
    ts = event.ts.astimezone().strftime("%H:%M:%S.%f")[:-3]
    node = f"{event.ns.split(':')[0]}/{event.node}" if event.ns else (event.node or "")
    text = f"{ts} {event.run_id[:8]} {event.seq:>4} {event.type:<13} {node:<10} {_detail(event)}"
    return text if len(text) <= 200 else text[:199] + "…"


def _detail(event: StoredEvent) -> str:
    if isinstance(event.payload, Redacted):  # redacted whole
        return str(event.payload)
    p = event.payload if isinstance(event.payload, dict) else {}
    kind = event.type
    if kind == EventType.RUN_STARTED:
        origin = p.get("origin") or {}
        text = f"run {event.run_id} thread {event.thread_id} graph {p.get('graph')}"
        return text + (f" from checkpoint {origin['checkpoint_id']}" if origin else "")
    if kind == EventType.RUN_ENDED:
        error = p.get("error") or {}
        return str(p.get("status")) + (
            f" {error.get('type')}: {error.get('message')}" if error else ""
        )
    if kind == EventType.TASK_STARTED:
        return ""
    if kind == EventType.TASK_ENDED:  # a node's update, or what a functional task returned
        return brief(p["return"] if "return" in p else p.get("update"))
    if kind == EventType.TASK_FAILED:
        return f"{p.get('type')}: {p.get('message')}"
    if kind == EventType.CHAT_TOKEN:
        chunk = p.get("chunk")
        calls = getattr(chunk, "tool_call_chunks", None) or []
        extra = " ".join(f"{c.get('name') or ''} {c.get('args') or ''}".strip() for c in calls)
        return json.dumps(p.get("token", ""), ensure_ascii=False) + (f" {extra}" if extra else "")
    if kind == EventType.CHAT_STARTED:
        return _model_name(p)
    if kind == EventType.TOOL_STARTED:
        return f"{p.get('name')}({json_line(p.get('input'))})"
    if kind == EventType.TOOL_ENDED:
        return brief(p.get("output"))
    if kind == EventType.CHECKPOINT:
        nxt = ", ".join(t["name"] for t in p.get("next") or ()) or "-"
        return f"{p.get('id')} step {p.get('step', event.step)} next {nxt}"
    if kind == EventType.INTERRUPT:
        return brief([getattr(i, "value", i) for i in p.get("interrupts") or ()])
    if kind == EventType.CHAT_ENDED:
        return f"time to first token {p.get('time_to_first_token')}"
    if kind == EventType.ROUTE:
        return str(p.get("name") or "")
    return brief(event.payload)
