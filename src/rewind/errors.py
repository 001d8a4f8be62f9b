"""Errors raised by rewind.

Every error rewind raises on its own account derives from :class:`RewindError`. Errors carry
structured fields (``run_id``, ``seq``, ``path``) and a message that says what was wrong and
what to do about it. Driver errors are translated at the store boundary::

    RewindError
    ├── EncodingError          (also a TypeError)   a value the codec cannot store
    ├── InvalidEventError      (also a ValueError)  an append that breaks the log's rules
    └── StoreError
        ├── ConcurrencyError                        a stale ``expected_seq``
        ├── UnknownRunError    (also a KeyError)    no such run in this store
        ├── RunEndedError                           an append after the run's end event
        ├── StoreClosedError                        the store was closed
        └── DatabaseError                           the database cannot be used as it is
            ├── NotARewindDatabaseError             not a rewind file (left untouched)
            ├── SchemaTooNewError                   written by a newer rewind (left untouched)
            └── SchemaOutdatedError                 older schema and upgrades are disabled
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "DatabaseError",
    "EncodingError",
    "InvalidEventError",
    "NotARewindDatabaseError",
    "RewindError",
    "RunEndedError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "StoreClosedError",
    "StoreError",
    "UnknownRunError",
]


class RewindError(Exception):
    """Root of every error rewind raises on its own account."""


class EncodingError(RewindError, TypeError):
    """A payload holds a value the codec cannot encode; nothing of the append was written.

    Attributes:
        path: Where in the payload the value sits, e.g. ``payload['messages'][2]``.
        type_name: The fully qualified type of the value.
    """

    def __init__(self, path: str, type_name: str, detail: str = "") -> None:
        self.path = path
        self.type_name = type_name
        hint = (
            "Store plain JSON values, dataclasses, pydantic models, LangChain messages, bytes, "
            "datetimes, UUIDs, tuples or sets, or register a codec for the type."
        )
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"cannot encode {path} of type {type_name}{extra}; nothing was written. {hint}"
        )


class InvalidEventError(RewindError, ValueError):
    """An append breaks a rule of the log (e.g. a run that does not begin with ``run.started``)."""

    def __init__(self, run_id: str, reason: str) -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"invalid append to run {run_id}: {reason}; nothing was written")


class StoreError(RewindError):
    """An operation on the event store failed."""


class ConcurrencyError(StoreError):
    """The caller's ``expected_seq`` is stale: another writer appended to the run first.

    Attributes:
        run_id: The run appended to.
        expected_seq: The seq the caller expected its first event to get.
        actual_seq: The seq the run's next event actually gets.
    """

    def __init__(self, run_id: str, expected_seq: int, actual_seq: int) -> None:
        self.run_id = run_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        super().__init__(
            f"run {run_id}: expected to append at seq {expected_seq} but the run is at seq "
            f"{actual_seq}; another writer appended first. Nothing of this batch was stored: "
            "re-read the run and retry from its current seq."
        )


class UnknownRunError(StoreError, KeyError):
    """No run with this id exists in the store."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(run_id)

    def __str__(self) -> str:
        return (
            f"no run {self.run_id!r} in this store; list the runs with store.list_runs() "
            "(or `rewind runs`) and check the database path"
        )


class RunEndedError(StoreError):
    """An append to a run whose ``run.ended`` event is already in the log."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} has ended; its log is closed. Start a new run on the thread instead."
        )


class StoreClosedError(StoreError):
    """The store was closed; open a new one."""


class DatabaseError(StoreError):
    """The database cannot be used as it is. The file was not modified.

    Attributes:
        url: The database the store was asked to open.
    """

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)


class NotARewindDatabaseError(DatabaseError):
    """The file is not a rewind database (random bytes, or another application's SQLite file)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            url,
            f"{url} is not a rewind database ({reason}); it was left untouched. "
            "Point rewind at a new path or at an existing rewind database.",
        )


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer rewind whose schema this version does not know."""

    def __init__(self, url: str, found: str, supported: str) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            url,
            f"{url} has schema revision {found!r}, newer than this rewind knows (newest: "
            f"{supported!r}); it was left untouched. Upgrade rewind to open it.",
        )


class SchemaOutdatedError(DatabaseError):
    """The database has an older schema and the store was opened with upgrades disabled."""

    def __init__(self, url: str, found: str | None, head: str) -> None:
        self.found = found
        self.head = head
        super().__init__(
            url,
            f"{url} has schema revision {found!r}, older than this rewind's {head!r}. "
            "Run `rewind db upgrade` (or open the store with upgrade=True) to migrate it.",
        )
