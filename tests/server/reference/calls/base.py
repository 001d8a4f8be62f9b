"""What a call is, how a module of calls lists them, and what calls share."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

Ctx = dict[str, Any]
HI = {"messages": [{"role": "user", "content": "hi"}]}
NEVER = "0 0 1 1 *"
"""A cron schedule that does not fire while the test runs (once a year, on 1 January)."""
Run = Callable[[Any, Ctx], Any]
"""``async (client, ctx) -> result``, or a plain function for a ``sync`` call."""
Decorator = Callable[[Run], Run]


@dataclass(frozen=True, kw_only=True)
class Call:
    """One SDK call, as played against each server."""

    name: str
    """Unique, as the report names it: the method, then the variant in parentheses."""
    method: str
    """The SDK method it exercises (``threads.get_state``)."""
    run: Run
    """What it does: ``async (client, ctx) -> result``, a plain function when ``sync``."""
    sync: bool = False
    """Whether ``run`` takes the sync client (and runs in a thread)."""
    unordered: frozenset[str] = field(default_factory=frozenset)
    """Paths of the lists in the result whose order the API does not specify (``$.items``)."""
    detail: bool = False
    """Whether an error's ``detail`` is compared too (both servers phrase it the same way)."""
    http: bool = False
    """Whether ``run`` takes an :class:`Http` (plain HTTP, for the protocols the SDK has no
    client for: MCP, A2A, generative UI) instead of an SDK client."""


def registrar(calls: list[Call]) -> Callable[..., Decorator]:
    """The ``@call(method, variant, ...)`` decorator of a module: it appends the module's
    calls to ``calls``, in the order they are written."""

    def call(
        method: str,
        variant: str = "",
        *,
        sync: bool = False,
        unordered: Iterable[str] = (),
        detail: bool = False,
        http: bool = False,
    ) -> Decorator:
        def register(fn: Run) -> Run:
            name = ("sync " if sync else "") + method + (f" ({variant})" if variant else "")
            calls.append(
                Call(
                    name=name,
                    method=method,
                    run=fn,
                    sync=sync,
                    unordered=frozenset(unordered),
                    detail=detail,
                    http=http,
                )
            )
            return fn

        return register

    return call


async def parts(stream: AsyncIterator[Any]) -> list[Any]:
    """A stream's parts as ``[event, data]`` (v2 parts, dicts already, as they are)."""
    return [[p.event, p.data] if isinstance(p, tuple) else p async for p in stream]


def sync_parts(stream: Iterable[Any]) -> list[Any]:
    """A sync stream's parts as ``[event, data]``."""
    return [[p.event, p.data] for p in stream]


def new_id(ctx: Ctx, key: str) -> str:
    """A fresh UUID, kept in ``ctx[key]``."""
    ctx[key] = str(uuid.uuid4())
    return str(ctx[key])


class Http:
    """Plain HTTP to one server; each request notes its route (``POST /mcp``) as a method the
    call used."""

    def __init__(self, client: httpx.AsyncClient, used: set[str]) -> None:
        self._client = client
        self._used = used

    async def request(
        self, method: str, route: str, *, path: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """``method`` on ``route`` (a template: ``/a2a/{assistant_id}``, filled from
        ``path``); ``kwargs`` as httpx takes them."""
        self._used.add(f"{method} {route}")
        return await self._client.request(method, route.format(**(path or {})), **kwargs)


def answer(response: httpx.Response) -> dict[str, Any]:
    """A response as compared: its status, media type and body (JSON decoded, else text)."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return {"status": response.status_code, "type": media, "body": body}


def sse(response: httpx.Response) -> dict[str, Any]:
    """An SSE response as compared: its status and its events as ``[event, data]`` (the data
    JSON decoded), heartbeats left out."""
    events = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append([event, json.loads("\n".join(data))])
    return {"status": response.status_code, "events": events}
