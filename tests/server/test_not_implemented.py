"""Requests no route of rewind's takes: every route of LangGraph's server (langgraph-api's route
table) is served or answers 501 naming itself; an unknown path answers a JSON 404 naming it;
an unknown id answers a 404 naming it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from rewind.server import create_app, load_config
from rewind.server.app import LANGGRAPH_API_VERSION, NOT_IMPLEMENTED

APP = Path(__file__).parent / "app"

# langgraph-api 0.16.7's HTTP routes (langgraph_api.api: its meta, assistants, runs, threads,
# store, ui, mcp, a2a and event-streaming route lists), as method and path.
LANGGRAPH_ROUTES = [
    ("GET", "/"),
    ("GET", "/ok"),
    ("GET", "/info"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("POST", "/assistants"),
    ("POST", "/assistants/search"),
    ("POST", "/assistants/count"),
    ("POST", "/assistants/{assistant_id}/latest"),
    ("POST", "/assistants/{assistant_id}/versions"),
    ("GET", "/assistants/{assistant_id}"),
    ("GET", "/assistants/{assistant_id}/graph"),
    ("GET", "/assistants/{assistant_id}/schemas"),
    ("GET", "/assistants/{assistant_id}/subgraphs"),
    ("GET", "/assistants/{assistant_id}/subgraphs/{namespace}"),
    ("PATCH", "/assistants/{assistant_id}"),
    ("DELETE", "/assistants/{assistant_id}"),
    ("POST", "/runs/stream"),
    ("POST", "/runs/wait"),
    ("POST", "/runs"),
    ("POST", "/runs/batch"),
    ("POST", "/runs/cancel"),
    ("POST", "/runs/crons"),
    ("POST", "/runs/crons/search"),
    ("POST", "/runs/crons/count"),
    ("GET", "/threads/{thread_id}/runs/{run_id}/join"),
    ("GET", "/threads/{thread_id}/runs/{run_id}/stream"),
    ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"),
    ("GET", "/threads/{thread_id}/runs/{run_id}"),
    ("DELETE", "/threads/{thread_id}/runs/{run_id}"),
    ("POST", "/threads/{thread_id}/runs/stream"),
    ("POST", "/threads/{thread_id}/runs/wait"),
    ("POST", "/threads/{thread_id}/runs"),
    ("POST", "/threads/{thread_id}/runs/crons"),
    ("GET", "/threads/{thread_id}/runs"),
    ("GET", "/runs/crons/{cron_id}"),
    ("PATCH", "/runs/crons/{cron_id}"),
    ("DELETE", "/runs/crons/{cron_id}"),
    ("POST", "/threads"),
    ("POST", "/threads/search"),
    ("POST", "/threads/count"),
    ("POST", "/threads/prune"),
    ("GET", "/threads/{thread_id}"),
    ("PATCH", "/threads/{thread_id}"),
    ("DELETE", "/threads/{thread_id}"),
    ("GET", "/threads/{thread_id}/state"),
    ("GET", "/threads/{thread_id}/storage"),
    ("POST", "/threads/{thread_id}/state"),
    ("GET", "/threads/{thread_id}/history"),
    ("POST", "/threads/{thread_id}/copy"),
    ("POST", "/threads/{thread_id}/history"),
    ("GET", "/threads/{thread_id}/state/{checkpoint_id}"),
    ("POST", "/threads/{thread_id}/state/checkpoint"),
    ("GET", "/threads/{thread_id}/stream"),
    ("PUT", "/store/items"),
    ("GET", "/store/items"),
    ("DELETE", "/store/items"),
    ("POST", "/store/items/search"),
    ("POST", "/store/namespaces"),
    ("POST", "/ui/{graph_id}"),
    ("GET", "/mcp"),
    ("POST", "/mcp"),
    ("DELETE", "/mcp"),
    ("GET", "/a2a/{assistant_id}"),
    ("POST", "/a2a/{assistant_id}"),
    ("DELETE", "/a2a/{assistant_id}"),
    ("GET", "/a2a/{assistant_id}/.well-known/agent-card.json"),
    ("GET", "/a2a/{assistant_id}/.well-known/agent.json"),
    ("GET", "/.well-known/agent-card.json"),
    ("POST", "/threads/{thread_id}/stream/events"),
    ("POST", "/threads/{thread_id}/commands"),
]


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(str(tmp_path / "a.db"), load_config(APP / "langgraph.json"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://app", timeout=10
        ) as client:
            yield client


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def _unrouted(answer: httpx.Response) -> bool:
    """Whether no route took the request (the router's own 404 or 405)."""
    if answer.status_code not in (404, 405) or not answer.content:
        return False  # (a bodiless 404 or 405 is a route's own: MCP's GET and DELETE, A2A's)
    detail = answer.json().get("detail", "")
    return " is no route of this server" in detail or detail.startswith("Method Not Allowed")


async def test_every_langgraph_route_is_served_or_answers_501_naming_it(
    http: httpx.AsyncClient,
) -> None:
    listed = set(NOT_IMPLEMENTED)
    assert listed <= set(LANGGRAPH_ROUTES)
    for method, path in LANGGRAPH_ROUTES:
        answer = await http.request(method, _filled(path), json={})
        if (method, path) not in listed:
            assert not _unrouted(answer), f"{method} {path}: {answer.text}"
            assert answer.status_code != 501, f"{method} {path} is served: unlist it"
            continue
        assert answer.status_code == 501, f"{method} {path}: {answer.text}"
        detail = answer.json()["detail"]
        assert detail.startswith(f"{method} {path} is not implemented by rewind")
        assert f"langgraph-api {LANGGRAPH_API_VERSION}" in detail
        if method == "GET":
            assert (await http.head(_filled(path))).status_code == 501


async def test_an_unknown_path_answers_a_json_404_naming_it(http: httpx.AsyncClient) -> None:
    answer = await http.get("/no/such/route")
    assert answer.status_code == 404
    assert answer.json()["detail"].startswith("Not Found: GET /no/such/route is no route")
    # A path of the API with a method it does not take: a 405 naming both.
    answer = await http.put("/threads/search")
    assert answer.status_code == 405
    assert answer.json()["detail"].startswith("Method Not Allowed: PUT /threads/search")


async def test_unknown_ids_answer_404_naming_them(http: httpx.AsyncClient) -> None:
    client = LangGraphClient(http)
    thread_id, run_id, assistant_id = (str(uuid.uuid4()) for _ in range(3))
    with pytest.raises(NotFoundError) as caught:
        await client.threads.get(thread_id)
    assert thread_id in caught.value.response.json()["detail"]
    thread = await client.threads.create()
    for call in (
        client.runs.get(thread["thread_id"], run_id),
        client.runs.cancel(thread["thread_id"], run_id),
        client.runs.delete(thread["thread_id"], run_id),
    ):
        with pytest.raises(NotFoundError) as caught:
            await call
        assert run_id in caught.value.response.json()["detail"]
    with pytest.raises(NotFoundError) as caught:
        await client.assistants.get(assistant_id)
    assert assistant_id in caught.value.response.json()["detail"]
    with pytest.raises(NotFoundError) as caught:
        await client.runs.cancel_many(thread_id=thread["thread_id"], run_ids=[run_id])
    assert run_id in caught.value.response.json()["detail"]
    # A store item that is not there is null, as on LangGraph's server (not a 404).
    assert await client.store.get_item(["nobody"], key="nothing") is None
