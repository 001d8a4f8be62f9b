"""Fuzz the HTTP API from its own OpenAPI schema: no input makes it answer 5xx."""

from __future__ import annotations

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
            if response.status_code >= 400 and response.status_code != 405:
                assert "application/json" in str(response.headers.get("content-type"))
                assert isinstance(response.json()["detail"], str)

        check()


def test_the_schema_is_published(fuzzed_server: Server) -> None:
    paths = httpx.get(f"{fuzzed_server.url}/openapi.json").json()["paths"]
    assert "/threads/{thread_id}/runs/stream" in paths and "/ok" in paths
