"""The health checks (``/``, ``/ok``), ``/metrics`` and ``/threads/{t}/storage``, through a
real server: LangGraph's shapes, over rewind's figures."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rewind.server import create_app, load_config
from rewind.server.storage_routes import WRITE_TYPES
from tests.server.conftest import APP, Server, start_server


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own, so its run and request counts are only these tests'."""
    started = start_server(tmp_path_factory.mktemp("meta") / "meta.db")
    yield started
    started.stop()


# --- health -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/ok"])
def test_health_checks_answer_as_langgraphs(server: Server, path: str) -> None:
    skipped = httpx.get(f"{server.url}{path}")
    assert skipped.status_code == 200
    assert skipped.json() == {"ok": True, "services": {"database": "skipped"}}
    checked = httpx.get(f"{server.url}{path}", params={"check_db": 1})
    assert checked.status_code == 200
    assert checked.json() == {"ok": True, "services": {"database": "healthy"}}
    assert httpx.get(f"{server.url}{path}", params={"check_db": 0}).json() == skipped.json()
    bad = httpx.get(f"{server.url}{path}", params={"check_db": "yes"})
    assert bad.status_code == 422 and "check_db" in bad.json()["detail"]


async def test_a_database_that_cannot_be_read_is_unhealthy(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "h.db"), load_config(APP / "langgraph.json"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        assert (await http.get("/ok", params={"check_db": 1})).status_code == 200
        await app.state.service.log.aclose()  # reads now fail
        answer = await http.get("/", params={"check_db": 1})
        assert answer.status_code == 500
        assert answer.json() == {"ok": False, "services": {"database": "unhealthy"}}
        assert (await http.get("/ok")).status_code == 200  # no read: still ok


def test_health_metrics_and_the_api_description_are_open_without_the_key(tmp_path: Path) -> None:
    server = start_server(tmp_path / "k.db", env={"REWIND_API_KEY": "s3cret"})
    try:
        open_paths = ("/", "/ok", "/metrics", "/metrics?format=json", "/ok?check_db=1")
        for path in (*open_paths, "/info", "/docs", "/openapi.json"):
            assert httpx.get(f"{server.url}{path}").status_code == 200, path
        thread_id = str(uuid.uuid4())
        denied = httpx.get(f"{server.url}/threads/{thread_id}/storage")
        assert denied.status_code == 401
        allowed = httpx.get(
            f"{server.url}/threads/{thread_id}/storage", headers={"x-api-key": "s3cret"}
        )
        assert allowed.status_code == 404
    finally:
        server.stop()


# --- metrics ----------------------------------------------------------------------------------


def _json_metrics(server: Server) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/metrics", params={"format": "json"})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _requests(metrics: dict[str, Any], method: str, path: str, status: int) -> int:
    found = [
        r["count"]
        for r in metrics["api"]["http_requests_total"]
        if (r["method"], r["path"], r["status"]) == (method, path, status)
    ]
    return found[0] if found else 0


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_runs_and_requests(own_server: Server) -> None:
    url = own_server.url
    before = _json_metrics(own_server)
    assert set(before) == {"queue", "api"}
    assert before["queue"] == {
        "n_pending": 0,
        "n_running": 0,
        "pending_runs_wait_time_max_secs": None,
        "pending_runs_wait_time_med_secs": None,
        "pending_unblocked_runs_wait_time_max_secs": None,
    }
    wait_path = "/threads/{thread_id}/runs/wait"
    thread_id = httpx.post(f"{url}/threads", json={}).json()["thread_id"]
    done = httpx.post(
        f"{url}/threads/{thread_id}/runs/wait",
        json={"assistant_id": "echo", "input": {"messages": []}},
    )
    assert done.status_code == 200
    assert httpx.post(f"{url}/threads/{uuid.uuid4()}/runs/wait", json={}).status_code == 422
    after = _json_metrics(own_server)
    assert _requests(after, "POST", wait_path, 200) == _requests(before, "POST", wait_path, 200) + 1
    assert _requests(after, "POST", wait_path, 422) == _requests(before, "POST", wait_path, 422) + 1
    assert _requests(after, "POST", "/threads", 200) >= 1
    paths = {r["path"] for r in after["api"]["http_requests_total"]}
    assert "/metrics" not in paths and "/ok" not in paths  # left out, as LangGraph does
    assert not any(re.search(r"[0-9a-f]{8}-", p) for p in paths)  # templates, not ids

    # A slow run running, a second one waiting for it on the same thread.
    slow = {"assistant_id": "slow", "input": {"n": 20}}
    running = httpx.post(f"{url}/threads/{thread_id}/runs", json=slow).json()
    queued = httpx.post(
        f"{url}/threads/{thread_id}/runs", json={**slow, "multitask_strategy": "enqueue"}
    ).json()
    deadline = time.monotonic() + 10
    while (stats := _json_metrics(own_server)["queue"])["n_running"] != 1:
        assert time.monotonic() < deadline, stats
        time.sleep(0.05)
    time.sleep(0.1)
    stats = _json_metrics(own_server)["queue"]
    assert stats["n_pending"] == 1 and stats["n_running"] == 1
    assert stats["pending_runs_wait_time_max_secs"] > 0.1
    assert stats["pending_runs_wait_time_med_secs"] == pytest.approx(
        stats["pending_runs_wait_time_max_secs"], abs=0.5
    )
    assert stats["pending_unblocked_runs_wait_time_max_secs"] is None  # blocked by its thread

    text = httpx.get(f"{url}/metrics")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(text.text)
    assert samples["lg_api_num_running_runs"] == 1
    assert samples["lg_api_num_pending_runs"] == 1
    assert samples["lg_api_pending_runs_wait_time_max"] > 0.1
    assert samples["lg_api_pending_unblocked_runs_wait_time_max"] == 0
    key = f'lg_api_http_requests_total{{method="POST",path="{wait_path}",status="200"}}'
    assert samples[key] == _requests(after, "POST", wait_path, 200)
    latency = "lg_api_http_requests_latency_seconds"
    count = f'{latency}_count{{method="POST",path="{wait_path}"}}'
    inf = f'{latency}_bucket{{method="POST",path="{wait_path}",le="+Inf"}}'
    assert samples[count] == samples[inf] == 2
    assert "# TYPE lg_api_http_requests_latency_seconds histogram" in text.text
    assert "lg_api_workers" not in text.text and "workers" not in stats

    for run in (queued, running):
        cancel = f"{url}/threads/{thread_id}/runs/{run['run_id']}/cancel"
        assert httpx.post(cancel, params={"wait": 1}).status_code in (200, 202, 204)
    deadline = time.monotonic() + 10
    while (stats := _json_metrics(own_server)["queue"])["n_running"] + stats["n_pending"]:
        assert time.monotonic() < deadline, stats
        time.sleep(0.05)
    assert httpx.get(f"{url}/metrics", params={"format": "xml"}).text.startswith("# HELP")


def test_queue_metrics_read_the_run_queue(tmp_path: Path) -> None:
    server = start_server(tmp_path / "q.db", "--queue")
    try:
        run = httpx.post(
            f"{server.url}/runs", json={"assistant_id": "echo", "input": {"messages": []}}
        )
        assert run.status_code == 200
        time.sleep(0.05)
        stats = _json_metrics(server)["queue"]
        assert stats["n_pending"] == 1 and stats["n_running"] == 0  # no worker claims it
        assert stats["pending_unblocked_runs_wait_time_max_secs"] > 0
    finally:
        server.stop()


# --- storage ----------------------------------------------------------------------------------


def _what_the_log_holds(db: Path, thread_id: str) -> dict[str, list[int]]:
    """The thread's figures, read straight from the SQLite file."""
    conn = sqlite3.connect(db)
    try:
        keys = "SELECT run_key FROM runs WHERE thread_id = ?"
        figures = {"checkpoints": [0, 0], "pending_writes": [0, 0], "other_events": [0, 0]}
        for type_, n, size in conn.execute(
            "SELECT type, COALESCE(packed, 1), length(CAST(payload AS BLOB)) FROM events "
            f"WHERE run_key IN ({keys})",
            (thread_id,),
        ):
            name = (
                "checkpoints"
                if type_ == "checkpoint"
                else "pending_writes"
                if type_ in WRITE_TYPES
                else "other_events"
            )
            figures[name][0] += n
            figures[name][1] += size
        states = [
            s
            for (s,) in conn.execute(
                "SELECT state FROM thread_heads WHERE thread_id = ? AND state IS NOT NULL",
                (thread_id,),
            )
        ]
        states += [
            s
            for (s,) in conn.execute(
                f"SELECT state FROM snapshots WHERE run_key IN ({keys})", (thread_id,)
            )
        ]
        figures["channel_values"] = [len(states), sum(len(s.encode()) for s in states)]
        plan = " ".join(
            str(row)
            for query in (
                f"SELECT type FROM events WHERE run_key IN ({keys})",
                f"SELECT state FROM snapshots WHERE run_key IN ({keys})",
            )
            for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", (thread_id,))
        )
        assert "SCAN" not in plan, plan  # the thread's rows only, through keys
        return figures
    finally:
        conn.close()


def test_storage_is_what_the_log_holds_for_the_thread(own_server: Server) -> None:
    url = own_server.url
    thread_id = httpx.post(f"{url}/threads", json={}).json()["thread_id"]
    empty = httpx.get(f"{url}/threads/{thread_id}/storage")
    assert empty.status_code == 200
    assert empty.json() == {
        "thread_id": thread_id,
        "total_bytes": 0,
        "checkpoints": {"count": 0, "bytes": 0},
        "channel_values": {"count": 0, "bytes": 0, "by_channel": {}},
        "pending_writes": {"count": 0, "bytes": 0},
        "other_events": {"count": 0, "bytes": 0},
    }
    totals = []
    for _ in range(2):
        run = httpx.post(
            f"{url}/threads/{thread_id}/runs/wait",
            json={
                "assistant_id": "echo",
                "input": {"messages": [{"role": "user", "content": "x"}]},
            },
        )
        assert run.status_code == 200
        storage = httpx.get(f"{url}/threads/{thread_id}/storage").json()
        held = _what_the_log_holds(own_server.db, thread_id)
        for name in ("checkpoints", "pending_writes", "other_events"):
            assert [storage[name]["count"], storage[name]["bytes"]] == held[name], name
        values = storage["channel_values"]
        assert [values["count"], values["bytes"]] == held["channel_values"]
        assert storage["total_bytes"] == sum(b for _, b in held.values())
        assert storage["checkpoints"]["count"] >= 3  # input, the node's step, ...
        assert storage["pending_writes"]["count"] >= 1  # the node's task.ended
        assert values["count"] >= 1 and "messages" in values["by_channel"]
        channel = values["by_channel"]["messages"]
        assert channel["versions"] >= 1 and 0 < channel["bytes"] < values["bytes"]
        totals.append(storage["total_bytes"])
    assert 0 < totals[0] < totals[1]


def test_storage_of_a_thread_rewind_named(own_server: Server) -> None:
    thread_id = f"named-{uuid.uuid4().hex[:8]}"
    made = httpx.post(f"{own_server.url}/threads", json={"thread_id": thread_id})
    assert made.status_code == 200
    answer = httpx.get(f"{own_server.url}/threads/{thread_id}/storage")
    assert answer.status_code == 200 and answer.json()["total_bytes"] == 0


def test_storage_of_a_bad_or_unknown_thread(own_server: Server) -> None:
    bad = httpx.get(f"{own_server.url}/threads/not-a-uuid/storage")
    assert bad.status_code == 422
    assert bad.json() == {"detail": "Invalid thread ID: must be a UUID"}
    unknown = str(uuid.uuid4())
    missing = httpx.get(f"{own_server.url}/threads/{unknown}/storage")
    assert missing.status_code == 404 and unknown in missing.json()["detail"]
    assert json.loads(missing.text) == httpx.get(f"{own_server.url}/threads/{unknown}").json()
