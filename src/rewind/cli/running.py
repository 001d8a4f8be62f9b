"""Verbs that stream a run: ``run``, ``fork``, ``replay`` and ``demo``."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from rewind.cli.app import cli
from rewind.cli.browse import thread_views
from rewind.cli.common import (
    DEFAULT_DB,
    EXIT_FAILED,
    CliError,
    command_name,
    db_option,
    open_db,
    parse_json,
    settings,
)
from rewind.cli.export import start_mirror
from rewind.cli.output import ChunkPrinter, json_line, stream_spec
from rewind.cli.target import bind, load_graph
from rewind.projections.stream import MODES
from rewind.types import Command

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.compiled import CompiledStateGraph

__all__ = ["Output", "demo", "fork", "replay", "run", "run_and_print"]

F = TypeVar("F", bound=Callable[..., Any])

err = Console(stderr=True, highlight=False, soft_wrap=True)


def stream_options(fn: F) -> F:
    """``--stream-mode`` (repeatable), ``--subgraphs`` and ``--json``."""
    fn = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print only the chunks, one JSON line each, shaped as the library yields them.",
    )(fn)
    fn = click.option(
        "--subgraphs", is_flag=True, help="Include subgraphs' chunks, with their namespace first."
    )(fn)
    return click.option(
        "--stream-mode",
        "-m",
        "stream_modes",
        multiple=True,
        type=click.Choice([*MODES, "messages-tuple"]),
        help="A stream mode; repeat for several ([mode, chunk] pairs). Default: updates.",
    )(fn)


@dataclass(frozen=True, kw_only=True)
class Output:
    """How a verb prints a stream: which modes, subgraphs or not, JSON lines or text."""

    modes: list[str]
    """The stream modes, in the order asked for, without repeats."""
    subgraphs: bool = False
    """Include subgraphs' chunks, namespace first."""
    as_json: bool = False
    """One JSON line per chunk on stdout, nothing else."""

    @classmethod
    def of(cls, given: tuple[str, ...], subgraphs: bool, as_json: bool) -> Output:
        """From the options (``messages-tuple`` is ``messages``; default ``updates``)."""
        modes: list[str] = []
        for mode in given or ("updates",):
            mode = "messages" if mode == "messages-tuple" else mode
            if mode not in modes:
                modes.append(mode)
        return cls(modes=modes, subgraphs=subgraphs, as_json=as_json)

    def printer(self) -> ChunkPrinter:
        """A printer for this output."""
        return ChunkPrinter(self.modes, subgraphs=self.subgraphs, as_json=self.as_json)


@cli.command(short_help="Run a graph, stream it live, record it.")
@click.argument("target", metavar="FILE.py:ATTR")
@click.option("--input", "input_json", metavar="JSON|@FILE", help="The graph's input.")
@click.option(
    "--resume", "resume_json", metavar="JSON|@FILE", help="Answer the thread's interrupt."
)
@click.option("--thread", help="The thread to run on (default: a new one).")
@stream_options
@db_option
def run(
    target: str,
    input_json: str | None,
    resume_json: str | None,
    thread: str | None,
    stream_modes: tuple[str, ...],
    subgraphs: bool,
    as_json: bool,
) -> int:
    """Run a graph, print its stream live, and record every event in the database.

    FILE.py:ATTR names a compiled graph, a StateGraph or a function of no arguments that
    returns one (package.module:ATTR works too). The run is recorded in --db whatever
    checkpointer the file compiled with. The run id and thread id are printed on stderr.

    \b
    Examples:
      rewind run agent.py:graph --input '{"messages": [{"role": "user", "content": "hi"}]}'
      rewind run agent.py:graph --input @input.json -m messages -m updates --json
      rewind run agent.py:graph --thread T --resume '"approve"'
    """
    if input_json is not None and resume_json is not None:
        raise CliError("give --input (a new run) or --resume (answer an interrupt), not both")
    if resume_json is not None and thread is None:
        raise CliError("--resume answers an interrupt on a thread: name it with --thread ID")
    graph = load_graph(target)
    value: Any = None
    if input_json is not None:
        value = parse_json(input_json, "--input")
    elif resume_json is not None:
        value = Command(resume=parse_json(resume_json, "--resume"))
    output = Output.of(stream_modes, subgraphs, as_json)
    return asyncio.run(_run(graph, target, value, thread, output))


async def _run(
    graph: CompiledStateGraph, target: str, value: Any, thread: str | None, output: Output
) -> int:
    log = await open_db(create=True)
    try:
        known = await log.list_runs(thread_id=thread, limit=1) if thread else []
        if isinstance(value, Command) and (not known or known[0].status != "interrupted"):
            said = (
                f"its last run {known[0].run_id} ended {known[0].status}"
                if known
                else "it has no runs in this database"
            )
            raise CliError(f"thread {thread} is not waiting at an interrupt ({said})")
        if value is None and not known:
            raise CliError("give the graph's input with --input JSON (e.g. --input '{}')")
        config = {"configurable": {"thread_id": thread or str(uuid.uuid4())}}
        hint = f"{command_name()} run {shlex.quote(target)}"
        return await run_and_print(bind(graph, log), log, value, config, output, hint=hint)
    finally:
        await log.aclose()


async def run_and_print(
    graph: CompiledStateGraph,
    log: EventLog,
    value: Any,
    config: dict[str, Any],
    output: Output,
    *,
    hint: str,
) -> int:
    """Run ``graph`` recording into ``log``, print its chunks, report how it ended; ``hint``
    is the command that resumes the thread."""
    run_id = str(uuid.uuid4())
    thread = config["configurable"]["thread_id"]
    err.print(f"[dim]run[/] {run_id} [dim]thread[/] {escape(thread)}")
    printer = output.printer()
    mirror = await start_mirror(log)
    failure: Exception | None = None
    try:
        async for chunk in graph.astream(
            value,
            {**config, "run_id": run_id},
            stream_mode=stream_spec(output.modes),
            subgraphs=output.subgraphs,
        ):
            printer.show(chunk)
    except Exception as exc:
        failure = exc
    except asyncio.CancelledError:  # Ctrl-C: let the run record how it ended, then stop
        await _settle(log, run_id)
        raise
    finally:
        printer.close()
        await log.flush()
        if mirror is not None:
            await mirror.aclose()
    return await _report(log, run_id, thread, failure, hint)


async def _settle(log: EventLog, run_id: str) -> None:
    """Wait (up to 5 s) for a cancelled run to append its end, before the log is closed."""
    from rewind.errors import UnknownRunError

    with contextlib.suppress(TimeoutError, UnknownRunError):
        async with asyncio.timeout(5):
            record = await log.get_run(run_id)
            after = record.last_position
            async for _ in log.subscribe(run_id=run_id, after_position=after):
                pass  # the subscription ends with the run's end event


async def _report(
    log: EventLog, run_id: str, thread: str, failure: Exception | None, hint: str
) -> int:
    from rewind.errors import UnknownRunError
    from rewind.events import EventType

    if failure is not None:
        why = f"{type(failure).__name__}: {failure}"
        try:
            await log.get_run(run_id)
        except UnknownRunError:
            raise CliError(f"the run did not start: {why}", code=EXIT_FAILED) from failure
        raise CliError(
            f"run {run_id} failed: {why} (`rewind show {run_id}` has the details)",
            code=EXIT_FAILED,
        ) from failure
    record = await log.get_run(run_id)
    if record.status == "interrupted":
        for event in await log.read(run_id, types=[EventType.INTERRUPT]):
            for interrupt in (event.payload or {}).get("interrupts") or ():
                value = getattr(interrupt, "value", interrupt)
                err.print(f"[yellow]interrupt[/] in {event.node}: ", end="")
                err.print(json_line(value), markup=False)
        err.print(
            f"run {run_id} is waiting for an answer; resume it with:\n"
            f"  {hint} --thread {shlex.quote(thread)} --resume JSON",
            markup=False,
        )
        return 0
    err.print(f"[dim]run {run_id} ended:[/] {record.status}")
    return 0


@cli.command(short_help="Run on from a checkpoint of a run, as a new run.")
@click.argument("run_id", metavar="RUN")
@click.option("--checkpoint", required=True, metavar="ID", help="The checkpoint to fork from.")
@click.option("--update", "update_json", metavar="JSON|@FILE", help="Change the state first.")
@click.option("--as-node", metavar="NODE", help="Apply --update as if NODE had returned it.")
@click.option("--graph", "graph_spec", required=True, metavar="FILE.py:ATTR", help="The graph.")
@stream_options
@db_option
def fork(
    run_id: str,
    checkpoint: str,
    update_json: str | None,
    as_node: str | None,
    graph_spec: str,
    stream_modes: tuple[str, ...],
    subgraphs: bool,
    as_json: bool,
) -> int:
    """Start a new run from a checkpoint of RUN, optionally changing the state first.

    The fork shares the recorded prefix by reference (nothing is copied) and is recorded as
    a run of the same thread whose origin is (RUN, checkpoint). `rewind history THREAD`
    lists the checkpoints.

    \b
    Examples:
      rewind fork RUN --checkpoint 1f0a... --graph agent.py:graph
      rewind fork RUN --checkpoint 1f0a... --update '{"topic": "cats"}' --graph agent.py:graph
    """
    if as_node is not None and update_json is None:
        raise CliError("--as-node says which node --update comes from: give --update JSON too")
    graph = load_graph(graph_spec)
    change = None
    if update_json is not None:
        change = Change(values=parse_json(update_json, "--update"), as_node=as_node)
    output = Output.of(stream_modes, subgraphs, as_json)
    return asyncio.run(_fork(graph, graph_spec, run_id, checkpoint, change, output))


@dataclass(frozen=True, kw_only=True)
class Change:
    """A state change a fork makes first (``update_state``)."""

    values: Any
    """The update, as a node would return it."""
    as_node: str | None
    """The node it is applied as."""


async def _fork(
    graph: CompiledStateGraph,
    spec: str,
    run_id: str,
    checkpoint: str,
    change: Change | None,
    output: Output,
) -> int:
    log = await open_db()
    try:
        thread = (await log.get_run(run_id)).thread_id
        if not await thread_views(log, thread, checkpoint=checkpoint):
            raise CliError(
                f"no checkpoint {checkpoint!r} on thread {thread} of run {run_id}; "
                f"`rewind history {thread}` lists them"
            )
        bound = bind(graph, log)
        config: dict[str, Any] = {
            "configurable": {"thread_id": thread, "checkpoint_id": checkpoint}
        }
        if change is not None:
            try:
                config = await bound.aupdate_state(config, change.values, as_node=change.as_node)
            except Exception as exc:
                raise CliError(f"--update was refused: {type(exc).__name__}: {exc}") from exc
            config = {
                "configurable": {
                    k: config["configurable"][k] for k in ("thread_id", "checkpoint_id")
                }
            }
        err.print(f"[dim]fork of[/] {run_id} [dim]at checkpoint[/] {checkpoint}")
        hint = f"{command_name()} run {shlex.quote(spec)}"
        return await run_and_print(bound, log, None, config, output, hint=hint)
    finally:
        await log.aclose()


@cli.command(short_help="Print a recorded run's stream again, from the log.")
@click.argument("run_id", metavar="RUN")
@click.option(
    "--from",
    "start",
    metavar="CHECKPOINT|POSITION",
    help="Replay the suffix from a checkpoint id, or after a log position.",
)
@stream_options
@db_option
def replay(
    run_id: str, start: str | None, stream_modes: tuple[str, ...], subgraphs: bool, as_json: bool
) -> int:
    """Print a recorded run's stream, rebuilt from the log: no node runs, no model is called.

    The output is what `rewind run` printed with the same modes; under --json, byte for
    byte. Any mode can be replayed, not only the ones the run was streamed with.

    \b
    Examples:
      rewind replay RUN
      rewind replay RUN -m values -m messages --json
      rewind replay RUN --from 1f0a...   (a checkpoint id, or a log position)
    """
    position: str | int | None = int(start) if start is not None and start.isdigit() else start
    asyncio.run(_replay(run_id, position, Output.of(stream_modes, subgraphs, as_json)))
    return 0


async def _replay(run_id: str, start: str | int | None, output: Output) -> None:
    from rewind.replay import areplay

    log = await open_db(read_only=True)
    printer = output.printer()
    try:
        await log.get_run(run_id)
        chunks = areplay(
            log,
            run_id,
            stream_mode=stream_spec(output.modes),
            subgraphs=output.subgraphs,
            start=start,
        )
        try:
            async for chunk in chunks:
                printer.show(chunk)
        except ValueError as exc:
            raise CliError(f"--from: {exc}; `rewind show {run_id}` lists its checkpoints") from exc
        finally:
            printer.close()
    finally:
        await log.aclose()


@cli.command(short_help="Record and replay an offline tool-calling agent.")
@db_option
def demo() -> int:
    """Record a tool-calling agent (an offline scripted model: no key, no network), show its
    tokens live, replay it from the log in another mode, and say what to try next.

    \b
    Examples:
      rewind demo
      rewind --db /tmp/demo.db demo
    """
    return asyncio.run(_demo())


async def _demo() -> int:
    from rewind.cli import demo as agent
    from rewind.replay import areplay

    out = Console(highlight=False, soft_wrap=True)
    me = command_name()
    log = await open_db(create=True)
    try:
        thread = f"demo-{uuid.uuid4().hex[:8]}"
        out.print("[bold]rewind demo[/]: a tool-calling agent; its model is scripted and offline")
        out.print(f"[bold]user:[/] {agent.QUESTION}\n")
        out.print("[dim]live, in `messages` mode (tokens as the model streams them):[/]")
        graph = bind(agent.build(token_delay=0.02), log)
        value = {"messages": [{"role": "user", "content": agent.QUESTION}]}
        config = {"configurable": {"thread_id": thread}}
        live = Output(modes=["messages"])
        code = await run_and_print(graph, log, value, config, live, hint=f"{me} run")
        (record,) = await log.list_runs(thread_id=thread)
        run_id = record.run_id
        out.print("\n[dim]replayed from the log in `updates` mode (no node runs, no model):[/]")
        printer = Output(modes=["updates"]).printer()
        async for chunk in areplay(log, run_id, stream_mode="updates"):
            printer.show(chunk)
        report = await log.verify_chain(run_id)
        chain = "intact" if report.ok else f"BROKEN: {report.reason}"
        out.print(f"\nhash chain of the run: {chain} ({report.checked} events)")
        checkpoints = await _checkpoints(log, run_id)
        fork_from = checkpoints[1]  # step 0: the question asked, before the agent's turn
        db = settings().db
        where = Path(db).resolve() if "://" not in db else db
        flag = "" if db == DEFAULT_DB else f" --db {shlex.quote(db)}"
        out.print(f"\nthe log is in {where}\n\n[bold]try next:[/]")
        for line in (
            f"{me}{flag} runs",
            f"{me}{flag} show {run_id}",
            f"{me}{flag} replay {run_id} -m values",
            f"{me}{flag} replay {run_id} -m messages -m updates --json",
            f"{me}{flag} history {thread}",
            f"{me}{flag} fork {run_id} --checkpoint {fork_from} --graph rewind.cli.demo:graph "
            """--update '{"messages": [{"role": "user", "content": "And in Tokyo?"}]}' """
            "-m messages",
            f"{me}{flag} tail --all     (then run `{me}{flag} demo` in another terminal)",
        ):
            out.print(f"  {line}", markup=False)
        out.print("\n[bold]in the browser[/] (timeline, state at each checkpoint, tokens, forks):")
        out.print(f"  {me}{flag} ui     (this run's page: /ui/run/{run_id})", markup=False)
        return code
    finally:
        await log.aclose()


async def _checkpoints(log: EventLog, run_id: str) -> list[str]:
    from rewind.events import EventType

    events = await log.read(run_id, types=[EventType.CHECKPOINT])
    return [e.payload["id"] for e in events if not e.ns]
