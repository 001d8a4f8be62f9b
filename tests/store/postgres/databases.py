"""Databases of the tests' own on the tests' server (tests/pg.py), dropped after use."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tests import pg


@contextmanager
def database(key: str | None = None, *, collation: str | None = None) -> Iterator[str]:
    """A new database's URL (named after ``key``, or at random), dropped after; with
    ``collation``, its text sorts by that collation (``"C"``: by its bytes)."""
    name = pg.name_for(key or uuid.uuid4().hex)
    pg.drop_database(name)
    if collation is None:
        url = pg.create_database(name)
    else:
        with psycopg.connect(pg.server_url(), autocommit=True) as conn:
            conn.execute(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                f"LC_COLLATE '{collation}' LC_CTYPE '{collation}'"
            )
        url = pg.url_of(name)
    try:
        yield url
    finally:
        pg.drop_database(name)
