"""The ASGI app: LangGraph's Platform API over a rewind log.

``create_app(db, graphs)`` serves the graphs as assistants; threads are the log's threads, runs
are the log's runs, and every stream is a projection of the log (see :mod:`.stream`).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from rewind import __version__
from rewind.log import EventLog, LogOptions, open_log
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.orphans import close_orphans
from rewind.server.a2a_routes import router as a2a_router
from rewind.server.assistant_routes import router as assistant_router
from rewind.server.cron_routes import router as cron_router
from rewind.server.generative_ui import ASSETS_PATH, UiSpec, ui_assets
from rewind.server.generative_ui import router as generative_ui_router
from rewind.server.http_metrics import HttpMetrics, HttpMetricsMiddleware
from rewind.server.mcp_routes import router as mcp_router
from rewind.server.meta_routes import OPEN_PATHS
from rewind.server.meta_routes import router as meta_router
from rewind.server.models import (
    HistoryRequest,
    StateCheckpointRequest,
    StateUpdate,
    ThreadCreate,
    ThreadSearch,
    ThreadUpdate,
)
from rewind.server.run_keys import LANGGRAPH_API_VERSION
from rewind.server.run_routes import HEARTBEAT_SECONDS, _service
from rewind.server.run_routes import router as run_router
from rewind.server.service import ApiError, Service
from rewind.server.storage_routes import router as storage_router
from rewind.server.store_routes import router as store_router
from rewind.server.store_routes import server_store
from rewind.server.thread_commands import router as thread_commands_router
from rewind.server.thread_routes import router as thread_router
from rewind.server.thread_socket import router as thread_socket_router
from rewind.server.thread_stream import router as thread_stream_router

__all__ = ["DEFAULT_MAX_BODY_BYTES", "LANGGRAPH_API_VERSION", "NOT_IMPLEMENTED", "create_app"]


NOT_IMPLEMENTED: tuple[tuple[str, str], ...] = ()
"""The routes of LangGraph's server (langgraph-api's route table) that rewind does not serve
yet: each answers 501 naming itself. Remove a route from here when it is served (a test checks
that none of these is)."""

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
"""Largest request body accepted (bigger ones get a 413)."""

_OPEN_PATHS = OPEN_PATHS
_OPEN_PREFIX = ASSETS_PATH + "/"


def create_app(
    db: str | EventLog | None,
    graphs: Mapping[str, CompiledStateGraph],
    *,
    api_key: str | None = None,
    cors_origins: Sequence[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    queue: bool = False,
    log_options: LogOptions | None = None,
    ui: Mapping[str, UiSpec] | None = None,
    pages: Callable[[FastAPI, str | None], Callable[[str], bool]] | None = None,
) -> FastAPI:
    """The API app over the log in ``db`` (a path, a URL, an open log, or ``None`` for
    memory), serving ``graphs`` (id → compiled graph) as assistants.

    Args:
        api_key: When set (default: ``$REWIND_API_KEY``), every route but the health checks
            (``/``, ``/ok``) and ``/metrics`` needs it in ``x-api-key`` or as a bearer token.
        cors_origins: Origins browsers may call from (none by default).
        max_body_bytes: Largest request body accepted.
        heartbeat_seconds: Seconds between ``: heartbeat`` comments on an idle stream (and
            the ``\\n`` keep-alives of a wait).
        queue: Only queue runs, for ``rewind worker`` processes to execute
            (:mod:`rewind.server.queued`); by default this process executes them.
        log_options: How the log it opens behaves (a redaction hook the runs it starts are
            recorded through, ...); for a ``db`` given as a path or URL.
        ui: Graph id → its generative UI bundle, already built: a ``.js`` or ``.css`` file,
            a folder of them, or their URL, or a list of these (``langgraph.json``'s ``ui``,
            :func:`~rewind.server.generative_ui.load_ui`; relative paths from the working
            folder). Served by ``POST /ui/{graph_id}``.
        pages: Installs pages beside the API (the run page, :func:`rewind.ui.install_ui`),
            given the app and the API key; it returns which paths it guards itself (they
            sign in with the key once and carry a session, so the key guard lets them by).
    """
    api_key = api_key if api_key is not None else os.environ.get("REWIND_API_KEY") or None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log = db if isinstance(db, EventLog) else await open_log(db, options=log_options)
        if not queue:  # runs a killed server left running end now: their followers wait on
            await close_orphans(log, None)  # them (in queue mode, workers take them over)
        stores = contextlib.AsyncExitStack()
        store = await stores.enter_async_context(server_store(log))
        app.state.service = Service(
            log, graphs, heartbeat_seconds=heartbeat_seconds, queue=queue, store=store
        )
        try:
            yield
        finally:
            await app.state.service.runs.shutdown()
            await app.state.service.finish_cleanups()
            await stores.aclose()
            if not isinstance(db, EventLog):
                await log.aclose()
            else:
                await log.flush()

    app = FastAPI(
        title="rewind",
        version=__version__,
        description="LangGraph's Platform API over rewind's event log.",
        lifespan=lifespan,
    )
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _unrouted)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error)
    app.state.http_metrics = HttpMetrics()
    app.state.ui_assets = ui_assets(ui or {})
    app.state.cors_origins = frozenset(cors_origins or ())
    app.include_router(meta_router)
    app.include_router(_router())
    app.include_router(assistant_router)
    app.include_router(run_router)
    app.include_router(cron_router)
    app.include_router(thread_stream_router)
    app.include_router(thread_commands_router)
    app.include_router(thread_socket_router)
    app.include_router(thread_router)
    app.include_router(store_router)
    app.include_router(storage_router)
    app.include_router(mcp_router)
    app.include_router(a2a_router)
    app.include_router(generative_ui_router)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["location", "content-location", "x-pagination-total"],
        )
    guarded = pages(app, api_key) if pages is not None else None
    app.add_middleware(_BodyLimit, max_bytes=max_body_bytes)
    if api_key:
        app.add_middleware(_ApiKey, key=api_key, guarded=guarded)
    app.add_middleware(HttpMetricsMiddleware, metrics=app.state.http_metrics)
    return app


# --- errors -----------------------------------------------------------------------------------


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


def _database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked": another process held the file's
    write lock for longer than the busy timeout."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError) and (
            "locked" in str(seen) or "busy" in str(seen)
        ):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error's response (the error is logged all the same). One that found the
    database busy gets 503 and a Retry-After, not a 500: nothing of the request was stored,
    and it can be sent again as it is."""
    if not _database_busy(exc):
        return PlainTextResponse("Internal Server Error", status_code=500)
    detail = (
        "The database is busy: another process held its write lock longer than the busy "
        "timeout, and nothing of this request was stored. Send it again."
    )
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"detail": "Invalid JSON in request body"}, status_code=422)
    lines = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        lines.append(f"{where or 'body'}: {error.get('msg')}")
    return JSONResponse({"detail": "; ".join(lines) or "Invalid request"}, status_code=422)


def _pattern(path: str) -> re.Pattern[str]:
    literal = (re.escape(part) for part in re.split(r"\{[^}]+\}", path))
    return re.compile("^" + "[^/]+".join(literal) + "/?$")


_UNSERVED = [(method, path, _pattern(path)) for method, path in NOT_IMPLEMENTED]


def not_implemented(method: str, path: str) -> str | None:
    """The route of :data:`NOT_IMPLEMENTED` a request is for (``"METHOD /path/{param}"``)."""
    method = "GET" if method == "HEAD" else method
    for route_method, route, pattern in _UNSERVED:
        if route_method == method and pattern.match(path):
            return f"{route_method} {route}"
    return None


async def _unrouted(request: Request, exc: StarletteHTTPException) -> Response:
    """A request no route takes: 501 for a route of LangGraph's API rewind does not serve,
    else 404 (no such path) or 405 (not with this method), naming what was asked."""
    method, path = request.method, request.url.path
    no_path = exc.status_code == 404 and "route" not in request.scope  # the router's own 404
    if not no_path and exc.status_code != 405:  # (a 405 is always the router's)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    route = not_implemented(method, path)
    if route is not None:
        return JSONResponse(
            {
                "detail": f"{route} is not implemented by rewind, which mirrors the LangGraph "
                f"Platform API of langgraph-api {LANGGRAPH_API_VERSION}"
            },
            status_code=501,
        )
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("allow", "")
        return JSONResponse(
            {"detail": f"Method Not Allowed: {method} {path} (this path takes {allowed})"},
            status_code=405,
            headers=exc.headers,
        )
    return JSONResponse(
        {
            "detail": f"Not Found: {method} {path} is no route of this server (rewind, serving "
            f"LangGraph Platform API {LANGGRAPH_API_VERSION}; its routes are listed at /docs)"
        },
        status_code=404,
    )


# --- middleware -------------------------------------------------------------------------------


class _ApiKey:
    """Every route but :data:`OPEN_PATHS` and the UI bundles' files needs the key
    (``x-api-key`` or ``Authorization: Bearer``)."""

    def __init__(
        self, app: ASGIApp, *, key: str, guarded: Callable[[str], bool] | None = None
    ) -> None:
        self.app = app
        self.key = key.encode()
        self.guarded = guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if path.startswith(_OPEN_PREFIX):  # UI bundles' files: a <script> tag sends no key
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and (
            scope["method"] == "OPTIONS" or (self.guarded and self.guarded(scope["path"]))
        ):  # (pages' paths sign in with the key once and carry a session: rewind.ui)
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-api-key")
        auth = headers.get(b"authorization", b"")
        if given is None and auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        if given is None or not hmac.compare_digest(given, self.key):
            if scope["type"] == "websocket":  # the handshake is refused (a 403)
                await WebSocketClose(code=1008, reason="missing or invalid API key")(
                    scope, receive, send
                )
                return
            response = JSONResponse(
                {"detail": "Missing or invalid API key: send it in x-api-key"}, status_code=401
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _BodyLimit:
    """Refuses request bodies over ``max_bytes`` with a 413, before any handler sees them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"Request body larger than {self.max_bytes} bytes"}, status_code=413
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


# --- threads ----------------------------------------------------------------------------------


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/info")
    async def info() -> dict[str, Any]:
        """What this server is."""
        return {"version": __version__, "server": "rewind", "flags": {"assistants": True}}

    @router.post("/threads")
    async def create_thread(request: Request, body: ThreadCreate) -> JSONResponse:
        """A new thread."""
        service = _service(request)
        info = await service.create_thread(body.thread_id, body.metadata, body.if_exists)
        if body.supersteps:
            await service.seed_thread(info, body.supersteps)
        return JSONResponse(await service.thread_json(info))

    @router.post("/threads/search")
    async def search_threads(request: Request, body: ThreadSearch) -> JSONResponse:
        """Threads matching the query."""
        return JSONResponse(await _service(request).search_threads(body))

    @router.get("/threads/{thread_id}")
    async def get_thread(request: Request, thread_id: str) -> JSONResponse:
        """One thread."""
        service = _service(request)
        return JSONResponse(await service.thread_json(await service.thread(thread_id)))

    @router.patch("/threads/{thread_id}")
    async def update_thread(request: Request, thread_id: str, body: ThreadUpdate) -> JSONResponse:
        """Merge metadata into a thread's."""
        service = _service(request)
        info = await service.thread(thread_id)
        info.metadata.update(body.metadata or {})
        await service.save_thread(info)
        return JSONResponse(await service.thread_json(info))

    @router.delete("/threads/{thread_id}", status_code=204)
    async def delete_thread(request: Request, thread_id: str) -> Response:
        """Remove a thread and its runs."""
        await _service(request).delete_thread(thread_id)
        return Response(status_code=204)

    @router.post("/threads/{thread_id}/copy")
    async def copy_thread(request: Request, thread_id: str) -> JSONResponse:
        """A new thread with the same history, answered as LangGraph's server answers a copy:
        an idle thread, without its values, interrupts or error."""
        copied = await _service(request).copy_thread(thread_id)
        return JSONResponse(
            {
                "thread_id": copied.thread_id,
                "created_at": copied.created_at.isoformat(),
                "updated_at": copied.updated_at.isoformat(),
                "state_updated_at": copied.updated_at.isoformat(),
                "metadata": copied.metadata,
                "status": "idle",
                "config": {},
            }
        )

    @router.get("/threads/{thread_id}/state")
    async def get_state(request: Request, thread_id: str, subgraphs: bool = False) -> JSONResponse:
        """The thread's newest state."""
        return JSONResponse(await _service(request).state(thread_id, subgraphs=subgraphs))

    @router.post("/threads/{thread_id}/state")
    async def update_state(request: Request, thread_id: str, body: StateUpdate) -> JSONResponse:
        """Write values to the thread's state as a node would."""
        return JSONResponse(await _service(request).update_state(thread_id, body))

    @router.get("/threads/{thread_id}/state/{checkpoint_id}")
    async def get_state_at(
        request: Request, thread_id: str, checkpoint_id: str, subgraphs: bool = False
    ) -> JSONResponse:
        """The thread's state at one checkpoint."""
        service = _service(request)
        return JSONResponse(
            await service.state(thread_id, checkpoint_id=checkpoint_id, subgraphs=subgraphs)
        )

    @router.post("/threads/{thread_id}/state/checkpoint")
    async def post_state_at(
        request: Request, thread_id: str, body: StateCheckpointRequest
    ) -> JSONResponse:
        """The thread's state at one checkpoint (the newest when the checkpoint names no id,
        as LangGraph's server answers; its RemoteGraph asks so for a thread's state)."""
        checkpoint_id = body.checkpoint.get("checkpoint_id")
        if checkpoint_id is not None and not isinstance(checkpoint_id, str):
            raise ApiError(422, "checkpoint.checkpoint_id: a checkpoint id is a string")
        return JSONResponse(
            await _service(request).state(
                thread_id, checkpoint_id=checkpoint_id, subgraphs=body.subgraphs
            )
        )

    @router.post("/threads/{thread_id}/history")
    async def post_history(request: Request, thread_id: str, body: HistoryRequest) -> JSONResponse:
        """The thread's checkpoints, newest first."""
        return JSONResponse(
            await _service(request).history(
                thread_id,
                limit=body.limit,
                before=body.before,
                metadata=body.metadata,
                checkpoint=body.checkpoint,
            )
        )

    @router.get("/threads/{thread_id}/history")
    async def get_history(
        request: Request,
        thread_id: str,
        limit: int = Query(10, ge=0, le=100_000),
        before: str | None = None,
    ) -> JSONResponse:
        """The thread's checkpoints, newest first."""
        return JSONResponse(await _service(request).history(thread_id, limit=limit, before=before))

    return router
