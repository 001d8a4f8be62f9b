"""Side by side with LangGraph's server: each stream captured from it (``captures/``, see its
README), requested again from rewind's server with the same graph and body, has the same shape:
the same SSE events in the same order, each with the same payload keys (``events``: the same
LangChain event and name; ``debug``: the same type)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import Server

CAPTURES = Path(__file__).resolve().parent / "captures"
STREAMS = [
    "10_stream_values",
    "10_stream_updates",
    "10_stream_custom",
    "10_stream_messages",
    "10_stream_messages-tuple",
    "10_stream_debug",
    "10_stream_tasks",
    "10_stream_checkpoints",
    "10_stream_events",
    "11_stream_combined",
    "12_stream_subgraphs",
    "16_stream_error",
    "50_messages_complete",
    "50_messages_tuple_complete",
    "51_nested_messages_subgraphs",
    "51_nested_messages_tuple_subgraphs",
    "51_nested_messages_tuple_no_subgraphs",
    "13_interrupt_stream",
    "14_interrupt_before",
    "45_interrupt_after",
    "44_messages_subgraphs",
    "40_stream_resumable",
]


def _events(text: str) -> list[tuple[str, Any]]:
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name = re.search(r"^event: (.*)$", block, re.M)
        data = re.search(r"^data: (.*)$", block, re.M)
        if name:
            out.append((name.group(1), json.loads(data.group(1)) if data else None))
    return out


def _shape(events: list[tuple[str, Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for name, data in events:
        base = name.split("|")[0]
        if base == "events":
            out.append((base, data["event"], data["name"]))
        elif base == "debug":
            out.append((base, data["type"]))
        elif base.startswith("messages"):
            out.append((base, len(name.split("|"))))
        elif isinstance(data, dict):
            out.append((base, len(name.split("|")), tuple(data)))
        else:
            out.append((base, len(name.split("|")), type(data).__name__))
    return out


def test_the_captures_are_those_the_test_uses() -> None:
    """Each stream below has its request and body in ``captures/``, and nothing else is there."""
    names = {
        p.name.rsplit(".", 1)[0] for p in CAPTURES.iterdir() if p.suffix in (".request", ".body")
    }
    assert names == set(STREAMS)
    assert all(
        (CAPTURES / f"{name}.{part}").is_file() for name in STREAMS for part in ("request", "body")
    )


@pytest.mark.parametrize("capture", STREAMS)
def test_streams_have_the_reference_servers_shape(server: Server, capture: str) -> None:
    request = (CAPTURES / f"{capture}.request").read_text()
    body = json.loads(request.strip().splitlines()[-1])
    thread = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
    response = httpx.post(f"{server.url}/threads/{thread}/runs/stream", json=body, timeout=60)
    ours = _shape(_events(response.text))
    theirs = _shape(_events((CAPTURES / f"{capture}.body").read_text()))
    assert ours == theirs
