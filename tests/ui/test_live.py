"""The run page following a run as it goes (SSE from the log), and a 10,000-event run's page
holding a bounded number of rendered rows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ui.conftest import json_lines, rewind, shot, ui_server

pytestmark = pytest.mark.browser


def _start(url: str, graph: str, text: str) -> tuple[str, str]:
    """Start a run of ``graph`` through the API; (thread id, run id)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        body = {"assistant_id": graph, "input": {"messages": [{"role": "user", "content": text}]}}
        run = client.post(f"/threads/{thread}/runs", json=body)
        assert run.status_code == 200, run.text
        return thread, run.json()["run_id"]


def test_follows_a_live_run(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    count = 400
    with ui_server(db) as url:
        page.goto(f"{url}/ui")
        page.wait_for_selector("#runs")
        _, run_id = _start(url, "talker", f"{count} tokens at 100/s")
        row = page.wait_for_selector(f'#runs-body tr.live[data-run-id="{run_id}"]')
        assert "running" in row.inner_text()
        shot(page, "live-runs")
        page.goto(f"{url}/ui/run/{run_id}#tokens")
        page.wait_for_selector("#run-status .live-dot")
        page.wait_for_function(
            "() => document.querySelectorAll('#calls .token').length > 20", timeout=20_000
        )
        seen_live = page.locator("#calls .token").count()
        shot(page, "live-tokens")
        page.wait_for_selector("body[data-run-ended='1']", timeout=30_000)
        assert seen_live < count  # it was followed while it streamed
        events = json_lines(rewind(db, "tail", run_id, "--json"))
        logged = [e for e in events if e["type"] == "chat.token"]
        texts = page.locator("#calls .call-card .token:not(.empty)").all_inner_texts()
        assert texts == [f"w{i} " for i in range(count)]  # no gap, no duplicate
        seqs = page.eval_on_selector_all("#calls .token", "els => els.map(e => +e.dataset.seq)")
        assert seqs == [e["seq"] for e in logged]
        assert "success" in page.inner_text("#run-status")
        (record,) = [r for r in json_lines(rewind(db, "runs", "--json")) if r["run_id"] == run_id]
        assert page.inner_text("#run-counts") == f"{len(events)} events"
        assert record["status"] == "success"
        page.click("#tab-events")
        page.wait_for_selector("#events .vrow[data-seq='0']")
        shot(page, "live-ended")


def test_runs_list_follows_the_log(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "feed.db"
    rewind(db, "demo")
    listed: list[str] = []
    page.on("request", lambda r: listed.append(r.url) if "/ui/api/runs?" in r.url else None)
    with ui_server(db) as url:
        page.goto(f"{url}/ui")
        page.wait_for_selector("#runs-body tr[data-run-id]")
        _, run_id = _start(url, "talker", "40 tokens at 20/s")
        row = f'#runs-body tr[data-run-id="{run_id}"]'
        page.wait_for_selector(f"{row}.live")
        assert page.locator("#runs-body tr[data-run-id]").first.get_attribute("data-run-id") == (
            run_id  # the newest on top
        )
        page.wait_for_function(  # its event count moves while it runs
            "s => +document.querySelector(s + ' td.num').textContent > 10", arg=row
        )
        page.wait_for_selector(f"{row}:not(.live)", timeout=30_000)
        assert "success" in page.inner_text(row)
        events = json_lines(rewind(db, "tail", run_id, "--json"))
        page.wait_for_function(
            "([s, n]) => document.querySelector(s + ' td.num').textContent === String(n)",
            arg=[row, len(events)],
        )
        page.wait_for_selector(f"#threads li:has-text('{_thread_of(db, run_id)}')")
        shot(page, "runs-feed")
    assert len(listed) == 1, listed  # the list was read once: the rest came over the feed


def _thread_of(db: Path, run_id: str) -> str:
    (record,) = [r for r in json_lines(rewind(db, "runs", "--json")) if r["run_id"] == run_id]
    return str(record["thread_id"])


def test_big_run_renders_a_bounded_number_of_rows(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    question = {"messages": [{"role": "user", "content": "9990 tokens at 0/s"}]}
    rewind(db, "run", "tests/ui/agents.py:talker", "--input", json.dumps(question), "--json")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    total = len(json_lines(rewind(db, "tail", record["run_id"], "--json")))
    assert total >= 10_000
    with ui_server(db) as url:
        page.goto(f"{url}/ui/run/{record['run_id']}#events")
        page.wait_for_selector("#events .vrow[data-seq='0']")
        rows = page.locator("#events .vrow")
        assert 10 <= rows.count() <= 100
        assert page.inner_text("#run-counts") == f"{total} events"
        middle = total // 2
        page.eval_on_selector("#events", f"el => {{ el.scrollTop = {middle} * 24; }}")
        page.wait_for_selector(f"#events .vrow[data-seq='{middle}']")
        assert rows.count() <= 100
        end = total - 1
        page.eval_on_selector("#events", "el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_selector(f"#events .vrow[data-seq='{end}']")
        assert page.inner_text(f"#events .vrow[data-seq='{end}'] .type") == "run.ended"
        assert rows.count() <= 100
        shot(page, "big-run-events")
        page.click("#tab-tokens")
        assert page.locator("#calls .token").count() <= 2000  # the rest behind a button
        assert "more tokens" in page.inner_text("#calls .more")


def test_signs_in_once_with_the_api_key(page: Any, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, _ = demo_db
    with ui_server(db, "--api-key", "page-key") as url:
        page.goto(f"{url}/ui/run/{run_id}")
        page.wait_for_selector("#signin")
        page.fill("#signin input[name=api_key]", "wrong")
        page.click("#signin button")
        page.wait_for_selector("#signin .error:has-text('Wrong API key')")
        shot(page, "sign-in")
        page.fill("#signin input[name=api_key]", "page-key")
        page.click("#signin button")
        page.wait_for_selector("#timeline .bar")
        (cookie,) = page.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.goto(f"{url}/ui")  # the session holds: no second sign-in
        page.wait_for_selector(f'#runs-body tr[data-run-id="{run_id}"]')
        assert page.locator("#signin").count() == 0


def test_answers_an_interrupt_and_marks_the_timeline(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "resume.db"
    spec = "tests/ui/agents.py:mixed"
    rewind(db, "run", spec, "--input", '{"log": []}', "--thread", "t", "--json")
    (first,) = json_lines(rewind(db, "runs", "--json"))
    with ui_server(db) as url:
        page.goto(f"{url}/ui/run/{first['run_id']}")
        page.wait_for_selector("body[data-loaded='1']")
        shot(page, "timeline-marks")
        nodes = page.eval_on_selector_all(
            "#timeline .bar", "els => els.map(e => [e.dataset.node, e.dataset.outcome])"
        )
        assert ["ask", "interrupted"] in nodes and ["flaky", "ok"] in nodes
        assert page.locator("#timeline .bar.depth-1[data-node=inner_step]").count() == 1
        # The subgraph's task sits under the bar of the task that ran it, inside its box.
        box = {
            name: page.locator(selector).bounding_box()
            for name, selector in (
                ("sub", "#timeline .bar[data-node=sub]"),
                ("nest", "#timeline .nest[data-node=sub]"),
                ("inner", "#timeline .bar[data-node=inner_step]"),
                ("flaky", "#timeline .bar[data-node=flaky]"),
            )
        }
        sub, nest, inner, flaky = box["sub"], box["nest"], box["inner"], box["flaky"]
        assert inner["y"] >= sub["y"] + sub["height"]  # under it
        assert nest["y"] <= sub["y"] and inner["y"] + inner["height"] <= nest["y"] + nest["height"]
        assert sub["x"] - 1 <= inner["x"]  # within the span of the task that ran it
        assert inner["x"] + inner["width"] <= sub["x"] + sub["width"] + 1
        assert not nest["y"] <= flaky["y"] < nest["y"] + nest["height"]  # flaky: its own row
        parent = page.get_attribute("#timeline .bar[data-node=inner_step]", "data-parent")
        ran = page.get_attribute("#timeline .bar[data-node=sub]", "data-task-id")
        assert parent and parent == ran
        assert "attempt 2" in page.inner_text("#timeline .bar[data-node=flaky]")
        marks = page.eval_on_selector_all("#timeline .mark", "els => els.map(e => e.dataset.kind)")
        assert "retried" in marks and "interrupted" in marks
        assert page.locator("#timeline .bar[data-node=flaky] .failure").count() == 1
        page.click("#tab-state")
        page.click("#checkpoints li:last-child")
        assert json.loads(page.inner_text("#fork-box .interrupt-value")) == ["ok?"]
        page.fill("#resume-value", '"yes"')
        shot(page, "pending-interrupt")
        page.click("#resume-button")
        page.wait_for_url(lambda u: "/ui/run/" in u and first["run_id"] not in u)
        page.wait_for_function(
            "() => document.querySelector('#run-status')?.textContent.includes('success')",
            timeout=30_000,
        )
        page.wait_for_selector("body[data-loaded='1']")
        marks = page.eval_on_selector_all("#timeline .mark", "els => els.map(e => e.dataset.kind)")
        assert "resumed" in marks
        shot(page, "resumed")
    (state,) = json_lines(rewind(db, "state", "t", "--json"))
    assert state["values"]["log"][-1] == "answer yes"


def test_shows_what_a_redaction_left(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "redacted.db"
    rewind(db, "demo")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    run_id = record["run_id"]
    said = rewind(db, "db", "redact", "--run", run_id, "--type", "chat.*", "--contents-only", "-y")
    count = int(re.search(r"redacted (\d+) events", said)[1])  # type: ignore[index]
    with ui_server(db) as url:
        page.goto(f"{url}/ui/run/{run_id}#tokens")
        page.wait_for_selector("body[data-loaded='1']")
        texts = page.locator("#calls .token:not(.empty)").all_inner_texts()
        assert texts and set(texts) == {"[redacted]"}
        assert "get_weather says" not in page.inner_text("#calls")
        shot(page, "redacted-tokens")
        page.click("#tab-meta")
        assert page.get_attribute("#chain", "data-ok") == "true"
        assert f"({count} redacted)" in page.inner_text("#chain")


def _tabs_text(page: Any) -> dict[str, str]:
    """The text each tab of the open run page shows (the event list's tool call opened)."""
    shown = {}
    for tab in ("timeline", "state", "tokens", "replay", "events", "meta"):
        page.click(f"#tab-{tab}")
        if tab == "replay":
            for mode in ("values", "updates", "messages"):
                page.check(f"#replay-form input[value={mode}]")
            page.click("#replay-button")
            page.wait_for_function(
                "() => document.querySelector('#replay-status').textContent.includes('chunks')"
            )
        if tab == "events":
            page.wait_for_selector("#events .vrow[data-seq='13']")
            page.click("#events .vrow[data-seq='13']")  # get_weather's start: its arguments
            page.wait_for_function(
                "() => document.querySelector('#event-detail').textContent.includes('payload')"
            )
        shown[tab] = page.inner_text("body")
    return shown


def test_shows_payloads_through_the_hook_and_hides_content(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "shown.db"
    rewind(db, "demo")  # recorded with no hook: the log holds every text
    (record,) = json_lines(rewind(db, "runs", "--json"))
    run_id = record["run_id"]
    with ui_server(db, "--redact", "tests/ui/agents.py:mask_paris") as url:
        page.goto(f"{url}/ui/run/{run_id}")
        page.wait_for_selector("body[data-loaded='1']")
        shown = _tabs_text(page)
        assert [tab for tab, text in shown.items() if "Paris" in text] == []
        assert "PLACE" in shown["state"] and "PLACE" in shown["events"]
        assert "through the redaction hook tests/ui/agents.py:mask_paris" in shown["meta"]
    with ui_server(db, "--hide-content") as url:
        page.goto(f"{url}/ui/run/{run_id}#tokens")
        page.wait_for_selector("body[data-loaded='1']")
        assert page.is_visible("#content-hidden")
        texts = page.locator("#calls .token:not(.empty)").all_inner_texts()
        assert texts and set(texts) == {"[redacted]"}
        shot(page, "hidden-content-tokens")
        shown = _tabs_text(page)
        for text in ("Paris", "sunny", "What's the weather", "Here is what I found"):
            assert [tab for tab, said in shown.items() if text in said] == [], text
        assert "get_weather" in shown["timeline"] and "[redacted]" in shown["state"]
        page.click("#tab-state")
        shot(page, "hidden-content-state")
