"""``rewind ui``: the page that audits and replays runs, opened in a browser."""

from __future__ import annotations

import webbrowser

import click

from rewind.cli.app import cli
from rewind.cli.common import CliError, db_option, settings
from rewind.cli.serving import graph_options, hide_content_option, load_hook, redact_option

__all__ = ["DEMO_GRAPH", "load_hook", "ui"]

DEMO_GRAPH = ("demo-agent", "rewind.cli.demo:graph")
"""The graph served when none is named: the demo agent, so its runs can be forked."""


@cli.command(short_help="Open the web page that audits, replays and forks runs.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port; 0 picks a free one.")
@click.option("--no-browser", is_flag=True, help="Print the address; open no browser.")
@graph_options("run from the page (forks, resumes)", "run from the page")
@click.option(
    "--api-key",
    envvar="REWIND_API_KEY",
    help="Sign the page in with this key (also $REWIND_API_KEY); the API needs it too.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name the page answers to besides localhost and IP addresses (repeatable).",
)
@redact_option
@hide_content_option
@click.option(
    "--trace-url",
    envvar="REWIND_TRACE_URL",
    metavar="URL",
    help="Link to a run's trace in a tracing backend, {trace_id} standing for its id "
    "(also $REWIND_TRACE_URL).",
)
@db_option
def ui(
    port: int,
    no_browser: bool,
    config: str | None,
    graphs: tuple[str, ...],
    more_graphs: tuple[str, ...],
    api_key: str | None,
    allowed_hosts: tuple[str, ...],
    redact_spec: str | None,
    hide_content: bool,
    trace_url: str | None,
) -> int:
    """Open the run page on 127.0.0.1: the runs of the database, each with its timeline,
    state at every checkpoint, token playback, replayed stream modes and hash chain; fork
    from a checkpoint or answer an interrupt (with the run's graph loaded: --graphs; the
    demo agent's is loaded when none is named). Ctrl-C stops it.

    \b
    Examples:
      rewind ui
      rewind ui --port 0 --no-browser
      rewind ui --hide-content --redact mypkg.privacy:mask
      rewind ui --db postgresql://app@db/agents -g agent=agent.py:graph
    """
    from rewind.log import LogOptions
    from rewind.server import GraphLoadError
    from rewind.server import serve as run_server
    from rewind.server.loader import parse_graph_option
    from rewind.server.serve import resolve_graphs
    from rewind.ui import ui_pages

    def ready(address: str) -> None:
        page = f"{address}/ui"
        click.echo(f"rewind ui on {page}  (Ctrl-C to stop)")
        if not no_browser:
            webbrowser.open(page)

    try:
        chosen = dict(parse_graph_option(g) for g in (*graphs, *more_graphs))
        if not chosen and config is None:
            chosen = dict([DEMO_GRAPH])
        loaded = resolve_graphs(chosen, config)
        hook = load_hook(redact_spec) if redact_spec else None
        run_server(
            settings().db,
            graphs=dict(loaded),
            host="127.0.0.1",
            port=port,
            api_key=api_key,
            pages=ui_pages(
                allowed_hosts=allowed_hosts,
                trace_url=trace_url,
                graphs=loaded,
                redaction=redact_spec,
                hide_content=hide_content,
            ),
            log_options=LogOptions(redact=hook) if hook else None,
            ready=ready,
        )
    except (GraphLoadError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from exc
    return 0
