"""The run page in Chromium, on a recorded run of the demo agent: each view checked against
what the log says (read through the ``rewind`` command, not through the page's API)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import json_lines, rewind, shot

pytestmark = pytest.mark.browser


def _events(db: Path, run_id: str) -> list[dict[str, Any]]:
    return json_lines(rewind(db, "tail", run_id, "--json"))


def _open_run(page: Any, server: str, run_id: str) -> None:
    page.goto(f"{server}/ui")
    page.wait_for_selector(f'#runs-body tr[data-run-id="{run_id}"]')
    shot(page, "runs")
    page.click(f'#runs-body tr[data-run-id="{run_id}"] a[data-link]')
    page.wait_for_url(f"**/ui/run/{run_id}*")
    page.wait_for_selector("body[data-loaded='1']")  # every view read
    page.wait_for_selector("#timeline .bar")


def test_runs_list_shows_the_run(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    _, run_id, thread = demo_db
    page.goto(f"{server}/ui")
    row = page.wait_for_selector(f'#runs-body tr[data-run-id="{run_id}"]')
    assert "success" in row.inner_text()
    assert thread in row.inner_text()
    page.fill("#filters input[name=thread]", "no-such-thread")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#runs-body td.muted")
    assert page.locator("#runs-body tr[data-run-id]").count() == 0


def test_timeline_bars(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, _ = demo_db
    _open_run(page, server, run_id)
    shot(page, "timeline")
    events = _events(db, run_id)
    tasks = [e["node"] for e in events if e["type"] == "task.started" and e["node"] != "__start__"]
    bars = page.eval_on_selector_all(
        "#timeline .bar",
        """els => els.map(e => ({
            node: e.dataset.node, outcome: e.dataset.outcome,
            x: e.getBoundingClientRect().x, width: e.getBoundingClientRect().width,
            calls: [...e.querySelectorAll('.call')].map(c => c.dataset.kind + ':' + c.dataset.name)
        }))""",
    )
    assert [b["node"] for b in bars] == tasks
    assert all(b["outcome"] == "ok" and b["width"] > 0 for b in bars)
    assert [b["x"] for b in bars] == sorted(b["x"] for b in bars)  # in the order they ran
    tools = [f"tool:{e['payload']['name']}" for e in events if e["type"] == "tool.started"]
    chats = [e["node"] for e in events if e["type"] == "chat.started"]
    assert [c for b in bars for c in b["calls"] if c.startswith("tool:")] == tools
    assert [b["node"] for b in bars for c in b["calls"] if c.startswith("chat:")] == chats


def test_state_diff(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, thread = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-state")
    page.wait_for_selector("#checkpoint-detail [data-key=messages]")
    shot(page, "state")
    (state,) = json_lines(rewind(db, "state", thread, "--json"))
    history = json_lines(rewind(db, "history", thread, "--json"))
    before = history[1]["values"]["messages"]  # the checkpoint before the newest
    messages = state["values"]["messages"]
    block = page.locator("#checkpoint-detail [data-key=messages]")
    assert block.get_attribute("data-change") == "changed"
    shown = block.locator(".msg")
    assert shown.count() == len(messages)
    marks = [shown.nth(i).get_attribute("data-mark") for i in range(shown.count())]
    old_ids = {m["id"] for m in before}
    assert marks == ["same" if m["id"] in old_ids else "added" for m in messages]
    last = shown.nth(len(messages) - 1).inner_text()
    assert messages[-1]["content"] in last
    # The first checkpoint (the input's) added the key; picking it shows that.
    page.click("#checkpoints li[data-index='0']")
    assert page.get_attribute("#checkpoint-detail [data-key=messages]", "data-change") == "added"


def test_token_playback(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, _ = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-tokens")
    events = _events(db, run_id)
    calls = [e["payload"]["run_id"] for e in events if e["type"] == "chat.started"]
    cards = page.locator("#calls .call-card")
    assert cards.count() == len(calls)
    for i, call in enumerate(calls):
        tokens = [
            e["payload"]["token"]
            for e in events
            if e["type"] == "chat.token" and e["payload"]["run_id"] == call
        ]
        card = cards.nth(i)
        assert card.get_attribute("data-call-id") == call
        spans = card.locator(".token")
        assert spans.count() == len(tokens)
        texts = [t for t in tokens if t]
        assert "".join(card.locator(".token:not(.empty)").all_inner_texts()) == "".join(texts)
        (ended,) = [
            e for e in events if e["type"] == "chat.ended" and e["payload"]["run_id"] == call
        ]
        usage = ended["payload"]["generations"][0][0]["usage_metadata"]
        assert f"output_tokens {usage['output_tokens']}" in card.locator(".usage").inner_text()
    answer = cards.nth(len(calls) - 1)
    answer.locator(".speed").select_option("16")
    answer.locator(".play").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#calls .call-card')[n].querySelector('.playing') === null",
        arg=len(calls) - 1,
    )
    last = [e for e in events if e["type"] == "chat.token" and e["payload"]["run_id"] == calls[-1]]
    assert answer.locator(".token").count() == len(last)
    shot(page, "tokens")


@pytest.mark.parametrize("checkpoint", [None, 2])
def test_replayed_modes_match_rewind_replay(
    page: Any, server: str, demo_db: tuple[Path, str, str], checkpoint: int | None
) -> None:
    db, run_id, _ = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-replay")
    for mode in ("values", "updates", "messages"):
        page.check(f"#replay-form input[value={mode}]")
    if checkpoint is not None:
        page.select_option("#replay-from", index=checkpoint)
    page.click("#replay-button")
    page.wait_for_function(
        "() => document.querySelector('#replay-status').textContent.includes('chunks')"
    )
    shown = [json.loads(text) for text in page.locator("#replay-output .chunk").all_inner_texts()]
    command = shlex.split(page.inner_text("#replay-command"))
    assert command[:3] == ["rewind", "replay", run_id] and "--json" in command
    printed = json_lines(rewind(db, *command[1:]))
    assert shown == printed
    assert len(printed) > 0
    shot(page, "replay" if checkpoint is None else "replay-from-checkpoint")


def test_metadata_and_hash_chain(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, _ = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-meta")
    events = _events(db, run_id)
    assert page.get_attribute("#chain", "data-ok") == "true"
    assert f"{len(events)} events intact" in page.inner_text("#chain")
    assert page.inner_text("#graph-digest") == events[0]["payload"]["graph_digest"]
    assert page.inner_text("#trace-id") == run_id.replace("-", "")  # a run's own trace id
    shot(page, "metadata")


def test_events_list(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, _ = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-events")
    page.wait_for_selector("#events .vrow[data-seq='0']")
    events = _events(db, run_id)
    rows = page.locator("#events .vrow[data-seq]")
    shown = [rows.nth(i).locator(".type").inner_text() for i in range(rows.count())]
    assert shown == [e["type"] for e in events][: len(shown)]
    page.click("#events .vrow[data-seq='6']")
    page.wait_for_function(
        "() => document.querySelector('#event-detail').textContent.includes('payload')"
    )
    detail = json.loads(page.inner_text("#event-detail"))
    assert detail["type"] == events[6]["type"] and detail["seq"] == 6
    shot(page, "events")


def test_fork_from_a_checkpoint(page: Any, server: str, demo_db: tuple[Path, str, str]) -> None:
    db, run_id, thread = demo_db
    _open_run(page, server, run_id)
    page.click("#tab-state")
    page.click("#checkpoints li[data-index='1']")  # step 0: the question asked
    page.fill("#fork-values", '{"messages": [{"role": "user", "content": "And in Tokyo?"}]}')
    page.click("#fork-button")
    page.wait_for_url(lambda url: "/ui/run/" in url and run_id not in url)
    forked = page.url.split("/ui/run/")[1].split("#")[0]
    page.wait_for_function(
        "() => document.querySelector('#run-status')?.textContent.includes('success')",
        timeout=30_000,
    )
    page.wait_for_selector("body[data-loaded='1']")  # the views read after its end
    page.click("#tab-state")
    page.wait_for_selector("#checkpoint-detail .msg")
    shot(page, "fork")
    texts = page.locator("#checkpoint-detail .msg").all_inner_texts()
    assert any("And in Tokyo?" in t for t in texts)
    records = {r["run_id"]: r for r in json_lines(rewind(db, "runs", "--json"))}
    assert records[forked]["thread_id"] == thread
    assert records[forked]["status"] == "success"
    (state,) = json_lines(rewind(db, "state", thread, "--json"))
    assert state["run_id"] == forked
    assert state["values"]["messages"][-1]["content"] in texts[-1]
