"""Forks and interrupt answers from the page when the server serves the run's graph under an id
other than the name the run recorded (a run recorded by ``rewind run``, served by
``rewind serve -g ID=...``): the page finds the served graph by the name's id, or by the
graph's structure (its digest)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rewind.server import create_app
from rewind.server.serve import resolve_graphs
from rewind.ui import ui_pages
from rewind.ui.security import CSRF_HEADER
from tests.ui.conftest import json_lines, rewind

MIXED = "tests/ui/agents.py:mixed"


@pytest.fixture
def interrupted(tmp_path: Path) -> tuple[Path, str]:
    """A run of the mixed graph (named ``mixed``) waiting on its interrupt: (db, run id)."""
    db = tmp_path / "rewind.db"
    rewind(db, "run", MIXED, "--input", '{"log": []}', "--thread", "t", "--json")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    assert record["graph_name"] == "mixed" and record["status"] == "interrupted"
    return db, record["run_id"]


def _wait(client: TestClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        run: dict[str, Any] = client.get(f"/ui/api/runs/{run_id}").json()["run"]
        if not run["live"]:
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.05)


# As `rewind serve` installed the page (no graphs given: found by digest), and as it does now.
PAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "by-digest": lambda graphs: ui_pages(),
    "by-name": lambda graphs: ui_pages(graphs=graphs),
}


@pytest.mark.parametrize("found", list(PAGES))
def test_fork_and_answer_under_another_graph_id(interrupted: tuple[Path, str], found: str) -> None:
    db, run_id = interrupted
    graphs = resolve_graphs({"renamed": MIXED})
    app = create_app(str(db), graphs, pages=PAGES[found](graphs))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        csrf = {CSRF_HEADER: client.get("/ui/api/session").json()["csrf"]}
        assert client.get(f"/ui/api/runs/{run_id}").json()["graph_loaded"] is True
        answered = client.post(
            f"/ui/api/runs/{run_id}/resume", json={"resume": "yes"}, headers=csrf
        )
        assert answered.status_code == 200, answered.text
        resumed = _wait(client, answered.json()["run_id"])
        assert resumed["status"] == "success" and resumed["graph"] == "renamed"
        checkpoints = client.get(f"/ui/api/runs/{run_id}/checkpoints").json()["checkpoints"]
        body = {
            "checkpoint_id": checkpoints[-1]["checkpoint_id"],
            "values": {"log": ["edited"]},
            "as_node": "flaky",
        }
        forked = client.post(f"/ui/api/runs/{run_id}/fork", json=body, headers=csrf)
        assert forked.status_code == 200, forked.text
        fork = _wait(client, forked.json()["run_id"])
        assert fork["status"] == "interrupted" and fork["thread_id"] == "t"
    history = json_lines(rewind(db, "history", "t", "--json"))
    assert "edited" in history[0]["values"]["log"]
    assert any(h["values"]["log"][-1:] == ["answer yes"] for h in history)


def test_a_graph_not_served_is_named(interrupted: tuple[Path, str]) -> None:
    db, run_id = interrupted
    graphs = resolve_graphs({"talker": "tests/ui/agents.py:talker"})
    app = create_app(str(db), graphs, pages=ui_pages())
    with TestClient(app, base_url="http://127.0.0.1") as c:
        csrf = {CSRF_HEADER: c.get("/ui/api/session").json()["csrf"]}
        assert c.get(f"/ui/api/runs/{run_id}").json()["graph_loaded"] is False
        refused = c.post(f"/ui/api/runs/{run_id}/resume", json={"resume": "yes"}, headers=csrf)
        assert refused.status_code == 409 and "'mixed' is not loaded" in refused.json()["detail"]
