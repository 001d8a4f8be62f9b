"""Fixtures of the PostgreSQL store's tests: databases of their own on the tests' server,
dropped when each test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.postgres.databases import database


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A database of the test's own."""
    with database(str(tmp_path)) as made:
        yield made


@pytest.fixture
def langgraph_url(tmp_path: Path) -> Iterator[str]:
    """Another database, for LangGraph's store, sorting text by its bytes as rewind's listing
    does (LangGraph's lists namespaces in the database's collation)."""
    with database(str(tmp_path / "langgraph"), collation="C") as made:
        yield made
