"""A chat token is stored without its chunk when the token says it all, and read back whole."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, ToolCallChunk

from rewind.events import EventType, NewEvent, run_started
from rewind.log import open_log, packs

RUN = "0192d0a5-0000-7000-8000-000000000001"


def _token(chunk: Any, token: Any = None) -> dict[str, Any]:
    text = chunk.content if token is None else token
    return {"run_id": RUN, "parent_run_id": None, "token": text, "chunk": chunk}


PLAIN = [
    AIMessageChunk(content="Hel", id=f"lc_run--{RUN}"),  # LangChain's id for the call
    AIMessageChunk(content=" ", id="chatcmpl-42"),  # a provider's id
    AIMessageChunk(content="", id=None),
]
WHOLE = [
    AIMessageChunk(content="x", id=f"lc_run--{RUN}", chunk_position="last"),
    AIMessageChunk(content="x", id="a", response_metadata={"model_provider": "openai"}),
    AIMessageChunk(
        content="x",
        id="a",
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    ),
    AIMessageChunk(
        content="",
        id="a",
        tool_call_chunks=[ToolCallChunk(name="add", args='{"a"', id="call_1", index=0)],
    ),
    AIMessageChunk(content=[{"type": "text", "text": "x"}], id="a"),
    AIMessageChunk(content="x", id="a", name="bot"),
    AIMessageChunk(content="x", id="a", extra_field=1),
]


async def _round_trip(path: Path, payloads: list[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Append ``payloads`` as chat.token events; what reading gives back, and what is stored."""
    store = await open_log(path)
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0, new_run=True)
        events = [NewEvent(type=EventType.CHAT_TOKEN, payload=p) for p in payloads]
        await store.append("r", events, expected_seq=1, durability="sync")
        read = [e.payload for e in await store.read("r", types=[EventType.CHAT_TOKEN])]
    finally:
        await store.aclose()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT payload, packed FROM events WHERE type = 'chat.token' ORDER BY seq"
        ).fetchall()
    # Each token's payload as a row of its own would store it (consecutive ones share a row).
    texts = [t for p, packed in rows for t in ([p] if packed is None else packs.texts(p) or [])]
    return read, [json.loads(t) for t in texts]


@pytest.mark.parametrize("chunk", PLAIN, ids=["derived-id", "provider-id", "no-id"])
async def test_a_plain_chunk_is_stored_as_its_token_and_read_back_equal(
    tmp_path: Path, chunk: AIMessageChunk
) -> None:
    read, stored = await _round_trip(tmp_path / "log.db", [_token(chunk)])
    assert "chunk" not in stored[0]
    assert stored[0]["token"] == chunk.content
    if chunk.id == f"lc_run--{RUN}":
        assert "chunk_id" not in stored[0]  # derived from the run id on reading
    else:
        assert stored[0]["chunk_id"] == chunk.id
    assert read == [_token(chunk)]
    assert list(read[0]) == ["run_id", "parent_run_id", "token", "chunk"]  # as recorded
    assert type(read[0]["chunk"]) is AIMessageChunk
    assert read[0]["chunk"].model_dump() == chunk.model_dump()


@pytest.mark.parametrize("chunk", WHOLE, ids=lambda c: next(iter(c.model_fields_set - {"id"})))
async def test_any_other_chunk_is_stored_whole(tmp_path: Path, chunk: AIMessageChunk) -> None:
    read, stored = await _round_trip(tmp_path / "log.db", [_token(chunk, token="x")])
    assert stored[0]["chunk"]["__rw__"] == "pydantic"
    assert read == [_token(chunk, token="x")]


async def test_a_chunk_whose_text_is_not_the_token_is_stored_whole(tmp_path: Path) -> None:
    chunk = AIMessageChunk(content="abc", id="a")
    read, stored = await _round_trip(tmp_path / "log.db", [_token(chunk, token="ab")])
    assert "chunk" in stored[0]
    assert read == [_token(chunk, token="ab")]


async def test_other_token_payloads_are_stored_as_they_are(tmp_path: Path) -> None:
    # A text-completion model's token (its chunk is the text) and a payload of another shape.
    payloads = [{"run_id": RUN, "token": "x", "chunk": "x"}, "x", {"token": "x", "chunk": None}]
    read, stored = await _round_trip(tmp_path / "log.db", payloads)
    assert read == payloads
    assert stored == payloads


async def test_a_plain_token_is_stored_in_less_than_half_the_bytes(tmp_path: Path) -> None:
    chunk = AIMessageChunk(content="Hel", id=f"lc_run--{RUN}")
    whole = json.dumps(
        {
            "run_id": RUN,
            "parent_run_id": None,
            "token": "Hel",
            "chunk": {
                "__rw__": "pydantic",
                "cls": "langchain_core.messages.ai:AIMessageChunk",
                "v": {"content": "Hel", "id": f"lc_run--{RUN}"},
            },
        },
        separators=(",", ":"),
    )
    _, stored = await _round_trip(tmp_path / "log.db", [_token(chunk)])
    assert len(json.dumps(stored[0], separators=(",", ":"))) < len(whole) / 2


async def test_chunks_read_back_share_no_mutable_field(tmp_path: Path) -> None:
    chunks = [AIMessageChunk(content=t, id=f"lc_run--{RUN}") for t in ("a", "b")]
    read, _ = await _round_trip(tmp_path / "log.db", [_token(c) for c in chunks])
    first, second = (p["chunk"] for p in read)
    first.additional_kwargs["k"] = 1
    first.tool_call_chunks.append(ToolCallChunk(name="f", args="", id="c", index=0))
    assert second.additional_kwargs == {}
    assert second.tool_call_chunks == []
    assert first + second == AIMessageChunk(
        content="ab",
        id=f"lc_run--{RUN}",
        additional_kwargs={"k": 1},
        tool_call_chunks=[ToolCallChunk(name="f", args="", id="c", index=0)],
    )
