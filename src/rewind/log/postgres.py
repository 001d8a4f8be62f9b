"""The event log on a PostgreSQL server: the schema, migrations and semantics of the SQLite
log, shared by many processes on many machines.

Positions stay in commit order for every reader: a commit takes the ``log_head`` row's lock
(``SELECT ... FOR UPDATE``) before it reads the head position, and holds it until it commits,
so commits that assign positions follow one another; a reader that sees head ``h`` sees every
event up to ``h`` (they were committed with it, in the same transaction). Migrations take an
advisory lock, so processes that start together migrate once.

Open one with ``open_log("postgresql://user@host/db")`` (libpq's URL: credentials, host, port,
``sslmode`` and the other parameters work as in libpq).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from rewind import migrations
from rewind.errors import DatabaseError, SchemaOutdatedError, SchemaTooNewError
from rewind.log.base import OPENED_READ_ONLY, EventLog, LogOptions
from rewind.log.schema import log_head

__all__ = [
    "PostgresLog",
    "is_postgres_url",
    "open_postgres",
    "read_postgres_revision",
    "upgrade_postgres",
]

_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg")

_MIGRATION_LOCK = 0x72657769  # "rewi": the advisory lock key rewind's migrations take

_NOTIFY = text("SELECT pg_notify(:channel, :head)")

_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout")
"""Query parameters of a rewind URL that size its connection pool (not passed to libpq)."""


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database."""
    return "://" in target and target.split("://", 1)[0] in _SCHEMES


_CHANNEL = "rewind_log"
"""The notification channel each commit announces its new head on."""


class PostgresLog(EventLog):
    """An event log in a PostgreSQL database (see the module's documentation).

    Each commit sends its new head position as a notification (``NOTIFY``, delivered when it
    commits); subscribers in every process wait for them on one listening connection per
    store (``LISTEN``): a commit reaches them within milliseconds, and nothing is read while
    the log is idle.
    """

    _head_query: ClassVar[Any] = select(log_head.c.position).with_for_update()

    def __init__(self, engine: AsyncEngine, *, url: str, options: LogOptions, conninfo: str):
        super().__init__(engine, url=url, options=options)
        self._conninfo = conninfo
        self._listener: Any = None
        self._notifies: Any = None

    @property
    def conninfo(self) -> str:
        """The libpq connection string of this log's database (for connections of one's own,
        such as a listening one)."""
        return self._conninfo

    async def _head_moved(self, conn: AsyncConnection, head: int) -> None:
        await conn.execute(_NOTIFY, {"channel": _CHANNEL, "head": str(head)})

    async def _next_head(self) -> int:
        if self._notifies is None:
            # Listening first, then reading the head: a commit made before the listener was
            # there is in that head; every one after it is announced.
            import psycopg

            self._listener = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            await self._listener.execute(f"LISTEN {_CHANNEL}")
            self._notifies = self._listener.notifies()
            return await self._read_head()
        try:
            notice = await anext(self._notifies)
        except BaseException:
            await self._stop_listening()  # a lost connection: listen anew next time
            raise
        return int(notice.payload)

    async def _stop_listening(self) -> None:
        listener, self._listener, self._notifies = self._listener, None, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def aclose(self) -> None:
        await super().aclose()
        await self._stop_listening()


def driver_url(url: str) -> tuple[str, dict[str, Any]]:
    """``url`` for SQLAlchemy's psycopg driver, and the pool options it names
    (``?pool_size=N&max_overflow=M&pool_timeout=S``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    pool = {
        k: (float(v) if k == "pool_timeout" else int(v)) for k, v in query if k in _POOL_OPTIONS
    }
    rest = urlencode([(k, v) for k, v in query if k not in _POOL_OPTIONS])
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, rest, "")), pool


def shown(url: str) -> str:
    """``url`` without its password, for messages and ``store.url``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def open_postgres(
    url: str, *, options: LogOptions | None = None, upgrade: bool = True, read_only: bool = False
) -> PostgresLog:
    """Open the event log in the PostgreSQL database at ``url``, creating its schema (or
    migrating an older one, unless ``upgrade`` is ``False``). ``read_only``: only read (no
    schema made or migrated; appends raise :class:`~rewind.errors.ReadOnlyDatabaseError`).

    Raises:
        DatabaseError: the server cannot be reached, or refuses the connection.
        SchemaTooNewError: a newer rewind wrote the database (left untouched).
        SchemaOutdatedError: its schema is older and ``upgrade`` is ``False``.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover - the extra is missing
        raise DatabaseError(
            shown(url), "PostgreSQL needs the psycopg driver: pip install 'rewind[postgres]'"
        ) from None
    target, pool = driver_url(url)
    engine = create_async_engine(target, pool_pre_ping=True, **pool)
    label = shown(url)
    try:
        async with engine.connect() as conn, conn.begin():
            await conn.run_sync(_migrate, label, upgrade and not read_only)
    except DBAPIError as exc:
        await engine.dispose()
        raise DatabaseError(label, f"cannot open the event log at {label}: {exc.orig}") from exc
    except BaseException:
        await engine.dispose()
        raise
    conninfo = target.replace("postgresql+psycopg://", "postgresql://", 1)
    log = PostgresLog(engine, url=label, options=options or LogOptions(), conninfo=conninfo)
    if read_only:
        log.read_only = OPENED_READ_ONLY
    return log


def upgrade_postgres(url: str, *, what: str = "the event log") -> None:
    """Bring the database at ``url`` to rewind's current schema, from synchronous code, as
    :func:`open_postgres` does (the same migrations, under the same advisory lock).

    Raises:
        DatabaseError: the server cannot be reached, or refuses the connection.
        SchemaTooNewError: a newer rewind wrote the database (left untouched).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    target, _pool = driver_url(url)
    label = shown(url)
    engine = create_engine(target, poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            _migrate(conn, label, True)
    except DBAPIError as exc:
        raise DatabaseError(label, f"cannot set up {what} at {label}: {exc.orig}") from exc
    finally:
        engine.dispose()


def read_postgres_revision(url: str) -> str | None:
    """The schema revision of the database at ``url`` (``None``: no rewind schema), read
    without writing."""
    import psycopg

    target, _pool = driver_url(url)
    conninfo = target.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as conn:
            found = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
            if found is None or found[0] is None:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return None if row is None else str(row[0])
    except psycopg.Error as exc:
        raise DatabaseError(shown(url), f"cannot read {shown(url)}: {exc}") from exc


def _migrate(conn: Connection, label: str, upgrade: bool) -> None:
    # One process at a time (the lock ends with the transaction): those that start together
    # find the schema made by the first.
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    current = migrations.current_revision(conn)
    head = migrations.head_revision()
    if current == head:
        return
    if current is not None and not migrations.is_known_revision(current):
        raise SchemaTooNewError(label, current, head)
    if current is not None and not upgrade:
        raise SchemaOutdatedError(label, current, head)
    migrations.upgrade(conn)
