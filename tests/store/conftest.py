"""A clock the stores' TTLs can be tested on without waiting."""

from __future__ import annotations

import time

import pytest

import rewind.store.memory as memory_module
import rewind.store.postgres.base as postgres_base
import rewind.store.sqlite.base as sqlite_base


class FakeClock:
    """The stores' time, moved on by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.now += minutes * 60 + seconds

    def seconds(self) -> float:
        return self.now

    def micros(self) -> int:
        return int(self.now * 1_000_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(memory_module, "_now", fake.seconds)
    monkeypatch.setattr(sqlite_base, "_now_us", fake.micros)
    monkeypatch.setattr(postgres_base, "_now_us", fake.micros)
    return fake
