"""An app serving the side-by-side graphs (:mod:`tests.server.reference.graphs`) in this
process, for the tests of the JSON-RPC protocols (MCP, A2A) and generative UI."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from rewind.server import create_app
from tests.server.reference import graphs

GRAPHS = {
    name: getattr(graphs, name) for name in ("chat", "ask", "nested", "tokens", "slow", "boom")
}
_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def assistant_of(graph_id: str) -> str:
    """The id of a graph's default assistant."""
    return str(uuid.uuid5(_NAMESPACE, graph_id))


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over a fresh database in ``tmp_path`` (``options``: create_app's)."""
    app = create_app(str(tmp_path / "p.db"), GRAPHS, **options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://app", timeout=30
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def sse_answers(text: str) -> list[dict[str, Any]]:
    """The JSON data of an SSE body's ``message`` events."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        if data and "event: message" in lines:
            found.append(json.loads("\n".join(data)))
    return found
