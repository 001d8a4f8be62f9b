"""The thread protocol over a WebSocket (``client.threads.stream(..., transport="websocket")``),
as LangGraph's server serves it: ``WebSocket /threads/{thread_id}/stream/events``.

Every text frame the client sends is one command, answered by a frame with its ``id``:
``subscription.subscribe`` opens a subscription (the thread's events from its first run on,
kept to its ``channels``, ``namespaces``, ``depth`` and after its ``since``, as the SSE route's
body keeps them) whose events then come as frames of their own, one JSON object each;
``subscription.unsubscribe`` ends one; ``run.start``, ``input.respond`` and the rest are
answered as ``POST /threads/{thread_id}/commands`` answers them. A frame that is no command gets
an ``invalid_argument`` error and the socket stays open.

A browser cannot send an API key on a WebSocket, and a page of any site may open one to
127.0.0.1: a handshake whose ``Origin`` is neither the server's own nor one of ``--cors-origin``
is refused (403), as is one without the API key when the server has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from rewind.server.run_routes import _service
from rewind.server.thread_commands import (
    BAD_COMMAND,
    answer,
    error,
    event_filter,
    subscription_refused,
    success,
    thread_events_of,
)
from rewind.server.wire import dumps

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter()


@router.websocket("/threads/{thread_id}/stream/events")
async def thread_socket(websocket: WebSocket, thread_id: str) -> None:
    """Commands in, their answers and the subscribed events out, until either side closes."""
    if not origin_allowed(websocket):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    socket = _Socket(websocket, thread_id)
    try:
        while True:
            await socket.take(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
    finally:
        await socket.close()


def origin_allowed(websocket: WebSocket) -> bool:
    """Whether the handshake's ``Origin`` (a browser's) may connect: none (not a browser),
    the server's own (its host and port), or one of the configured CORS origins."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in getattr(websocket.app.state, "cors_origins", frozenset()):
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


class _Socket:
    """One connection: its subscriptions, and one writer at a time on the socket."""

    def __init__(self, websocket: WebSocket, thread_id: str) -> None:
        self.websocket = websocket
        self.thread_id = thread_id
        self.subscriptions: dict[str, asyncio.Task[None]] = {}
        self._sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._sending:  # (a frame whole: answers and events interleave)
            await self.websocket.send_text(dumps(message))

    async def take(self, raw: str) -> None:
        """Answer one frame."""
        try:
            command = json.loads(raw)
        except ValueError:
            message = "Protocol commands must be valid JSON."
            await self.send(error(None, "invalid_argument", message))
            return
        if (
            not isinstance(command, dict)
            or not isinstance(command.get("id"), int)
            or not isinstance(command.get("method"), str)
        ):
            shown = command.get("id") if isinstance(command, dict) else None
            await self.send(error(shown, "invalid_argument", BAD_COMMAND))
            return
        params = command.get("params")
        params = params if isinstance(params, dict) else {}
        method, command_id = command["method"], command["id"]
        if method == "subscription.subscribe":
            await self.subscribe(command_id, params)
        elif method == "subscription.unsubscribe":
            await self.send(self.unsubscribe(command_id, params))
        else:
            await self.send(await answer(self.websocket, self.thread_id, command))

    async def subscribe(self, command_id: Any, params: dict[str, Any]) -> None:
        refused = subscription_refused(command_id, params)
        if refused is not None:
            await self.send(refused)
            return
        wanted, since = event_filter(params)
        events = thread_events_of(_service(self.websocket), self.thread_id, wanted, since)
        subscription_id = f"sub-{command_id}-{len(self.subscriptions) + 1}"
        # The answer goes first: the subscription's events follow it.
        await self.send(success(command_id, {"subscription_id": subscription_id}))
        self.subscriptions[subscription_id] = asyncio.create_task(self._pump(events))

    async def _pump(self, events: Any) -> None:
        try:
            async for event in events:
                await self.send(event)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the socket closed under it
        except Exception:  # the log went away: the client sees the socket close
            logger.exception("thread %s: a WebSocket subscription failed", self.thread_id)
            with contextlib.suppress(Exception):
                await self.websocket.close(code=1011, reason="thread stream ended")

    def unsubscribe(self, command_id: Any, params: dict[str, Any]) -> dict[str, Any]:
        subscription_id = params.get("subscription_id")
        if not isinstance(subscription_id, str):
            message = "subscription.unsubscribe requires a subscription_id."
            return error(command_id, "invalid_argument", message)
        task = self.subscriptions.pop(subscription_id, None)
        if task is None:
            message = f"Unknown subscription: {subscription_id}"
            return error(command_id, "no_such_subscription", message)
        task.cancel()
        return success(command_id, {})

    async def close(self) -> None:
        tasks = list(self.subscriptions.values())
        self.subscriptions.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
