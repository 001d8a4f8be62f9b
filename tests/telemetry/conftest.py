"""Fixtures: a saver on a SQLite file, OTLP receivers on 127.0.0.1 (stopped after each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from tests.telemetry.receiver import Receiver, running


@pytest.fixture
async def saver(tmp_path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    saver = AsyncSqliteSaver(str(tmp_path / "runs.db"))
    try:
        yield saver
    finally:
        await saver.aclose()


@pytest.fixture(params=["http", "grpc"])
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    """A receiver of each protocol, in turn."""
    with running(request.param) as receiver:
        yield receiver


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    with running("http") as receiver:
        yield receiver


@pytest.fixture
def grpc_receiver() -> Iterator[Receiver]:
    with running("grpc") as receiver:
        yield receiver
