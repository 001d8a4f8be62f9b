"""Fuzz the HTTP API from its own OpenAPI schema: no input makes it answer 5xx (nor, on the
JSON-RPC routes, the JSON-RPC error of a server's own failure)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.server.conftest import Server, start_server

FULL = os.environ.get("REWIND_SERVER_LOAD") == "1"
EXAMPLES = 150 if FULL else 12
PROTOCOLS = ("/mcp", "/a2a/", "/.well-known/")
"""Paths of MCP and A2A, whose errors take their protocols' shapes (as on LangGraph's server)
rather than ``{"detail": ...}``."""
INTERNAL_ERROR = -32603


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield server
    server.stop()


@pytest.mark.faults
def test_no_input_gets_a_server_error(fuzzed_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(base_url=fuzzed_server.url, timeout=20)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:500]}"
            )
            if case.formatted_path.startswith(PROTOCOLS):
                protocol_answer(response)
            elif response.status_code >= 400 and response.status_code != 405:
                assert "application/json" in str(response.headers.get("content-type"))
                assert isinstance(response.json()["detail"], str)

        check()


def protocol_answer(response: Any) -> None:
    """An answer of MCP or A2A: an error of the exchange is ``{"error": message}`` (or its
    JSON-RPC error object), a bodiless 202, 404 or 405 is the protocol's; no JSON-RPC error
    is the server's own failure."""
    media = str(response.headers.get("content-type"))
    if not response.content:
        assert response.status_code in (202, 404, 405), response.status_code
        return
    if media.startswith("text/event-stream"):
        lines = response.text.splitlines()
        answers = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    else:
        assert "application/json" in media
        answers = [response.json()]
    for answer in answers:
        error = answer.get("error")
        if response.status_code >= 400:
            assert isinstance(error, str) or isinstance(error["message"], str), answer
        if isinstance(error, dict):
            assert error["code"] != INTERNAL_ERROR, answer


def test_the_schema_is_published(fuzzed_server: Server) -> None:
    paths = httpx.get(f"{fuzzed_server.url}/openapi.json").json()["paths"]
    assert "/threads/{thread_id}/runs/stream" in paths and "/ok" in paths
    # MCP, A2A and generative UI are fuzzed too.
    for path in ("/mcp", "/a2a/{assistant_id}", "/.well-known/agent-card.json", "/ui/{graph_id}"):
        assert path in paths, path
