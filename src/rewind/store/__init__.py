"""Long-term memory for agents: stores that keep values across threads and runs (as
``langgraph.store``).

* :mod:`rewind.store.base`: the interface (:class:`~rewind.store.base.BaseStore`) and its types.
* :mod:`rewind.store.memory`: :class:`~rewind.store.memory.InMemoryStore`.
* :mod:`rewind.store.sqlite`: :class:`~rewind.store.sqlite.SqliteStore` and
  :class:`~rewind.store.sqlite.AsyncSqliteStore`, in a SQLite file that can be the one rewind's
  event log is in.
* :mod:`rewind.store.postgres`: :class:`~rewind.store.postgres.PostgresStore` and
  :class:`~rewind.store.postgres.AsyncPostgresStore`, in a PostgreSQL database that can be the
  one rewind's event log is in (the same tables and semantics as the SQLite stores).
* :mod:`rewind.store.writes`: what a store tells its write listeners (rewind only).
"""
