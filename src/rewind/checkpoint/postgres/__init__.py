"""``PostgresSaver``: a graph's runs in rewind's event log on a PostgreSQL server, constructed
as LangGraph's is (``PostgresSaver.from_conn_string(url)``, ``PostgresSaver(conn)``,
``.setup()``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

from rewind.checkpoint.saver import Saver
from rewind.checkpoint.serde.base import SerializerProtocol
from rewind.events import NewEvent
from rewind.log.postgres import shown

__all__ = ["PostgresSaver", "url_of_connection"]


def url_of_connection(conn: Any) -> str:
    """The URL of the database a psycopg connection (or pool) is connected to: rewind opens
    connections of its own there, with the same credentials and parameters."""
    from psycopg.conninfo import conninfo_to_dict

    if hasattr(conn, "conninfo"):  # a psycopg_pool pool
        params = conninfo_to_dict(conn.conninfo, **_libpq_options(getattr(conn, "kwargs", None)))
    elif hasattr(conn, "info"):  # a psycopg connection
        params = conninfo_to_dict(conn.info.dsn)
        if conn.info.password:
            params["password"] = conn.info.password
    elif isinstance(conn, str):
        return conn if "://" in conn else url_of_conninfo(conninfo_to_dict(conn))
    else:
        raise TypeError(
            f"a PostgreSQL saver takes a connection string, a psycopg connection or pool, "
            f"not {type(conn).__name__}"
        )
    return url_of_conninfo(params)


def _libpq_options(kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """A pool's connection ``kwargs`` that are libpq's parameters (not psycopg's own options,
    such as ``autocommit`` or ``row_factory``, which a URL cannot carry)."""
    from psycopg import pq

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    return {k: v for k, v in (kwargs or {}).items() if k in known}


def url_of_conninfo(params: dict[str, Any]) -> str:
    """A ``postgresql://`` URL with libpq's connection parameters ``params``."""
    params = dict(params)
    user = params.pop("user", None)
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", None)
    auth = ""
    if user:
        auth = (
            quote(str(user), safe="")
            + (f":{quote(str(password), safe='')}" if password else "")
            + "@"
        )
    netloc = auth + (str(host) if host and not str(host).startswith("/") else "")
    if port:
        netloc += f":{port}"
    if host and str(host).startswith("/"):  # a Unix socket's directory
        params["host"] = host
    query = urlencode({k: str(v) for k, v in params.items() if v is not None})
    return f"postgresql://{netloc}/{quote(str(dbname or ''), safe='')}" + (
        f"?{query}" if query else ""
    )


class PostgresSaver(Saver):
    """rewind's event log on a PostgreSQL server.

    ``PostgresSaver(conn)`` records into the database a psycopg connection (or pool, or a
    connection string) names (rewind opens its own connections there);
    ``PostgresSaver.from_conn_string(url)`` is the context manager form.
    """

    def __init__(
        self,
        conn: Any,
        *,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
        **_langgraph_options: Any,
    ) -> None:
        url = url_of_connection(conn)
        super().__init__(".", redact=redact, serde=serde)
        self.target = url
        self.conn = None if isinstance(conn, str) else conn

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> Iterator[PostgresSaver]:
        """A saver on the database at ``conn_string`` (a URL or libpq key=value string);
        ``pipeline`` (LangGraph's psycopg pipeline mode) changes nothing here."""
        saver = cls(conn_string, redact=redact, serde=serde)
        try:
            yield saver
        finally:
            saver.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({shown(str(self.target))!r})"
