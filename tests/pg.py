"""A PostgreSQL server for the tests: the one on 127.0.0.1:5432 when it answers (CI and the
development machines run one), else one the tests start from the ``pgserver`` wheel (which
ships the server's binaries), so the test command passes on a fresh machine either way. Each
test gets databases of its own, dropped when it ends."""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

LOCAL = os.environ.get("REWIND_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@functools.cache
def server_url() -> str:
    """The maintenance-database URL of the server the tests use (started if need be)."""
    try:
        with psycopg.connect(LOCAL, connect_timeout=3):
            return LOCAL
    except psycopg.OperationalError:
        pass
    with warnings.catch_warnings():  # (it warns when XDG_RUNTIME_DIR is not set)
        warnings.simplefilter("ignore")
        import pgserver  # type: ignore[import-untyped]

    home = Path(tempfile.mkdtemp(prefix="rewind-pg-"))
    server = pgserver.get_server(home, cleanup_mode="stop")
    atexit.register(server.cleanup)
    return str(server.get_uri())


def url_of(database: str) -> str:
    """The URL of ``database`` on the test server."""
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def name_for(key: str) -> str:
    """A database name of the tests' own for ``key`` (a test's tmp_path)."""
    return "rewind_test_" + hashlib.sha1(key.encode()).hexdigest()[:16]


def create_database(name: str) -> str:
    """Create ``name`` (if missing) and return its URL."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url_of(name)


def drop_database(name: str) -> None:
    """Drop ``name``, closing what is still connected to it."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
