"""Crons: runs made on a schedule, kept in the database and fired by every ``rewind serve``.

A cron is a run request (``payload``) and a schedule: a cron expression, in the cron's IANA
``timezone`` or UTC. Five fields (minute hour day month weekday) as LangGraph takes them, or six
with seconds last (``*/10 * * * * *``: every ten seconds), which LangGraph's parser accepts too.
A firing starts the run as ``POST /runs`` (thread-less crons: a thread of its own per firing,
deleted after the run unless ``on_run_completed="keep"``) or ``POST /threads/{id}/runs``
(thread crons) does.

**One firing per tick, across processes.** Every server process runs a :class:`CronScheduler`.
A scheduler fires a due cron only once it has moved the cron's ``next_run_at`` from the tick it
read to the next one with a compare-and-set update (``... WHERE cron_id = ? AND next_run_at =
?``): of several processes that read the same tick, one update matches and fires; the others'
match nothing. The claim comes before the run is created, so a process that dies in between
loses that tick (at most once, never twice).

**Missed ticks** (every server down, or the cron disabled, past its ticks) fire once, when a
scheduler next looks, and the cron then waits for its next tick after now: the ticks in between
are skipped, not caught up. This is LangGraph's rule (its scheduler fires a due cron and sets
its next run date from the present).

**``end_time``**: no firing after it (the cron stays listed, as in LangGraph).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import croniter  # type: ignore[import-untyped]
import orjson
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from rewind.log import EventLog
from rewind.log.schema import crons
from rewind.server.models import RunCreate
from rewind.server.run_routes import start_run
from rewind.server.service import ApiError, Service

__all__ = [
    "CRON_FIELDS",
    "Clock",
    "Cron",
    "CronScheduler",
    "CronStore",
    "check_schedule",
    "check_timezone",
    "next_tick",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CRON_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "end_time",
    "schedule",
    "timezone",
    "payload",
    "next_run_date",
    "metadata",
    "on_run_completed",
    "enabled",
    "created_at",
    "updated_at",
)
"""A cron's fields in the API, in LangGraph's order (what ``select`` may name)."""

POLL = 1.0
"""Seconds a scheduler waits at most between looks at the table (it sleeps until the next tick
when that comes sooner; crons created through this process wake it at once)."""

_BATCH = 100
"""Due crons read at a time."""


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _iso(us: int | None) -> str | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, UTC).isoformat()


def check_timezone(timezone: str | None) -> str | None:
    """``timezone`` if it names an IANA zone, else a 422."""
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        raise ApiError(
            422,
            f"Invalid timezone: '{timezone}'. Use IANA timezone format (e.g. 'America/New_York').",
        ) from None
    return timezone


def check_schedule(schedule: str, timezone: str | None = None) -> int:
    """The first tick of ``schedule`` from now (microseconds), or a 422 naming the problem."""
    if not croniter.croniter.is_valid(schedule):
        raise ApiError(
            422,
            f"Invalid cron schedule: '{schedule}'. Reason: Invalid cron schedule. Ensure the "
            "schedule uses the standard cron format (minute hour day_of_month month "
            "day_of_week). Example: '*/5 * * * *' for every 5 minutes.",
        )
    try:
        return next_tick(schedule, time.time_ns() // 1000, timezone)
    except (croniter.CroniterError, ValueError, OverflowError) as exc:
        raise ApiError(422, f"Invalid cron schedule: '{schedule}' never fires ({exc})") from None


def next_tick(schedule: str, after_us: int, timezone: str | None = None) -> int:
    """The first tick of ``schedule`` strictly after ``after_us`` (microseconds since the
    epoch, both), reading the schedule in ``timezone`` (UTC by default)."""
    base = datetime.fromtimestamp(after_us / 1e6, UTC)
    if timezone:
        base = base.astimezone(ZoneInfo(timezone))
    tick: datetime = croniter.croniter(schedule, base).get_next(datetime)
    return _us(tick.astimezone(UTC))


class Clock(Protocol):
    """What time it is: seconds since the epoch (:func:`time.time`)."""

    def __call__(self) -> float: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Cron:
    """One cron, as its row holds it."""

    cron_id: str
    """Its id (a UUID)."""
    assistant_id: str
    """The assistant each firing runs (its UUID)."""
    thread_id: str | None
    """The thread each firing runs on; none: a new thread per firing."""
    schedule: str
    """The cron expression."""
    timezone: str | None
    """The IANA zone the schedule is read in; none: UTC."""
    payload: dict[str, Any]
    """The run request each firing makes (as created, then merged with each update)."""
    metadata: dict[str, Any]
    """The cron's metadata (its runs' too)."""
    user_id: str | None
    """Who created it (none without authentication)."""
    on_run_completed: str | None
    """Thread-less crons: ``delete`` (the default) or ``keep`` each firing's thread."""
    enabled: bool
    """Whether it fires."""
    end_time: int | None
    """No firing after this (microseconds since the epoch)."""
    next_run_at: int
    """The tick due next (microseconds since the epoch)."""
    created_at: int
    """When it was created (microseconds since the epoch)."""
    updated_at: int
    """When it last changed (microseconds since the epoch)."""

    def json(self, select: Sequence[str] | None = None) -> dict[str, Any]:
        """The cron as the API's ``Cron`` (only the ``select``ed fields, if given)."""
        out: dict[str, Any] = {
            "cron_id": self.cron_id,
            "assistant_id": self.assistant_id,
            "thread_id": self.thread_id,
            "user_id": self.user_id,
            "end_time": _iso(self.end_time),
            "schedule": self.schedule,
            "timezone": self.timezone,
            "payload": self.payload,
            "next_run_date": _iso(self.next_run_at),
            "metadata": self.metadata,
            "on_run_completed": self.on_run_completed,
            "enabled": self.enabled,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        return {k: v for k, v in out.items() if k in select} if select else out

    def row(self) -> dict[str, Any]:
        """The row's column values."""
        return {
            "cron_id": self.cron_id,
            "assistant_id": self.assistant_id,
            "thread_id": self.thread_id,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "payload": orjson.dumps(self.payload).decode(),
            "metadata": orjson.dumps(self.metadata).decode(),
            "user_id": self.user_id,
            "on_run_completed": self.on_run_completed,
            "enabled": int(self.enabled),
            "end_time": self.end_time,
            "next_run_at": self.next_run_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def of(cls, row: Row[Any]) -> Cron:
        """The cron a row holds."""
        m = row._mapping
        return cls(
            cron_id=m["cron_id"],
            assistant_id=m["assistant_id"],
            thread_id=m["thread_id"],
            schedule=m["schedule"],
            timezone=m["timezone"],
            payload=orjson.loads(m["payload"]),
            metadata=orjson.loads(m["metadata"]),
            user_id=m["user_id"],
            on_run_completed=m["on_run_completed"],
            enabled=bool(m["enabled"]),
            end_time=m["end_time"],
            next_run_at=m["next_run_at"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )


def new_cron_id() -> str:
    """A fresh cron id."""
    return str(uuid.uuid4())


class CronStore:
    """The crons of one database (the one ``log`` is in), read and written through the log's
    own transactions (on a SQLite file: its reader and writer threads, no connection opened
    per call; every server polls :meth:`due`)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log

    async def _reading(self, fn: Callable[[Connection], T]) -> T:
        return await self.log._read(fn, drain=False)

    async def _writing(self, fn: Callable[[Connection], T]) -> T:
        return await self.log._write(fn)

    async def add(self, cron: Cron) -> None:
        """Keep a new cron."""
        await self._writing(lambda conn: conn.execute(insert(crons).values(**cron.row())))

    async def get(self, cron_id: str) -> Cron | None:
        """The cron, if there is one by that id."""
        query = select(crons).where(crons.c.cron_id == cron_id)
        row = await self._reading(lambda conn: conn.execute(query).first())
        return None if row is None else Cron.of(row)

    async def change(self, cron_id: str, **values: Any) -> Cron | None:
        """Write ``values`` (columns) into the cron; the cron as it now stands. Only the columns
        named are written: a scheduler's claim of ``next_run_at`` is not overwritten unless
        ``next_run_at`` is among them."""

        def write(conn: Connection) -> Row[Any] | None:
            done = conn.execute(update(crons).where(crons.c.cron_id == cron_id).values(**values))
            if done.rowcount != 1:
                return None
            return conn.execute(select(crons).where(crons.c.cron_id == cron_id)).first()

        row = await self._writing(write)
        return None if row is None else Cron.of(row)

    async def delete(self, cron_id: str) -> bool:
        """Remove the cron; whether there was one."""
        query = delete(crons).where(crons.c.cron_id == cron_id)
        return await self._writing(lambda conn: conn.execute(query).rowcount == 1)

    async def matching(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[Cron]:
        """The crons matching every filter given, oldest first."""
        query = select(crons).order_by(crons.c.created_at, crons.c.cron_id)
        if assistant_id is not None:
            query = query.where(crons.c.assistant_id == assistant_id)
        if thread_id is not None:
            query = query.where(crons.c.thread_id == thread_id)
        if enabled is not None:
            query = query.where(crons.c.enabled == int(enabled))
        found = await self._reading(lambda conn: [Cron.of(r) for r in conn.execute(query)])
        return [c for c in found if not metadata or _contains(c.metadata, metadata)]

    async def due(self, now: int) -> list[Cron]:
        """Enabled crons whose tick came (before their end time), the most overdue first."""
        query = (
            select(crons)
            .where(
                crons.c.enabled == 1,
                crons.c.next_run_at <= now,
                or_(crons.c.end_time.is_(None), crons.c.end_time >= now),
            )
            .order_by(crons.c.next_run_at)
            .limit(_BATCH)
        )
        return await self._reading(lambda conn: [Cron.of(r) for r in conn.execute(query)])

    async def claim(self, cron: Cron, next_run_at: int) -> bool:
        """Move ``cron``'s ``next_run_at`` from the tick read to ``next_run_at``, if no one
        moved it first; whether this caller holds the tick (and fires it)."""
        query = (
            update(crons)
            .where(crons.c.cron_id == cron.cron_id, crons.c.next_run_at == cron.next_run_at)
            .values(next_run_at=next_run_at)
        )
        return await self._writing(lambda conn: conn.execute(query).rowcount == 1)

    async def earliest(self, now: int) -> int | None:
        """The soonest tick of the crons that may still fire."""
        query = select(func.min(crons.c.next_run_at)).where(
            crons.c.enabled == 1, or_(crons.c.end_time.is_(None), crons.c.end_time >= now)
        )
        found = await self._reading(lambda conn: conn.execute(query).scalar())
        return None if found is None else int(found)


def _contains(haystack: Any, needle: Any) -> bool:
    """Whether ``needle`` is contained in ``haystack`` (JSON containment, as ``@>``)."""
    if isinstance(needle, Mapping):
        return isinstance(haystack, Mapping) and all(
            k in haystack and _contains(haystack[k], v) for k, v in needle.items()
        )
    if isinstance(needle, list):
        return isinstance(haystack, list) and all(
            any(_contains(h, n) for h in haystack) for n in needle
        )
    return bool(haystack == needle)


class CronScheduler:
    """Fires this database's crons on schedule (see the module's documentation).

    Args:
        app: The API app (started: its ``state.service`` is set); firings start runs through
            it as the API's run creation does.
        clock: What time it is (a seam for tests).
        poll: Seconds between looks at the table at most.
    """

    def __init__(self, app: Any, *, clock: Clock = time.time, poll: float = POLL) -> None:
        self.app = app
        self.service: Service = app.state.service
        self.store = CronStore(self.service.log)
        self.clock = clock
        self.poll = poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def now(self) -> int:
        """The clock's time, in microseconds since the epoch."""
        return int(self.clock() * 1_000_000)

    def start(self) -> None:
        """Begin firing, in a task of the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop firing (runs already started go on)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look again now (a cron was created or changed)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            wait = self.poll
            try:
                await self.fire_due()
                now = self.now()
                soonest = await self.store.earliest(now)
                if soonest is not None:
                    wait = min(self.poll, max(0.0, (soonest - now) / 1e6))
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away, or worse: look again later
                logger.exception("the cron scheduler could not read its crons; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def fire_due(self) -> list[str]:
        """Claim and fire every cron whose tick came; the ids of the runs started."""
        now = self.now()
        started: list[str] = []
        for cron in await self.store.due(now):
            try:
                following = next_tick(cron.schedule, now, cron.timezone)
            except Exception:
                logger.exception(
                    "cron %s: its schedule %r fails; disabled", cron.cron_id, cron.schedule
                )
                await self.store.change(cron.cron_id, enabled=0)
                continue
            if not await self.store.claim(cron, following):
                continue  # another process fired this tick
            run_id = await self._fire(cron)
            if run_id is not None:
                started.append(run_id)
        return started

    async def _fire(self, cron: Cron) -> str | None:
        """Start the run of one claimed tick; its id (``None`` when it could not start)."""
        payload = copy.deepcopy(cron.payload)
        if cron.thread_id is None and cron.on_run_completed == "keep":
            payload.setdefault("on_completion", "keep")
        payload["metadata"] = {**cron.metadata, **(payload.get("metadata") or {})}
        config = payload["config"] = dict(payload.get("config") or {})
        configurable = dict(config.get("configurable") or {})
        configurable.pop("cron_id", None)  # added after the run's config and context merge
        config["configurable"] = configurable
        # The tick this firing holds: which tick a run fired for, in its config.
        marks = {"cron_id": cron.cron_id, "cron_tick": _iso(cron.next_run_at)}
        try:
            body = RunCreate.model_validate(payload)
            run = await start_run(self.app, cron.thread_id, body, configurable=marks)
        except ApiError as exc:
            if exc.status == 404:  # its thread or assistant is gone: so is the cron
                logger.warning("cron %s removed: %s", cron.cron_id, exc.detail)
                await self.store.delete(cron.cron_id)
            else:
                logger.error("cron %s: no run started: %s", cron.cron_id, exc.detail)
            return None
        except Exception:
            logger.exception("cron %s: no run started", cron.cron_id)
            return None
        return run.run_id
