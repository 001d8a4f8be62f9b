"""The API server's assistants: versioned configurations of the loaded graphs, in the database.

An assistant is a graph and what to run it with (``config``, ``context``), with a name, a
description and metadata. Table ``assistants`` holds each assistant as it is now, table
``assistant_versions`` every version it had: an update adds a version and makes it the one in
use, ``set_latest`` goes back (or forth) to another. Every loaded graph has a default assistant
(its id derived from the graph's, ``metadata.created_by == "system"``), made at server start
when missing; any number of server processes starting at once make it once.

The routes answer as LangGraph's server does (status codes, fields and their order, sorting,
pagination), from :class:`AssistantStore`.
"""

from __future__ import annotations

import dataclasses
import time
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from rewind.log import EventLog
from rewind.log.schema import assistant_versions, assistants, crons
from rewind.runtime.compiled import CompiledStateGraph
from rewind.server.runs import assistant_id_of
from rewind.server.service import ApiError

__all__ = ["Assistant", "AssistantStore", "assistants_of", "contains", "run_settings"]

T = TypeVar("T")

SORT_KEYS = ("assistant_id", "graph_id", "name", "created_at", "updated_at")
"""What a search sorts by (``created_at`` unless told)."""

_BOTH = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)


def _now_us() -> int:
    return time.time_ns() // 1000


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()


@dataclass(frozen=True, kw_only=True, slots=True)
class Assistant:
    """An assistant as it stands, or one of its versions."""

    assistant_id: str
    """Its id (a UUID)."""
    graph_id: str
    """The graph it runs."""
    config: dict[str, Any]
    """The config its runs start from."""
    context: dict[str, Any]
    """The static context its runs start from."""
    metadata: dict[str, Any]
    """Its metadata."""
    name: str
    """Its name."""
    description: str | None
    """Its description."""
    version: int
    """The version in use (of a version: its number)."""
    created_at: int
    """When it (the version) was made, in microseconds since the epoch."""
    updated_at: int
    """When it last changed (of a version: when it was made)."""

    def json(self) -> dict[str, Any]:
        """As the API's ``Assistant``, in LangGraph's field order."""
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.graph_id,
            "config": self.config,
            "context": self.context,
            "metadata": self.metadata,
            "name": self.name,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "version": self.version,
            "description": self.description,
        }

    def version_json(self) -> dict[str, Any]:
        """As the API's ``AssistantVersion``, in LangGraph's field order."""
        return {
            "assistant_id": self.assistant_id,
            "version": self.version,
            "graph_id": self.graph_id,
            "config": self.config,
            "context": self.context,
            "metadata": self.metadata,
            "created_at": _iso(self.created_at),
            "name": self.name,
            "description": self.description,
        }

    def row(self) -> dict[str, Any]:
        """Its row of ``assistants``."""
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.graph_id,
            "name": self.name,
            "description": self.description,
            "config": _dumps("config", self.config),
            "context": _dumps("context", self.context),
            "metadata": _dumps("metadata", self.metadata),
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def version_row(self) -> dict[str, Any]:
        """Its row of ``assistant_versions`` (as its version ``version``)."""
        row = self.row()
        del row["updated_at"]
        return row

    @classmethod
    def of(cls, row: Row[Any]) -> Assistant:
        """The assistant (or version) a row holds."""
        m = row._mapping
        return cls(
            assistant_id=m["assistant_id"],
            graph_id=m["graph_id"],
            config=orjson.loads(m["config"]),
            context=orjson.loads(m["context"]),
            metadata=orjson.loads(m["metadata"]),
            name=m["name"],
            description=m["description"],
            version=m["version"],
            created_at=m["created_at"],
            updated_at=m.get("updated_at", m["created_at"]),
        )


def _dumps(field: str, value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:
        raise ApiError(422, f"{field} cannot be stored: {exc}") from exc


def _text(field: str, value: str | None) -> str | None:
    """A name or description as its column keeps it (PostgreSQL's text holds no NUL)."""
    if value is not None and "\x00" in value:
        raise ApiError(422, f"{field} cannot hold NUL characters")
    return value


def contains(superset: Any, subset: Mapping[str, Any]) -> bool:
    """Whether ``superset`` holds every key of ``subset`` with its value, objects compared
    recursively (PostgreSQL's ``@>`` on objects, as LangGraph filters metadata)."""
    if not isinstance(superset, Mapping):
        return False
    for key, value in subset.items():
        if key not in superset:
            return False
        if isinstance(value, Mapping) and isinstance(superset[key], Mapping):
            if not contains(superset[key], value):
                return False
        elif superset[key] != value:
            return False
    return True


def valid_id(assistant_id: str) -> str:
    """``assistant_id`` in its canonical form, or a 422 if it is no UUID."""
    try:
        return str(uuid.UUID(assistant_id))
    except ValueError:
        raise ApiError(422, f"Invalid assistant ID {assistant_id!r}: must be a UUID") from None


def _settings(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """An assistant's config and context kept in step, as LangGraph keeps them: the config's
    ``configurable`` is the context (whichever of the two was given; not both)."""
    config = dict(config or {})
    if config.get("configurable") and context:
        raise ApiError(400, _BOTH)
    if config.get("configurable"):
        context = dict(config["configurable"])
    elif context:
        config["configurable"] = dict(context)
    return config, None if context is None else dict(context)


class AssistantStore:
    """The assistants of one database (the one ``log`` is in), for the graphs ``graphs``."""

    def __init__(self, log: EventLog, graphs: Mapping[str, CompiledStateGraph]) -> None:
        self.log = log
        self.graphs = graphs
        self.postgres = log.engine.dialect.name == "postgresql"

    async def _reading(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` in a read transaction, on the log's reader (a SQLite file's: its thread and
        kept connection, no connection opened per request)."""
        return await self.log._read(fn, drain=False)

    async def _writing(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` in a write transaction, as the log makes its own (a SQLite file's write lock
        taken first, in this process's turn, on its writer thread)."""
        return await self.log._write(fn)

    def _insert_new(self, table: Any) -> Any:
        """``INSERT`` that leaves a row already there as it is."""
        dialect: Any = postgresql if self.postgres else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def graph_exists(self, graph_id: str) -> None:
        """A 404 naming ``graph_id`` unless this server loaded it."""
        if graph_id not in self.graphs:
            raise ApiError(
                404, f"Graph '{graph_id}' not found. Expected one of: {sorted(self.graphs)}"
            )

    # --- default assistants -------------------------------------------------------------------

    async def ensure_defaults(self) -> None:
        """Make each loaded graph's default assistant unless it is there (also when other
        server processes make them at the same moment)."""
        now = _now_us()
        made = [  # a microsecond apart: the newest first, as LangGraph registers them
            Assistant(
                assistant_id=assistant_id_of(graph_id),
                graph_id=graph_id,
                config={},
                context={},
                metadata={"created_by": "system"},
                name=graph_id,
                description=None,
                version=1,
                created_at=now + i,
                updated_at=now + i,
            )
            for i, graph_id in enumerate(self.graphs)
        ]
        if not made:
            return
        ids = [a.assistant_id for a in made]
        query = select(assistants.c.assistant_id).where(assistants.c.assistant_id.in_(ids))
        there = await self._reading(lambda conn: set(conn.execute(query).scalars()))
        missing = [a for a in made if a.assistant_id not in there]
        if not missing:
            return

        def insert_missing(conn: Connection) -> None:
            conn.execute(self._insert_new(assistants), [a.row() for a in missing])
            conn.execute(self._insert_new(assistant_versions), [a.version_row() for a in missing])

        await self._writing(insert_missing)

    # --- reads --------------------------------------------------------------------------------

    async def find(self, assistant_id: str) -> Assistant | None:
        """The assistant, if there is one with this id (any graph's)."""
        return await self._reading(lambda conn: self._find(conn, assistant_id))

    def _find(self, conn: Connection, assistant_id: str, *, lock: bool = False) -> Assistant | None:
        query = select(assistants).where(assistants.c.assistant_id == assistant_id)
        if lock and self.postgres:
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None else Assistant.of(row)

    async def get(self, assistant_id: str) -> Assistant:
        """The assistant (its id a UUID), or a 404 when there is none or its graph is not one
        this server loaded (as search leaves it out)."""
        assistant_id = valid_id(assistant_id)
        found = await self.find(assistant_id)
        if found is None or found.graph_id not in self.graphs:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        return found

    async def for_run(self, assistant_id: str) -> Assistant:
        """The assistant a run names: its UUID or a loaded graph's id (its default one)."""
        if assistant_id in self.graphs:
            assistant_id = assistant_id_of(assistant_id)
        try:
            assistant_id = str(uuid.UUID(assistant_id))
        except ValueError:
            names = ", ".join(self.graphs)
            raise ApiError(
                422,
                f"Invalid assistant: '{assistant_id}'. Must be either:\n"
                f"- A valid assistant UUID, or\n- One of the registered graphs: {names}",
            ) from None
        found = await self.find(assistant_id)
        if found is None:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        if found.graph_id not in self.graphs:
            raise ApiError(
                404,
                f"Assistant {assistant_id} runs graph '{found.graph_id}', which this server "
                f"has not loaded (it has: {sorted(self.graphs)})",
            )
        return found

    async def _matching(
        self, graph_id: str | None, name: str | None, metadata: Mapping[str, Any] | None
    ) -> list[Assistant]:
        """The assistants of the loaded graphs that match, oldest first."""
        if graph_id is not None:
            self.graph_exists(graph_id)
        query = select(assistants).where(assistants.c.graph_id.in_(list(self.graphs)))
        if graph_id:
            query = query.where(assistants.c.graph_id == graph_id)
        query = query.order_by(assistants.c.created_at, assistants.c.assistant_id)
        found = await self._reading(lambda conn: [Assistant.of(r) for r in conn.execute(query)])
        if name:
            found = [a for a in found if name.lower() in a.name.lower()]
        if metadata:
            found = [a for a in found if contains(a.metadata, metadata)]
        return found

    async def search(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Assistant], int | None]:
        """A page of the matching assistants, and the offset of the next page if any
        (newest first unless ``sort_by``/``sort_order`` say otherwise)."""
        found = await self._matching(graph_id, name, metadata)
        descending = not (sort_order and sort_order.lower() == "asc")
        key = (sort_by or "").lower()
        if key in ("name", "graph_id"):  # case-insensitive, as LangGraph sorts them
            found.sort(key=lambda a: str(getattr(a, key)).lower(), reverse=descending)
        elif key in SORT_KEYS:
            found.sort(key=lambda a: getattr(a, key), reverse=descending)
        else:
            found.sort(key=lambda a: a.created_at, reverse=True)
        end = offset + limit
        return found[offset:end], end if len(found) > end else None

    async def count(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """How many assistants match."""
        return len(await self._matching(graph_id, name, metadata))

    async def versions(
        self,
        assistant_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Assistant]:
        """The assistant's versions whose metadata matches, newest first; a 404 when there is
        no such assistant or no version matches."""
        assistant_id = valid_id(assistant_id)
        query = (
            select(assistant_versions)
            .where(assistant_versions.c.assistant_id == assistant_id)
            .order_by(assistant_versions.c.version.desc())
        )

        def read(conn: Connection) -> list[Assistant]:
            if self._find(conn, assistant_id) is None:
                raise ApiError(404, f"Assistant {assistant_id} not found")
            return [Assistant.of(r) for r in conn.execute(query)]

        found = await self._reading(read)
        if metadata:
            found = [v for v in found if contains(v.metadata, metadata)]
        page = found[offset : offset + limit]
        if not page:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        return page

    # --- changes ------------------------------------------------------------------------------

    async def create(
        self,
        *,
        graph_id: str,
        assistant_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
        if_exists: str = "raise",
    ) -> Assistant:
        """A new assistant at version 1 (or the one with ``assistant_id``, if it exists and
        ``if_exists`` is ``do_nothing``; else a 409)."""
        assistant_id = valid_id(assistant_id) if assistant_id else str(uuid.uuid4())
        self.graph_exists(graph_id)
        config, context = _settings(config, context)
        name, description = _text("name", name), _text("description", description)
        now = _now_us()
        made = Assistant(
            assistant_id=assistant_id,
            graph_id=graph_id,
            config=config,
            context=context or {},
            metadata=dict(metadata or {}),
            name=name or "Untitled",
            description=description,
            version=1,
            created_at=now,
            updated_at=now,
        )

        def add(conn: Connection) -> Assistant | None:
            """``made`` if it was added, else the assistant already there (or ``None``)."""
            added = self._insert_new(assistants).values(**made.row())
            done = conn.execute(added.returning(assistants.c.assistant_id))
            if done.first() is not None:  # (rowcount is not told on every driver)
                conn.execute(insert(assistant_versions).values(**made.version_row()))
                return made
            return self._find(conn, assistant_id)

        existing = await self._writing(add)
        if existing is made:
            return made
        if existing is None or if_exists != "do_nothing":
            raise ApiError(409, f"Assistant {assistant_id} already exists")
        return existing

    async def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Assistant:
        """A new version, in use from now on: what is given replaces the current version's
        (``metadata`` is merged into it), the rest is kept."""
        assistant_id = valid_id(assistant_id)
        if graph_id is not None:
            self.graph_exists(graph_id)
        config, context = _settings(config, context)
        name, description = _text("name", name), _text("description", description)

        def change(conn: Connection) -> Assistant:
            current = self._find(conn, assistant_id, lock=True)
            if current is None:
                raise ApiError(404, f"Assistant {assistant_id} not found")
            latest = conn.scalar(
                select(func.max(assistant_versions.c.version)).where(
                    assistant_versions.c.assistant_id == assistant_id
                )
            )
            now = _now_us()
            new = dataclasses.replace(
                current,
                graph_id=graph_id if graph_id is not None else current.graph_id,
                config=config or current.config,
                context=context if context is not None else current.context,
                metadata={**current.metadata, **(metadata or {})},
                name=name if name is not None else current.name,
                description=description if description is not None else current.description,
                version=(latest or 0) + 1,
                created_at=now,
                updated_at=now,
            )
            conn.execute(insert(assistant_versions).values(**new.version_row()))
            row = new.row()
            del row["created_at"]  # the assistant's own stays when it was made
            conn.execute(
                update(assistants).where(assistants.c.assistant_id == assistant_id).values(**row)
            )
            return dataclasses.replace(new, created_at=current.created_at)

        return await self._writing(change)

    async def set_latest(self, assistant_id: str, version: int) -> Assistant:
        """Put version ``version`` in use (a 404 if the assistant or the version is missing)."""
        assistant_id = valid_id(assistant_id)

        def choose(conn: Connection) -> Assistant:
            current = self._find(conn, assistant_id, lock=True)
            if current is None:
                raise ApiError(404, f"Assistant {assistant_id} not found")
            query = select(assistant_versions).where(
                assistant_versions.c.assistant_id == assistant_id,
                assistant_versions.c.version == version,
            )
            row = conn.execute(query).first()
            if row is None:
                raise ApiError(404, f"Version {version} not found for assistant {assistant_id}")
            chosen = dataclasses.replace(
                Assistant.of(row), created_at=current.created_at, updated_at=_now_us()
            )
            values = chosen.row()
            del values["created_at"]
            conn.execute(
                update(assistants).where(assistants.c.assistant_id == assistant_id).values(**values)
            )
            return chosen

        return await self._writing(choose)

    async def delete(self, assistant_id: str) -> None:
        """Remove the assistant, its versions and its crons (a 404 if there is none)."""
        assistant_id = valid_id(assistant_id)

        def remove(conn: Connection) -> None:
            removed = delete(assistants).where(assistants.c.assistant_id == assistant_id)
            done = conn.execute(removed.returning(assistants.c.assistant_id))
            if done.first() is None:
                raise ApiError(404, f"Assistant with ID {assistant_id} not found")
            conn.execute(
                delete(assistant_versions).where(assistant_versions.c.assistant_id == assistant_id)
            )
            conn.execute(delete(crons).where(crons.c.assistant_id == assistant_id))

        await self._writing(remove)


def assistants_of(app: Any) -> AssistantStore:
    """The app's assistants (made when it starts)."""
    store: AssistantStore = app.state.assistants
    return store


def run_settings(
    assistant: Assistant,
    graph: CompiledStateGraph,
    config: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config and context a run of ``assistant`` gets, as LangGraph makes them: the run's
    own over the assistant's (the config's top-level keys, and its ``configurable`` keys, one
    by one); a run gives ``configurable`` or ``context`` (not both) and each stands for the
    other; the context keeps only the keys the graph's context schema has, if it has one."""
    config = dict(config or {})
    configurable = dict(config.get("configurable") or {})
    given = dict(context or {})
    if configurable and given:
        raise ApiError(400, _BOTH)
    if given:
        configurable = dict(given)
    else:
        given = dict(configurable)
    merged_context = {**assistant.context, **given}
    merged = {**assistant.config, **config}
    merged_configurable = {**(assistant.config.get("configurable") or {}), **configurable}
    keys = _context_keys(graph)
    if keys is not None and merged_context:
        kept = {k: v for k, v in merged_context.items() if k in keys}
        if context:  # the caller's context stood for configurable: drop what the schema drops
            for key in merged_context.keys() - kept.keys():
                if merged_configurable.get(key) == merged_context[key]:
                    del merged_configurable[key]
        merged_context = kept
    merged["configurable"] = merged_configurable
    return merged, merged_context


def _context_keys(graph: CompiledStateGraph) -> set[str] | None:
    """The keys of the graph's context schema, if it has one whose keys can be told."""
    schema = graph.builder.context_schema
    if schema is None:
        return None
    fields = getattr(schema, "model_fields", None)
    try:
        keys = set(fields) if isinstance(fields, Mapping) else set(typing.get_type_hints(schema))
    except (TypeError, NameError):
        return None
    return keys or None  # (a schema with no keys filters nothing, as LangGraph's)
