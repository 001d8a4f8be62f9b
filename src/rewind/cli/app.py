"""The ``rewind`` command group, and how its failures become exit codes and one-line errors."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from rewind.cli.common import (
    DEFAULT_DB,
    EXIT_FAILED,
    EXIT_USAGE,
    CliError,
    Settings,
    settings,
    use_settings,
)

__all__ = ["cli", "main"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option(
    "--db",
    envvar="REWIND_DB",
    default=DEFAULT_DB,
    show_default=True,
    metavar="PATH|URL",
    help="The database: a file path or a SQLAlchemy URL (also $REWIND_DB).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="rewind", prog_name="rewind")
def cli(db: str, debug: bool) -> None:
    """rewind: run LLM agent graphs with a flight recorder, replay and fork any run.

    \b
    Start here:
      rewind demo                  record an offline tool-calling agent, then replay it
      rewind run agent.py:graph --input '{"messages": [{"role": "user", "content": "hi"}]}'
      rewind runs                  the recorded runs
      rewind replay RUN --json     a run's stream, rebuilt from the log
    """
    use_settings(Settings(db=db, debug=debug))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    import rewind.cli.commands  # noqa: F401  (registers the verbs)

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("REWIND_DEBUG", "") not in ("", "0")
    try:
        result = cli.main(args, prog_name="rewind", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("rewind: interrupted", err=True)
        return 130
    except CliError as exc:
        return _fail(str(exc), exc.code, debug)
    except Exception as exc:
        return _fail(_describe(exc), _code_of(exc), debug)
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    elif code != EXIT_USAGE:
        message += " (--debug shows the traceback)"
    click.echo(f"rewind: {message}", err=True)
    return code


def _code_of(exc: Exception) -> int:
    from rewind.errors import DatabaseError, RedactionError, UnknownRunError, UnknownThreadError

    if isinstance(exc, DatabaseError | RedactionError | UnknownRunError | UnknownThreadError):
        return EXIT_USAGE
    if _corruption(exc) is not None or _read_only(exc) is not None:
        return EXIT_USAGE
    return EXIT_FAILED


def _corruption(exc: BaseException) -> str | None:
    """SQLite's own words when ``exc`` (or what caused it) says the database file is damaged."""
    return _sqlite_says(exc, "malformed", "not a database")


def _read_only(exc: BaseException) -> str | None:
    """SQLite's own words when ``exc`` (or what caused it) is a write the file refused."""
    return _sqlite_says(exc, "readonly database", "read-only file system")


def _sqlite_says(exc: BaseException, *words: str) -> str | None:
    """The message of the SQLite error in ``exc``'s chain that holds one of ``words``."""
    import sqlite3

    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        orig = getattr(found, "orig", None)  # SQLAlchemy's wrapper of the driver's error
        for candidate in (found, orig):
            if isinstance(candidate, sqlite3.DatabaseError):
                text = str(candidate)
                if any(word in text for word in words):
                    return text
        found = found.__cause__ or found.__context__
    return None


def _describe(exc: Exception) -> str:
    from rewind.errors import RewindError, UnknownRunError, UnknownThreadError

    db = settings().db
    damaged = _corruption(exc)
    if damaged is not None:
        return (
            f"{db} is damaged (SQLite: {damaged}); the command stopped there. "
            "`rewind db verify` shows what SQLite finds; restore the file from a backup"
        )
    refused = _read_only(exc)
    if refused is not None:
        return (
            f"{db} cannot be written here (SQLite: {refused}); the command stopped there. "
            "Make the file and its directory writable, or copy it to a writable place"
        )
    if isinstance(exc, UnknownRunError):
        return f"no run {exc.run_id!r} in {db}; `rewind runs` lists the runs (check --db)"
    if isinstance(exc, UnknownThreadError):
        return f"no thread {exc.thread_id!r} in {db}; `rewind runs` lists the threads (check --db)"
    if isinstance(exc, RewindError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
