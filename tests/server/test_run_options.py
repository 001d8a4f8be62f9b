"""A run request's ``on_completion``, ``checkpoint_during`` and ``feedback_keys``, through the
official SDK: on ``rewind serve`` (runs in its own process) and, for ``on_completion`` and
webhooks, on ``rewind serve --queue`` with a ``rewind worker``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from rewind import open_log
from rewind.events import EventType
from tests.server.conftest import Server, start_server
from tests.server.test_webhooks import ALLOWING, Receiver, Worker, verified

MESSAGE = {"messages": [{"role": "user", "content": "hi"}]}


async def _status(client: Any, thread_id: str) -> int:
    try:
        await client.threads.get(thread_id)
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


async def _until_gone(client: Any, thread_id: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while await _status(client, thread_id) != 404:
        assert time.monotonic() < deadline, f"thread {thread_id} is still there"
        await asyncio.sleep(0.05)


async def _check_on_completion(client: Any) -> None:
    """A thread-less run's thread goes once it ended (by default); ``keep`` keeps it; a wait
    and a stream get their whole answer either way."""
    run = await client.runs.create(None, "echo", input=MESSAGE)
    assert run["kwargs"]["temporary"] is True
    await client.runs.join(run["thread_id"], run["run_id"])
    await _until_gone(client, run["thread_id"])
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await client.runs.get(run["thread_id"], run["run_id"])
    assert caught.value.response.status_code == 404

    kept = await client.runs.create(None, "echo", input=MESSAGE, on_completion="keep")
    assert kept["kwargs"]["temporary"] is False
    await client.runs.join(kept["thread_id"], kept["run_id"])
    await asyncio.sleep(0.3)  # (a deletion would have come by now)
    thread = await client.threads.get(kept["thread_id"])
    assert thread["values"]["messages"][-1]["content"] == "echo!"
    assert (await client.runs.get(kept["thread_id"], kept["run_id"]))["status"] == "success"

    output = await client.runs.wait(None, "echo", input=MESSAGE)
    assert output["messages"][-1]["content"] == "echo!"
    parts = [p async for p in client.runs.stream(None, "echo", input=MESSAGE)]
    assert [p.event for p in parts] == ["metadata", "values", "values"]
    assert parts[-1].data["messages"][-1]["content"] == "echo!"


async def test_a_thread_less_run_s_thread_is_deleted_unless_kept(
    server: Server, connect: Callable[[str], Any]
) -> None:
    await _check_on_completion(connect(server.url))


async def test_a_thread_run_keeps_its_thread_whatever_on_completion_says(
    server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(server.url)
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "echo", input=MESSAGE)
    assert run["kwargs"]["temporary"] is False
    await client.runs.join(thread["thread_id"], run["run_id"])
    await asyncio.sleep(0.3)
    assert await _status(client, thread["thread_id"]) == 200


@pytest.mark.server_processes
async def test_with_a_queue_on_completion_and_webhooks_apply_too(
    tmp_path: Path, connect: Callable[[str], Any]
) -> None:
    """The worker ends the run: it sends the webhook; the server deletes the thread."""
    db = tmp_path / "queued.db"
    receiver = Receiver()
    server = await asyncio.to_thread(start_server, db, "--queue", env=ALLOWING)
    try:
        worker = await asyncio.to_thread(Worker, db, ALLOWING, tmp_path / "worker.log")
        try:
            client = connect(server.url)
            await _check_on_completion(client)
            thread = await client.threads.create()
            output = await client.runs.wait(
                thread["thread_id"], "echo", input=MESSAGE, webhook=receiver.url
            )
            (delivery,) = await asyncio.to_thread(receiver.wait_for, 1)
        finally:
            worker.stop()
    finally:
        server.stop()
        receiver.close()
    body = verified(delivery)
    assert (body["thread_id"], body["status"], body["values"]) == (
        thread["thread_id"],
        "success",
        output,
    )


async def test_checkpoint_during_maps_to_durability(
    server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(server.url)
    thread = await client.threads.create()
    cases: list[tuple[dict[str, Any], str, bool]] = [
        ({"checkpoint_during": False}, "exit", False),
        ({"checkpoint_during": True}, "async", True),
        ({}, "async", True),
        ({"checkpoint_during": False, "durability": "sync"}, "sync", False),
    ]
    made = []
    for given, durability, during in cases:
        if "checkpoint_during" in given:
            with pytest.warns(DeprecationWarning, match="checkpoint_during"):
                run = await client.runs.create(thread["thread_id"], "echo", input=MESSAGE, **given)
        else:
            run = await client.runs.create(thread["thread_id"], "echo", input=MESSAGE, **given)
        await client.runs.join(thread["thread_id"], run["run_id"])
        assert run["kwargs"]["durability"] == durability
        assert run["kwargs"]["checkpoint_during"] is during
        made.append((run["run_id"], durability))
    log = await open_log(str(server.db))
    try:
        for run_id, durability in made:
            (started,) = await log.read(run_id, types=[EventType.RUN_STARTED], limit=1)
            assert started.payload["durability"] == durability  # what the runtime ran with
    finally:
        await log.aclose()


async def test_feedback_keys_are_accepted_and_shown(
    server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(server.url)
    thread = await client.threads.create()
    async with httpx.AsyncClient(base_url=server.url) as raw:
        answer = await raw.post(
            f"/threads/{thread['thread_id']}/runs",
            json={"assistant_id": "echo", "input": MESSAGE, "feedback_keys": ["helpful"]},
        )
    assert answer.status_code == 200
    run = answer.json()
    assert run["kwargs"]["feedback_keys"] == ["helpful"]
    await client.runs.join(thread["thread_id"], run["run_id"])
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
