"""Threads counted and pruned, through the official SDK (async and sync)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.server.conftest import Server

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def test_count_filters_as_search_does(client: Any) -> None:
    tag = uuid.uuid4().hex
    idle = await client.threads.create(metadata={"tag": tag})
    ran = await client.threads.create(metadata={"tag": tag, "ran": True})
    await client.runs.wait(ran["thread_id"], "echo", input={"messages": []})
    asked = await client.threads.create(metadata={"tag": tag, "asked": True})
    await client.runs.wait(asked["thread_id"], "agent", input=HI)  # stops at its interrupt

    assert await client.threads.count(metadata={"tag": tag}) == 3
    assert await client.threads.count(metadata={"tag": tag, "ran": True}) == 1
    assert await client.threads.count(metadata={"tag": tag}, status="interrupted") == 1
    values = {"messages": (await client.threads.get(ran["thread_id"]))["values"]["messages"]}
    assert await client.threads.count(metadata={"tag": tag}, values=values) == 1
    searched = await client.threads.search(metadata={"tag": tag}, status="idle", limit=100)
    counted = await client.threads.count(metadata={"tag": tag}, status="idle")
    assert counted == len(searched) == 2
    assert {t["thread_id"] for t in searched} == {idle["thread_id"], ran["thread_id"]}
    assert await client.threads.count(metadata={"tag": uuid.uuid4().hex}) == 0
    assert await client.threads.count() >= 3


def test_prune_deletes_threads(sync_client: Any) -> None:
    tag = uuid.uuid4().hex
    kept = sync_client.threads.create(metadata={"tag": tag})
    doomed = [sync_client.threads.create(metadata={"tag": tag}) for _ in range(2)]
    sync_client.runs.wait(doomed[0]["thread_id"], "echo", input={"messages": []})
    unknown = str(uuid.uuid4())
    ids = [t["thread_id"] for t in doomed] + [unknown]
    assert sync_client.threads.prune(ids) == {"pruned_count": 2}  # an unknown id is skipped
    assert [t["thread_id"] for t in sync_client.threads.search(metadata={"tag": tag})] == [
        kept["thread_id"]
    ]
    assert sync_client.threads.prune([]) == {"pruned_count": 0}


async def test_prune_keep_latest_keeps_the_newest_state(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "echo", input={"messages": [{"role": "user", "content": "1"}]})
    first = await client.threads.get_state(tid)
    await client.runs.wait(tid, "echo", input={"messages": [{"role": "user", "content": "2"}]})
    # A fork from the first run's end: the second run is left behind.
    await client.runs.wait(
        tid,
        "echo",
        input={"messages": [{"role": "user", "content": "3"}]},
        checkpoint_id=first["checkpoint_id"],
    )
    before = await client.threads.get_state(tid)
    runs = await client.runs.list(tid, limit=10)
    assert len(runs) == 3
    newest, _left_behind, oldest = (r["run_id"] for r in runs)

    assert await client.threads.prune([tid], strategy="keep_latest") == {"pruned_count": 1}
    after = await client.threads.get_state(tid)
    assert after["values"] == before["values"]
    assert after["checkpoint_id"] == before["checkpoint_id"]
    assert [r["run_id"] for r in await client.runs.list(tid, limit=10)] == [newest, oldest]
    assert (await client.threads.get(tid))["thread_id"] == tid


def test_bad_input_gets_a_json_error_naming_it(server: Server) -> None:
    answer = httpx.post(f"{server.url}/threads/prune", json={"thread_ids": ["x"], "strategy": "x"})
    assert answer.status_code == 422 and "strategy" in answer.json()["detail"]
    answer = httpx.post(f"{server.url}/threads/prune", json={})
    assert answer.status_code == 422 and "thread_ids" in answer.json()["detail"]
    answer = httpx.post(f"{server.url}/threads/count", json={"status": "sleeping"})
    assert answer.status_code == 422 and "status" in answer.json()["detail"]
