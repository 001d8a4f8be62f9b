"""``rewind serve``: LangGraph's Platform API over the database, for the SDK and chat UIs."""

from __future__ import annotations

import click

from rewind.cli.app import cli
from rewind.cli.common import CliError, db_option, settings

__all__ = ["serve"]


@cli.command(short_help="Serve LangGraph's Platform API (runs, threads, SSE streams).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=2024, show_default=True, type=int, help="Port; 0 picks a free one.")
@click.option(
    "--config",
    metavar="langgraph.json",
    help="LangGraph's config file: its graphs are served (paths relative to it).",
)
@click.option(
    "--graphs",
    "-g",
    multiple=True,
    metavar="ID=FILE.py:ATTR",
    help="A graph to serve under an assistant id (repeatable).",
)
@click.argument("more_graphs", nargs=-1, metavar="[ID=FILE.py:ATTR]...")
@click.option(
    "--api-key",
    envvar="REWIND_API_KEY",
    help="Required in x-api-key (or as a bearer token) on every route but /ok "
    "(also $REWIND_API_KEY).",
)
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="An origin browsers may call from."
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
) -> int:
    """Serve the graphs over HTTP as LangGraph's server does, on the same database.

    Every stream is rebuilt from the log: a client that reconnects with Last-Event-ID
    resumes with no gap, also after the run has ended. SIGTERM or Ctrl-C stops the server
    gracefully (runs in flight are recorded cancelled, their streams end).

    \b
    Examples:
      rewind serve --graphs agent=agent.py:graph
      rewind serve --config langgraph.json --port 0
      REWIND_API_KEY=secret rewind serve -g agent=agent.py:graph --host 0.0.0.0
    """
    from rewind.server import GraphLoadError
    from rewind.server import serve as run_server
    from rewind.server.loader import parse_graph_option

    try:
        chosen = dict(parse_graph_option(g) for g in (*graphs, *more_graphs))
        run_server(
            settings().db,
            graphs=chosen,
            config=config,
            host=host,
            port=port,
            api_key=api_key,
            cors_origins=list(cors_origins) or None,
        )
    except (GraphLoadError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
    return 0
