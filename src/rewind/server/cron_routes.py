"""The cron routes: create (thread-less or on a thread), get, update, delete, search, count.

What a cron is and how its firings are claimed: :mod:`rewind.server.crons`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from rewind.server.assistants import assistants_of
from rewind.server.crons import (
    Cron,
    CronScheduler,
    CronStore,
    check_schedule,
    check_timezone,
    new_cron_id,
    next_tick,
)
from rewind.server.models import CronCount, CronCreate, CronPatch, CronSearch, RunCreate
from rewind.server.runs import assistant_id_of
from rewind.server.service import ApiError, Service
from rewind.server.webhooks import WebhookRefusedError

__all__ = ["router"]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app is up (its service and assistants made), its scheduler fires crons."""
    scheduler = app.state.crons = CronScheduler(app)
    scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()


router = APIRouter(lifespan=_lifespan)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _scheduler(request: Request) -> CronScheduler:
    scheduler: CronScheduler = request.app.state.crons
    return scheduler


def _store(request: Request) -> CronStore:
    return _scheduler(request).store


def _now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)


def _us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without a zone is UTC
    return int(moment.timestamp() * 1_000_000)


def _cron_id(cron_id: str) -> str:
    try:
        return str(uuid.UUID(cron_id))
    except ValueError:
        raise ApiError(422, "Invalid cron ID: must be a UUID") from None


async def _check_webhook(request: Request, url: str | None) -> None:
    if url is None:
        return
    try:
        await _service(request).runs.webhooks.check(url)
    except WebhookRefusedError as exc:
        raise ApiError(422, exc.reason) from None


async def _assistant_id(request: Request, given: str) -> str:
    """The UUID of the assistant a cron names (its UUID or a graph's id), or a 404."""
    try:
        assistant = await assistants_of(request.app).for_run(given)
    except ApiError as exc:
        if exc.status in (404, 422):
            raise ApiError(404, f"Assistant '{given}' not found") from None
        raise
    return str(assistant.assistant_id)


# --- creating ---------------------------------------------------------------------------------


@router.post("/runs/crons")
async def create_cron(request: Request, body: CronCreate) -> JSONResponse:
    """A cron whose firings each run on a new thread (deleted after, by default)."""
    return await _create(request, None, body)


@router.post("/threads/{thread_id}/runs/crons")
async def create_thread_cron(request: Request, thread_id: str, body: CronCreate) -> JSONResponse:
    """A cron whose firings run on the thread."""
    return await _create(request, thread_id, body)


async def _create(request: Request, thread_id: str | None, body: CronCreate) -> JSONResponse:
    await _check_webhook(request, body.webhook)
    timezone = check_timezone(body.timezone)
    first = check_schedule(body.schedule, timezone)
    assistant_id = await _assistant_id(request, body.assistant_id)
    if thread_id is not None and await _service(request).find_thread(thread_id) is None:
        raise ApiError(
            404,
            f"Thread with ID '{thread_id}' not found. Please verify the ID is correct and the "
            "thread hasn't been deleted or expired.",
        )
    cron_id = new_cron_id()
    payload = body.model_dump(mode="json", exclude_unset=True)
    payload["assistant_id"] = assistant_id
    config = payload["config"] = dict(payload.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    now = _now_us()
    cron = Cron(
        cron_id=cron_id,
        assistant_id=assistant_id,
        thread_id=thread_id,
        schedule=body.schedule,
        timezone=timezone,
        payload=payload,
        metadata=dict(body.metadata or {}),
        user_id="",  # as LangGraph's server without authentication: no user, ""
        on_run_completed=None if thread_id is not None else body.on_run_completed or "delete",
        enabled=body.enabled,
        end_time=_us(body.end_time),
        next_run_at=first,
        created_at=now,
        updated_at=now,
    )
    await _store(request).add(cron)
    _scheduler(request).wake()
    return JSONResponse(cron.json())


# --- reading, changing, deleting --------------------------------------------------------------


@router.get("/runs/crons/{cron_id}")
async def get_cron(request: Request, cron_id: str) -> JSONResponse:
    """One cron."""
    cron = await _store(request).get(_cron_id(cron_id))
    if cron is None:
        raise ApiError(404, f"Cron '{cron_id}' not found")
    return JSONResponse(cron.json())


@router.patch("/runs/crons/{cron_id}")
async def patch_cron(request: Request, cron_id: str, body: CronPatch) -> JSONResponse:
    """Change a cron: its schedule, end, state, metadata (merged) and run request (merged)."""
    cron_id = _cron_id(cron_id)
    given = body.model_dump(mode="json", exclude_unset=True)
    if not given:
        raise ApiError(400, "Request body cannot be empty")
    await _check_webhook(request, body.webhook)
    store = _store(request)
    cron = await store.get(cron_id)
    if cron is None:
        raise ApiError(404, f"Cron '{cron_id}' not found")
    values: dict[str, Any] = {"updated_at": _now_us()}
    timezone = cron.timezone
    if body.timezone is not None:
        timezone = values["timezone"] = check_timezone(body.timezone)
    if body.schedule is not None or body.timezone is not None:
        schedule = body.schedule or cron.schedule
        check_schedule(schedule, timezone)
        values["schedule"] = schedule
        values["next_run_at"] = next_tick(schedule, _now_us(), timezone)
    if "end_time" in body.model_fields_set:
        values["end_time"] = _us(body.end_time)
    if body.enabled is not None:
        values["enabled"] = int(body.enabled)
    if body.on_run_completed is not None:
        values["on_run_completed"] = body.on_run_completed
    if body.metadata is not None:
        values["metadata"] = _json({**cron.metadata, **body.metadata})
    payload = {**cron.payload, **given, "assistant_id": cron.payload.get("assistant_id")}
    config = payload["config"] = dict(payload.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    try:
        RunCreate.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(422, f"The cron's run request would be invalid: {exc}") from None
    values["payload"] = _json(payload)
    changed = await store.change(cron_id, **values)
    if changed is None:
        raise ApiError(404, f"Cron '{cron_id}' not found")
    _scheduler(request).wake()
    return JSONResponse(changed.json())


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


@router.delete("/runs/crons/{cron_id}", status_code=204)
async def delete_cron(request: Request, cron_id: str) -> Response:
    """Remove a cron (runs it started go on)."""
    if not await _store(request).delete(_cron_id(cron_id)):
        raise ApiError(404, f"Cron '{cron_id}' not found")
    return Response(status_code=204)


# --- listing ----------------------------------------------------------------------------------

_TEXT_KEYS = frozenset({"cron_id", "assistant_id", "thread_id"})
_COLUMNS = {"next_run_date": "next_run_at"}


@router.post("/runs/crons/search")
async def search_crons(request: Request, body: CronSearch) -> JSONResponse:
    """The crons matching the filters, newest first by default."""
    found = await _store(request).matching(
        assistant_id=_assistant_filter(request, body.assistant_id),
        thread_id=body.thread_id,
        enabled=body.enabled,
        metadata=body.metadata,
    )
    key = body.sort_by or "created_at"
    column = _COLUMNS.get(key, key)
    if key in _TEXT_KEYS:
        found.sort(key=lambda c: str(getattr(c, column) or "").lower())
    else:
        found.sort(key=lambda c: getattr(c, column) or 0)
    if (body.sort_order or "desc") == "desc":
        found.reverse()
    page = found[body.offset : body.offset + body.limit]
    headers = {"x-pagination-total": str(len(found))}
    if body.offset + body.limit < len(found):
        headers["x-pagination-next"] = str(body.offset + body.limit)
    return JSONResponse([c.json(body.select) for c in page], headers=headers)


@router.post("/runs/crons/count")
async def count_crons(request: Request, body: CronCount) -> JSONResponse:
    """How many crons match the filters."""
    found = await _store(request).matching(
        assistant_id=_assistant_filter(request, body.assistant_id),
        thread_id=body.thread_id,
        metadata=body.metadata,
    )
    return JSONResponse(len(found))


def _assistant_filter(request: Request, given: str | None) -> str | None:
    """An assistant filter: its UUID, or a graph's id (its default assistant's)."""
    if not given:
        return None
    if given in _service(request).graphs:
        return assistant_id_of(given)
    return given
