"""The page's guard and its JSON errors, over HTTP on the real app (no browser): the Host check,
the API key's sign-in and session cookie (SSE included), CSRF, and bad input named clearly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rewind.server.serve import resolve_graphs
from rewind.ui import create_ui_app
from rewind.ui.security import COOKIE, CSRF_HEADER
from tests.ui.conftest import json_lines, rewind

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("guard") / "rewind.db"
    rewind(db, "demo")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    return db, record["run_id"]


def _client(db: Path, **options: Any) -> TestClient:
    graphs = resolve_graphs({"demo-agent": "rewind.cli.demo:graph"})
    app = create_ui_app(str(db), graphs, **options)
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def keyed(recorded: tuple[Path, str]) -> Iterator[TestClient]:
    with _client(recorded[0], api_key=KEY) as client:
        yield client


@pytest.fixture
def open_page(recorded: tuple[Path, str]) -> Iterator[TestClient]:
    with _client(recorded[0], api_key="") as client:
        yield client


def test_sign_in_with_the_api_key(keyed: TestClient, recorded: tuple[Path, str]) -> None:
    _, run_id = recorded
    assert keyed.get("/ui").status_code == 200  # the page itself, which asks for the key
    assert keyed.get("/ui/api/runs").status_code == 401
    assert keyed.get("/ui/api/session").json() == {"signed_in": False, "needs_key": True}
    wrong = keyed.post("/ui/api/session", json={"api_key": "nope"})
    assert wrong.status_code == 401 and "Wrong API key" in wrong.json()["detail"]
    signed = keyed.post("/ui/api/session", json={"api_key": KEY})
    assert signed.status_code == 200
    cookie = signed.headers["set-cookie"]
    assert COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    runs = keyed.get("/ui/api/runs").json()["runs"]
    assert [r["run_id"] for r in runs] == [run_id]
    with keyed.stream("GET", f"/ui/api/runs/{run_id}/stream") as stream:  # SSE: the cookie
        assert stream.status_code == 200
        body = "".join(stream.iter_text())
    assert body.count("event: event") == runs[0]["events"] and "event: end" in body
    # The API still wants its key: the session is the page's only.
    assert keyed.get("/threads/x/state").status_code == 401
    assert keyed.get("/info", headers={"x-api-key": KEY}).status_code == 200


def test_csrf(keyed: TestClient, recorded: tuple[Path, str]) -> None:
    _, run_id = recorded
    csrf = keyed.post("/ui/api/session", json={"api_key": KEY}).json()["csrf"]
    body = {"checkpoint_id": "nope"}
    refused = keyed.post(f"/ui/api/runs/{run_id}/fork", json=body)
    assert refused.status_code == 403 and CSRF_HEADER in refused.json()["detail"]
    foreign = keyed.post(
        f"/ui/api/runs/{run_id}/fork",
        json=body,
        headers={CSRF_HEADER: csrf, "origin": "http://evil.example"},
    )
    assert foreign.status_code == 403 and "Origin" in foreign.json()["detail"]
    allowed = keyed.post(f"/ui/api/runs/{run_id}/fork", json=body, headers={CSRF_HEADER: csrf})
    assert allowed.status_code == 404  # past the guard: the checkpoint is what is wrong
    assert "no checkpoint 'nope'" in allowed.json()["detail"]


def test_trace_link(recorded: tuple[Path, str]) -> None:
    db, run_id = recorded
    template = "http://127.0.0.1:6006/projects/default/traces/{trace_id}"
    with _client(db, api_key="", trace_url=template) as client:
        client.get("/ui/api/session")  # (a session starts there)
        meta = client.get(f"/ui/api/runs/{run_id}").json()
    assert meta["trace_id"] == run_id.replace("-", "")  # a run's own trace id, its UUID
    assert meta["trace_url"] == template.replace("{trace_id}", meta["trace_id"])


def test_host_header(open_page: TestClient) -> None:
    refused = open_page.get("/ui", headers={"host": "rebound.example:8765"})
    assert refused.status_code == 421 and "rebound.example" in refused.json()["detail"]
    assert open_page.get("/ui", headers={"host": "localhost:8765"}).status_code == 200
    assert open_page.get("/ui", headers={"host": "[::1]:8765"}).status_code == 200


def test_a_host_name_allowed(recorded: tuple[Path, str]) -> None:
    with _client(recorded[0], api_key="", allowed_hosts=["Agents.Internal"]) as client:
        assert client.get("/ui", headers={"host": "agents.internal:8765"}).status_code == 200
        assert client.get("/ui", headers={"host": "other.internal"}).status_code == 421


def test_bad_input_is_named(open_page: TestClient, recorded: tuple[Path, str]) -> None:
    _, run_id = recorded
    csrf = open_page.get("/ui/api/session").json()["csrf"]
    unknown = open_page.get("/ui/api/runs/no-such-run/timeline")
    assert unknown.status_code == 404 and "no-such-run" in unknown.json()["detail"]
    status = open_page.get("/ui/api/runs", params={"status": "done"})
    assert status.status_code == 422 and "status" in status.json()["detail"]
    when = open_page.get("/ui/api/runs", params={"after": "yesterday"})
    assert when.status_code == 422 and "after" in when.json()["detail"]
    mode = open_page.get(f"/ui/api/runs/{run_id}/replay", params={"mode": "everything"})
    assert mode.status_code == 422 and "everything" in mode.json()["detail"]
    start = open_page.get(f"/ui/api/runs/{run_id}/replay", params={"from": "nope"})
    assert start.status_code == 422 and "nope" in start.json()["detail"]
    malformed = open_page.post(
        f"/ui/api/runs/{run_id}/fork", json={"values": {}}, headers={CSRF_HEADER: csrf}
    )
    assert malformed.status_code == 422 and "checkpoint_id" in malformed.json()["detail"]
    assert open_page.get("/ui/api/runs/no-such-run/events/0").status_code == 404
    # Nothing of the run was lost or added by the bad requests.
    events = open_page.get(f"/ui/api/runs/{run_id}/events", params={"limit": 500}).json()
    assert events["total"] == len(events["events"]) and events["events"][-1]["type"] == "run.ended"


def test_on_a_postgresql_log(tmp_path: Path) -> None:
    import time

    from tests.pg import create_database, drop_database, name_for

    name = name_for(str(tmp_path))
    url = create_database(name)
    try:
        _rewind_url(url, "demo")
        (record,) = json_lines(_rewind_url(url, "runs", "--json"))
        run_id = record["run_id"]
        graphs = resolve_graphs({"demo-agent": "rewind.cli.demo:graph"})
        with TestClient(create_ui_app(url, graphs), base_url="http://127.0.0.1") as client:
            csrf = client.get("/ui/api/session").json()["csrf"]
            assert [r["run_id"] for r in client.get("/ui/api/runs").json()["runs"]] == [run_id]
            bars = client.get(f"/ui/api/runs/{run_id}/timeline").json()["bars"]
            assert [b["node"] for b in bars] == ["__start__", "agent", "tools", "agent"]
            checkpoints = client.get(f"/ui/api/runs/{run_id}/checkpoints").json()["checkpoints"]
            replayed = client.get(f"/ui/api/runs/{run_id}/replay", params={"mode": "updates"})
            printed = json_lines(_rewind_url(url, "replay", run_id, "-m", "updates", "--json"))
            assert replayed.json()["chunks"] == printed
            body = {
                "checkpoint_id": checkpoints[1]["checkpoint_id"],
                "values": {"messages": [{"role": "user", "content": "And in London?"}]},
            }
            made = client.post(
                f"/ui/api/runs/{run_id}/fork", json=body, headers={CSRF_HEADER: csrf}
            ).json()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                run = client.get(f"/ui/api/runs/{made['run_id']}").json()["run"]
                if run["status"] != "running":
                    break
                time.sleep(0.1)
            assert run["status"] == "success" and run["thread_id"] == record["thread_id"]
    finally:
        drop_database(name)


def _rewind_url(url: str, *args: str) -> str:
    import subprocess
    import sys

    from tests.ui.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "rewind.cli", "--db", url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_runs_the_page_starts_go_through_the_redaction_hook(recorded: tuple[Path, str]) -> None:
    import time

    from rewind.cli.pages import load_hook
    from rewind.log import LogOptions

    db, run_id = recorded
    hook = load_hook("tests/ui/agents.py:mask_tokens")
    graphs = resolve_graphs({"demo-agent": "rewind.cli.demo:graph"})
    app = create_ui_app(str(db), graphs, log_options=LogOptions(redact=hook))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        csrf = client.get("/ui/api/session").json()["csrf"]
        meta = client.get(f"/ui/api/runs/{run_id}").json()
        assert meta["redaction"] == "mask_tokens"
        checkpoints = client.get(f"/ui/api/runs/{run_id}/checkpoints").json()["checkpoints"]
        body = {
            "checkpoint_id": checkpoints[1]["checkpoint_id"],
            "values": {"messages": [{"role": "user", "content": "And in Tokyo?"}]},
        }
        made = client.post(f"/ui/api/runs/{run_id}/fork", json=body, headers={CSRF_HEADER: csrf})
        forked = made.json()["run_id"]
        deadline = time.monotonic() + 30
        while client.get(f"/ui/api/runs/{forked}").json()["run"]["live"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        calls = client.get(f"/ui/api/runs/{forked}/calls").json()["calls"]
        texts = {t["text"] for c in calls for t in c["tokens"] if t["text"]}
        assert texts == {"[masked]"}
        before = client.get(f"/ui/api/runs/{run_id}/calls").json()["calls"]
        assert {t["text"] for c in before for t in c["tokens"] if t["text"]} == {"[masked]"}
    # The log holds the fork's tokens masked; the run before the hook keeps its own (the page
    # shows them through the hook: tests/ui/test_display.py).
    stored = {}
    for run in (run_id, forked):
        events = json_lines(rewind(db, "tail", run, "--json"))
        stored[run] = {e["payload"]["token"] for e in events if e["type"] == "chat.token"}
    assert "[masked]" in stored[forked] and "[masked]" not in stored[run_id]


def test_runs_paged_and_filtered(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    rewind(db, "demo")
    rewind(db, "demo")
    newest, oldest = json_lines(rewind(db, "runs", "--json"))
    with _client(db, api_key="") as client:
        client.get("/ui/api/session")
        first = client.get("/ui/api/runs", params={"limit": 1}).json()
        assert [r["run_id"] for r in first["runs"]] == [newest["run_id"]]
        second = client.get("/ui/api/runs", params={"limit": 1, "before": first["next_before"]})
        assert [r["run_id"] for r in second.json()["runs"]] == [oldest["run_id"]]
        assert second.json()["next_before"] is None
        thread = client.get("/ui/api/runs", params={"thread": oldest["thread_id"]}).json()
        assert [r["run_id"] for r in thread["runs"]] == [oldest["run_id"]]
        after = client.get("/ui/api/runs", params={"after": oldest["created_at"]}).json()
        assert [r["run_id"] for r in after["runs"]] == [newest["run_id"]]
        graph = client.get("/ui/api/runs", params={"graph": "no-such-graph"}).json()
        assert graph["runs"] == []
        done = client.get("/ui/api/runs", params={"status": "success"}).json()
        assert len(done["runs"]) == 2
        threads = client.get("/ui/api/threads").json()["threads"]
        assert {t["thread_id"] for t in threads} == {newest["thread_id"], oldest["thread_id"]}
