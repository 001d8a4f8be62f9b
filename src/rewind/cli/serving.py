"""``rewind serve``: LangGraph's Platform API over the database, for the SDK and chat UIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from rewind.cli.app import cli
from rewind.cli.common import CliError, db_option, settings

__all__ = ["graph_options", "hide_content_option", "load_hook", "redact_option", "serve", "worker"]

F = TypeVar("F", bound=Callable[..., Any])


def graph_options(verb: str, done: str) -> Callable[[F], F]:
    """``--config``, ``--graphs`` and the graphs given as arguments: the graphs to ``verb``
    (that are ``done``)."""

    def apply(fn: F) -> F:
        fn = click.argument("more_graphs", nargs=-1, metavar="[ID=FILE.py:ATTR]...")(fn)
        fn = click.option(
            "--graphs",
            "-g",
            multiple=True,
            metavar="ID=FILE.py:ATTR",
            help=f"A graph to {verb} under an assistant id (repeatable).",
        )(fn)
        return click.option(
            "--config",
            metavar="langgraph.json",
            help=f"LangGraph's config file: its graphs are {done} (paths relative to it).",
        )(fn)

    return apply


hide_content_option = click.option(
    "--hide-content",
    is_flag=True,
    envvar="REWIND_UI_HIDE_CONTENT",
    help="The run page shows message texts, tokens and tool arguments as [redacted], their "
    "structure kept (also $REWIND_UI_HIDE_CONTENT=1). The page does not read "
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: that says what goes on spans sent "
    "to a tracing backend.",
)
"""``--hide-content``: the run page's content setting (``rewind ui`` and ``rewind serve``)."""

redact_option = click.option(
    "--redact",
    "redact_spec",
    metavar="MODULE:FUNCTION",
    help="A redaction hook (a function of an event returning the payload to store), as the "
    "log's redact= option: the runs this process starts are recorded through it, and the run "
    "page applies it to every payload it shows (runs recorded before it too).",
)
"""``--redact``: the log's redaction hook (``rewind ui``, ``serve`` and ``worker``)."""


def load_hook(spec: str) -> Callable[..., Any]:
    """The function ``MODULE:FUNCTION`` (or ``FILE.py:FUNCTION``) names."""
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise CliError(f"--redact {spec!r} must look like MODULE:FUNCTION or FILE.py:FUNCTION")
    try:
        if where.endswith(".py"):
            found = importlib.util.spec_from_file_location(Path(where).stem, where)
            if found is None or found.loader is None:
                raise ImportError(f"no file {where}")
            module = importlib.util.module_from_spec(found)
            sys.modules[found.name] = module  # (its annotations are read through it)
            found.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except (ImportError, OSError) as exc:
        raise CliError(f"--redact: cannot load {where}: {exc}") from exc
    hook = getattr(module, name, None)
    if not callable(hook):
        raise CliError(f"--redact: {where} has no function {name!r}")
    return cast(Callable[..., Any], hook)


@cli.command(short_help="Serve LangGraph's Platform API (runs, threads, SSE streams).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=2024, show_default=True, type=int, help="Port; 0 picks a free one.")
@graph_options("serve", "served")
@click.option(
    "--api-key",
    envvar="REWIND_API_KEY",
    help="Required in x-api-key (or as a bearer token) on every route but /ok "
    "(also $REWIND_API_KEY).",
)
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="An origin browsers may call from."
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name the run page (/ui) answers to besides localhost and IP addresses "
    "(repeatable).",
)
@hide_content_option
@redact_option
@click.option(
    "--queue",
    is_flag=True,
    help="Only queue runs in the database, for `rewind worker` processes to execute "
    "(any number of servers and workers may share it).",
)
@db_option
def serve(
    host: str,
    port: int,
    config: str | None,
    graphs: tuple[str, ...],
    more_graphs: tuple[str, ...],
    api_key: str | None,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    hide_content: bool,
    redact_spec: str | None,
    queue: bool,
) -> int:
    """Serve the graphs over HTTP as LangGraph's server does, on the same database.

    Every stream is rebuilt from the log: a client that reconnects with Last-Event-ID
    resumes with no gap, also after the run has ended. SIGTERM or Ctrl-C stops the server
    gracefully (runs in flight are recorded cancelled, their streams end).

    With --queue the server executes nothing: runs wait in the database (shown as
    pending) until a `rewind worker` on the same database claims them.

    \b
    Examples:
      rewind serve --graphs agent=agent.py:graph
      rewind serve --config langgraph.json --port 0
      REWIND_API_KEY=secret rewind serve -g agent=agent.py:graph --host 0.0.0.0
      rewind serve --queue --db postgresql://app@db/agents -g agent=agent.py:graph
      rewind serve -g agent=agent.py:graph --redact mypkg.privacy:mask
    """
    from rewind.log import LogOptions
    from rewind.server import GraphLoadError
    from rewind.server import serve as run_server
    from rewind.server.generative_ui import load_ui
    from rewind.server.loader import parse_graph_option
    from rewind.server.serve import resolve_graphs
    from rewind.ui import ui_pages

    try:
        chosen = dict(parse_graph_option(g) for g in (*graphs, *more_graphs))
        loaded = resolve_graphs(chosen, config)  # (the page maps runs' graph names to ids)
        hook = load_hook(redact_spec) if redact_spec else None
        run_server(
            settings().db,
            graphs=loaded,
            host=host,
            port=port,
            api_key=api_key,
            cors_origins=list(cors_origins) or None,
            queue=queue,
            ui=load_ui(config) if config else None,  # the graphs' generative UI bundles
            pages=ui_pages(  # the run page under /ui
                allowed_hosts=allowed_hosts,
                graphs=loaded,
                hide_content=hide_content,
                redaction=redact_spec,
            ),
            log_options=LogOptions(redact=hook) if hook else None,
            freeze_heap=True,
        )
    except (GraphLoadError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
    return 0


@cli.command(short_help="Execute the runs that `rewind serve --queue` queues.")
@graph_options("run", "run")
@click.option("--jobs", default=10, show_default=True, type=int, help="Runs executed at once.")
@click.option(
    "--lease",
    default=30.0,
    show_default=True,
    type=float,
    help="Seconds a claimed run stays this worker's without a heartbeat; after that, another "
    "worker takes it over.",
)
@click.option(
    "--drain-timeout",
    default=30.0,
    show_default=True,
    type=float,
    help="On SIGTERM, seconds to let runs finish before handing them back to the queue.",
)
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=float,
    help="Seconds between looks at the queue when no notification wakes the worker.",
)
@redact_option
@db_option
def worker(
    config: str | None,
    graphs: tuple[str, ...],
    more_graphs: tuple[str, ...],
    jobs: int,
    lease: float,
    drain_timeout: float,
    poll: float,
    redact_spec: str | None,
) -> int:
    """Claim queued runs from the database and execute them, until SIGTERM or Ctrl-C.

    Start as many workers as you like, on as many machines, on one database (PostgreSQL;
    a SQLite file serves processes of one machine). A worker that dies has its runs taken
    over by another once their lease expires: they resume from their newest durable
    checkpoint. SIGTERM drains: no new claims; runs still going after --drain-timeout are
    handed back to the queue.

    \b
    Examples:
      rewind worker --db postgresql://app@db/agents -g agent=agent.py:graph
      rewind worker --config langgraph.json --jobs 4
    """
    import asyncio

    from rewind.log import LogOptions, open_log
    from rewind.server import GraphLoadError
    from rewind.server.heap import settle_heap
    from rewind.server.loader import parse_graph_option
    from rewind.server.serve import resolve_graphs
    from rewind.server.worker import Worker, run_worker

    try:
        chosen = resolve_graphs(
            dict(parse_graph_option(g) for g in (*graphs, *more_graphs)), config
        )
    except (GraphLoadError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if jobs < 1 or lease <= 0 or poll <= 0 or drain_timeout < 0:
        raise CliError("--jobs must be at least 1, and --lease, --poll, --drain-timeout positive")
    hook = load_hook(redact_spec) if redact_spec else None

    async def main() -> int:
        log = await open_log(settings().db, options=LogOptions(redact=hook) if hook else None)

        def started(worker: Worker) -> None:
            settle_heap()  # see rewind.server.heap: full collections would stall its runs
            click.echo(f"rewind worker {worker.id} working on {log.url}", err=True)

        try:
            done = await run_worker(
                log,
                chosen,
                lease=lease,
                jobs=jobs,
                poll=poll,
                drain_timeout=drain_timeout,
                ready=started,
            )
        finally:
            await log.aclose()
        click.echo(f"rewind worker {done.id} stopped after {done.finished} runs", err=True)
        return 0

    return asyncio.run(main())
