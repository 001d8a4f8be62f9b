"""What the page shows of payloads, over HTTP on the real app: the log's redaction hook applied
to a run recorded before the hook was configured (nothing it removes shows through any view),
and hidden content (message texts, tokens, tool arguments gone, structure kept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rewind.cli.pages import load_hook
from rewind.events import REDACTED, NewEvent, StoredEvent
from rewind.log import LogOptions
from rewind.projections.stream import MODES
from rewind.server.serve import resolve_graphs
from rewind.ui import create_ui_app
from rewind.ui.display import Display
from tests.ui.conftest import json_lines, rewind

TEXTS = ("Paris", "sunny", "What's the weather", "Here is what I found")
"""Texts of the demo run's messages (its question, a tool's output, the answer)."""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo run recorded with no redaction hook: (database, run id)."""
    db = tmp_path_factory.mktemp("display") / "rewind.db"
    rewind(db, "demo")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    stored = rewind(db, "tail", record["run_id"], "--json")
    assert all(text in stored for text in TEXTS)  # the log holds them all
    return db, record["run_id"]


def _client(db: Path, **options: Any) -> Iterator[TestClient]:
    graphs = resolve_graphs({"demo-agent": "rewind.cli.demo:graph"})
    with TestClient(create_ui_app(str(db), graphs, **options), base_url="http://127.0.0.1") as c:
        c.get("/ui/api/session")
        yield c


def _everything(client: TestClient, run_id: str) -> dict[str, str]:
    """Every view of the run as the page reads it: path → response text."""
    base = f"/ui/api/runs/{run_id}"
    paths = [base, f"{base}/events?limit=500", f"{base}/timeline", f"{base}/calls"]
    paths.append(f"{base}/checkpoints")
    paths += [f"{base}/replay?mode={mode}&subgraphs=true" for mode in MODES]
    out = {path: client.get(path).text for path in paths}
    total = json.loads(out[f"{base}/events?limit=500"])["total"]
    for seq in range(total):
        out[f"{base}/events/{seq}"] = client.get(f"{base}/events/{seq}").text
    with client.stream("GET", f"{base}/stream") as stream:
        out[f"{base}/stream"] = "".join(stream.iter_text())
    return out


def test_the_hook_applies_to_a_run_recorded_before_it(recorded: tuple[Path, str]) -> None:
    db, run_id = recorded
    hook = load_hook("tests/ui/agents.py:mask_paris")
    for client in _client(db, log_options=LogOptions(redact=hook)):
        shown = _everything(client, run_id)
        meta = json.loads(shown[f"/ui/api/runs/{run_id}"])
        states = json.loads(shown[f"/ui/api/runs/{run_id}/checkpoints"])["checkpoints"]
    leaks = [path for path, text in shown.items() if "Paris" in text]
    assert leaks == []
    assert meta["redaction"] == "mask_paris" and meta["hide_content"] is False
    assert "PLACE" in states[-1]["values"]["messages"][0]["content"]  # the hook's, not dropped
    assert "sunny" in shown[f"/ui/api/runs/{run_id}/calls"]  # what it keeps stays


def test_hidden_content_keeps_the_structure(recorded: tuple[Path, str]) -> None:
    db, run_id = recorded
    for client in _client(db, hide_content=True):
        shown = _everything(client, run_id)
    base = f"/ui/api/runs/{run_id}"
    leaks = sorted({(path, t) for path, text in shown.items() for t in TEXTS if t in text})
    assert leaks == []
    assert json.loads(shown[base])["hide_content"] is True
    events = json_lines(rewind(db, "tail", run_id, "--json"))
    calls = json.loads(shown[f"{base}/calls"])["calls"]
    tokens = [e for e in events if e["type"] == "chat.token"]
    assert sum(len(c["tokens"]) for c in calls) == len(tokens)  # every token, its text hidden
    assert {t["text"] for c in calls for t in c["tokens"] if t["text"]} == {"[redacted]"}
    bars = json.loads(shown[f"{base}/timeline"])["bars"]
    assert [c["name"] for b in bars for c in b["calls"] if c["kind"] == "tool"] == [
        "get_weather",
        "multiply",
    ]
    (multiply,) = [e for e in events if e["type"] == "tool.started" and e["node"] == "tools"][1:]
    detail = json.loads(shown[f"{base}/events/{multiply['seq']}"])
    assert detail["payload"]["name"] == "multiply"
    assert detail["payload"]["input"] == {"a": "[redacted]", "b": "[redacted]"}
    (last,) = json.loads(shown[f"{base}/checkpoints"])["checkpoints"][-1:]
    messages = last["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "tool", "tool", "ai"]
    assert {m["content"] for m in messages} - {""} == {"[redacted]"}
    assert [c["name"] for c in messages[1]["tool_calls"]] == ["get_weather", "multiply"]
    assert messages[1]["tool_calls"][0]["args"] == {"city": "[redacted]"}


def test_a_hook_that_fails_shows_nothing() -> None:
    def broken(event: NewEvent) -> Any:
        raise RuntimeError("no")

    event = StoredEvent(
        run_id="r",
        thread_id="t",
        seq=3,
        position=4,
        type="chat.token",
        payload={"token": "secret", "run_id": "c"},
        ts=datetime.now(UTC),
        step=1,
        ns=None,
        node="agent",
        task_id="x",
        hash=b"",
    )
    assert Display(redact=broken).event(event).payload is REDACTED
    assert event.payload["token"] == "secret"  # (the event read is left as it was)


def test_hidden_content_hides_what_a_nested_run_was_given_and_made() -> None:
    """A prompt's input and a parser's output (a runnable run inside a node) show as
    ``[redacted]``; their run's name and kind stay, and the event list summarises them."""
    from rewind.ui.views import summary_of

    def event(type_: str, payload: dict[str, Any]) -> StoredEvent:
        return StoredEvent(
            run_id="r",
            thread_id="t",
            seq=3,
            position=4,
            type=type_,
            payload=payload,
            ts=datetime.now(UTC),
            step=1,
            ns=None,
            node="write",
            task_id="x",
            hash=b"",
        )

    started = event(
        "chain.started",
        {
            "run_id": "c",
            "name": "ChatPromptTemplate",
            "run_type": "prompt",
            "input": {"topic": "Paris"},
        },
    )
    ended = event("chain.ended", {"run_id": "c", "output": "sunny in Paris", "input": "Paris"})
    hidden = Display(hide_content=True)
    assert hidden.event(started).payload["input"] == {"topic": "[redacted]"}
    assert hidden.event(started).payload["name"] == "ChatPromptTemplate"
    assert hidden.event(ended).payload == {"run_id": "c", "output": REDACTED, "input": REDACTED}
    assert summary_of(started) == "prompt ChatPromptTemplate"
    assert summary_of(ended) == "sunny in Paris"
