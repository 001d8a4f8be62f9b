"""Load: many concurrent streaming runs with token-streaming models; every client gets every
event exactly once, in order (its live stream equals the run's replay from the log)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langgraph_sdk import get_client

from tests.server.conftest import Server

MODES = ["messages-tuple", "values", "updates"]
WORDS = " ".join(f"w{i}" for i in range(20))  # what the chatty graph's model says


async def _one(client: Any, n: int) -> tuple[str, str, list[tuple[str, Any, str | None]]]:
    thread = await client.threads.create(metadata={"load": n})
    parts = [
        (p.event, p.data, p.id)
        async for p in client.runs.stream(
            thread["thread_id"],
            "chatty",
            input={"messages": [{"role": "user", "content": f"client {n}"}]},
            stream_mode=MODES,
        )
    ]
    return thread["thread_id"], parts[0][1]["run_id"], parts


async def _load(server: Server, clients: int) -> None:
    pool = [get_client(url=server.url, api_key=None) for _ in range(-(-clients // 50))]
    try:
        results = await asyncio.gather(*(_one(pool[n % len(pool)], n) for n in range(clients)))
        for thread_id, run_id, parts in results:
            ids = [i for _, _, i in parts]
            assert all(ids) and len(set(ids)) == len(ids) and ids == sorted(ids)
            tokens = [d[0]["content"] for e, d, _ in parts if e == "messages"]
            assert "".join(tokens) == WORDS and len(tokens) > 20
            assert parts[-1][0] == "values" and parts[-1][1]["messages"][-1]["content"] == WORDS
            replay = [
                (p.event, p.data, p.id)
                async for p in pool[0].runs.join_stream(thread_id, run_id, last_event_id="-1")
            ]
            assert parts == replay
    finally:
        for client in pool:
            await client.aclose()


async def test_50_concurrent_token_streams(server: Server) -> None:
    await _load(server, 50)


@pytest.mark.server_load
async def test_200_concurrent_token_streams(server: Server) -> None:
    await _load(server, 200)
