"""Thread routes over many threads at once: count them, prune them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rewind.server.models import ThreadCount, ThreadPrune
from rewind.server.run_routes import _service

__all__ = ["router"]

router = APIRouter()


@router.post("/threads/count")
async def count_threads(request: Request, body: ThreadCount) -> JSONResponse:
    """How many threads match the filters (metadata, values, status), as a search finds them."""
    return JSONResponse(await _service(request).count_threads(body))


@router.post("/threads/prune")
async def prune_threads(request: Request, body: ThreadPrune) -> JSONResponse:
    """Prune threads by id (``delete``: entirely; ``keep_latest``: down to their newest state
    and the runs it is folded from); ids of no thread are skipped. How many were pruned."""
    pruned = await _service(request).prune_threads(body.thread_ids, strategy=body.strategy)
    return JSONResponse({"pruned_count": pruned})
