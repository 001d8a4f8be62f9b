"""What the page changes: a fork from a checkpoint with an edited state, and the answer to a
pending interrupt. Both start a run of the loaded graph, as the API's run creation does."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rewind.errors import UnknownRunError
from rewind.log import EventLog
from rewind.server.models import CommandBody, RunCreate, StateUpdate
from rewind.server.run_routes import start_run
from rewind.server.runs import assistant_id_of
from rewind.server.service import ApiError, Service
from rewind.ui.routes import graph_id_of, raw_log_of, run_of, started_of

__all__ = ["router"]

router = APIRouter(prefix="/ui/api")

_MODES: Any = ["values", "messages-tuple"]
"""What the page's runs stream: with the messages, so chat models' tokens are recorded for
the token playback (as a client streaming them would have them recorded)."""


class ForkBody(BaseModel):
    """A fork: from ``checkpoint_id``, with ``values`` written as ``as_node`` would."""

    model_config = ConfigDict(extra="forbid")

    checkpoint_id: str = Field(min_length=1)
    values: dict[str, Any] | None = None
    as_node: str | None = None


class ResumeBody(BaseModel):
    """The answer to the interrupt the run's thread waits on."""

    model_config = ConfigDict(extra="forbid")

    resume: Any
    checkpoint_id: str | None = None


async def _logged(log: EventLog, run_id: str, *, within: float = 10.0) -> None:
    """Wait (a while) until a run just started is in the log, so that the page it opens
    finds it (a queued run may wait longer for a worker: the page then shows it missing)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            await log.get_run(run_id)
            return
        except UnknownRunError:
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.02)


async def _graph_for(request: Request, run_id: str) -> tuple[Any, str]:
    log = raw_log_of(request)
    record = await run_of(log, run_id)
    graph_id = graph_id_of(request, record, await started_of(log, run_id))
    if graph_id is None:
        raise ApiError(
            409,
            f"graph {record.graph_name!r} is not loaded: start `rewind ui` (or `rewind serve`) "
            "with --graphs ID=FILE.py:ATTR to fork or resume its runs",
        )
    service: Service = request.app.state.service
    info = await service.thread(record.thread_id)
    if info.metadata.get("graph_id") not in service.graphs:  # recorded outside the server
        info.metadata.update(graph_id=graph_id, assistant_id=assistant_id_of(graph_id))
        await service.save_thread(info)
    return record, graph_id


@router.post("/runs/{run_id}/fork")
async def fork(request: Request, run_id: str, body: ForkBody) -> JSONResponse:
    """Fork the run's thread at a checkpoint, with the state edited, and run from there."""
    record, graph_id = await _graph_for(request, run_id)
    service: Service = request.app.state.service
    log = raw_log_of(request)
    if await log.get_checkpoint(body.checkpoint_id, thread_id=record.thread_id) is None:
        raise ApiError(404, f"thread {record.thread_id} has no checkpoint {body.checkpoint_id!r}")
    checkpoint_id = body.checkpoint_id
    if body.values is not None:
        update = StateUpdate(
            values=body.values, as_node=body.as_node, checkpoint_id=body.checkpoint_id
        )
        checkpoint_id = (await service.update_state(record.thread_id, update))["checkpoint_id"]
    run = await start_run(
        request.app,
        record.thread_id,
        RunCreate(assistant_id=graph_id, checkpoint_id=checkpoint_id, stream_mode=_MODES),
    )
    await _logged(raw_log_of(request), run.run_id)
    return JSONResponse(
        {"run_id": run.run_id, "thread_id": run.thread_id, "checkpoint_id": checkpoint_id}
    )


@router.post("/runs/{run_id}/resume")
async def resume(request: Request, run_id: str, body: ResumeBody) -> JSONResponse:
    """Answer the interrupt the thread waits on (at ``checkpoint_id``, or its newest)."""
    record, graph_id = await _graph_for(request, run_id)
    run = await start_run(
        request.app,
        record.thread_id,
        RunCreate(
            assistant_id=graph_id,
            checkpoint_id=body.checkpoint_id,
            command=CommandBody(resume=body.resume),
            stream_mode=_MODES,
        ),
    )
    await _logged(raw_log_of(request), run.run_id)
    return JSONResponse({"run_id": run.run_id, "thread_id": run.thread_id})
