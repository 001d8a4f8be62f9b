"""Resumable streams: every SSE event's id comes from the log, and a reconnect with
``Last-Event-ID`` continues after it with no gap and no duplicate, live or after the end."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client

from tests.server.conftest import Server, start_server
from tests.server.proxy import CuttingProxy

HI = {"messages": [{"role": "user", "content": "hi"}]}

Part = tuple[str, Any, str | None]


async def _parts(stream: Any) -> list[Part]:
    return [(p.event, p.data, p.id) async for p in stream]


MODES: list[Any] = [
    "values",
    "updates",
    "custom",
    "messages",
    "messages-tuple",
    "debug",
    "tasks",
    "checkpoints",
    "events",
    ["values", "updates", "messages", "messages-tuple", "custom", "debug"],
]


@pytest.mark.parametrize("mode", MODES, ids=str)
async def test_resume_after_any_id_once_ended(client: Any, mode: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    live = await _parts(
        client.runs.stream(tid, "agent", input=HI, stream_mode=mode, stream_subgraphs=True)
    )
    run_id = live[0][1]["run_id"]
    ids = [i for _, _, i in live]
    assert all(ids) and len(set(ids)) == len(ids) and ids == sorted(ids)
    replayed = await _parts(client.runs.join_stream(tid, run_id, last_event_id="-1"))
    assert replayed == live
    n = len(live)
    for cut in sorted({0, 1, n // 3, n // 2, n - 2, n - 1}):
        rest = await _parts(client.runs.join_stream(tid, run_id, last_event_id=ids[cut]))
        assert rest == live[cut + 1 :], f"after event {cut} of {n}"


async def test_an_error_event_is_resumed_too(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    live = await _parts(client.runs.stream(tid, "boom", input={"x": 1}))
    assert live[-1][0] == "error"
    rest = await _parts(
        client.runs.join_stream(tid, live[0][1]["run_id"], last_event_id=live[1][2])
    )
    assert rest == live[2:]


async def test_join_stream_filters_modes_and_sees_nothing_new_after_the_end(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    live = await _parts(
        client.runs.stream(tid, "agent", input=HI, stream_mode=["values", "updates", "custom"])
    )
    run_id = live[0][1]["run_id"]
    only = await _parts(
        client.runs.join_stream(tid, run_id, last_event_id="-1", stream_mode="updates")
    )
    assert only == [p for p in live if p[0] in ("metadata", "updates")]
    assert await _parts(client.runs.join_stream(tid, run_id)) == []


async def test_resume_while_the_run_is_live(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        tid, "slow", input={"n": 6}, stream_mode=["custom", "values"], stream_resumable=True
    )
    first: list[Part] = []
    async for part in client.runs.join_stream(tid, run["run_id"], last_event_id="-1"):
        first.append((part.event, part.data, part.id))
        if len(first) == 3:
            break
    rest = await _parts(client.runs.join_stream(tid, run["run_id"], last_event_id=first[-1][2]))
    whole = await _parts(client.runs.join_stream(tid, run["run_id"], last_event_id="-1"))
    assert first + rest == whole
    assert [d["tick"] for e, d, _ in whole if e == "custom"] == list(range(6))


async def test_a_stream_hands_out_only_events_the_log_holds(server: Server, client: Any) -> None:
    # An id a client saw must name the same event after a crash: so the server streams an
    # event once it is durable. While another connection holds the database's write lock, the
    # run goes on (its node writes a tick every 0.5 s) but nothing it writes is committed, and
    # nothing of it reaches the client; once the lock goes, everything comes, in order.
    tid = (await client.threads.create())["thread_id"]
    arrived: list[tuple[float, int]] = []
    released: list[float] = []
    holder = sqlite3.connect(server.db, isolation_level=None, timeout=10)
    try:

        def release() -> None:
            holder.execute("COMMIT")
            released.append(time.monotonic())

        async for part in client.runs.stream(tid, "slow", input={"n": 4}, stream_mode="custom"):
            if part.event != "custom":
                continue
            arrived.append((time.monotonic(), part.data["tick"]))
            if part.data["tick"] == 0:
                holder.execute("BEGIN IMMEDIATE")  # ticks 1 to 3 are written meanwhile
                asyncio.get_running_loop().call_later(1.7, release)
    finally:
        holder.close()
    assert [tick for _, tick in arrived] == [0, 1, 2, 3]
    assert released and all(at > released[0] for at, _ in arrived[1:])
    state = await client.threads.get_state(tid)
    assert state["values"]["count"] == 4


async def test_the_sdk_reconnects_through_a_cut_connection(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    direct = get_client(url=server.url, api_key=None)
    tid = (await direct.threads.create())["thread_id"]
    # The stream's first connection is cut after its head, its metadata and its first values.
    proxy = CuttingProxy((host, int(port)), cut=1, after_bytes=650)
    client = get_client(url=proxy.url, api_key=None)
    try:
        got = await _parts(
            client.runs.stream(tid, "slow", input={"n": 6}, stream_mode=["custom", "values"])
        )
    finally:
        await client.aclose()
        proxy.close()
    assert proxy.cuts == 1 and proxy.connections >= 2
    try:
        whole = await _parts(direct.runs.join_stream(tid, got[0][1]["run_id"], last_event_id="-1"))
    finally:
        await direct.aclose()
    assert got == whole
    assert [d["tick"] for e, d, _ in got if e == "custom"] == list(range(6))


async def test_on_disconnect_cancel(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    stream = client.runs.stream(
        tid, "slow", input={"n": 20}, stream_mode="custom", on_disconnect="cancel"
    )
    run_id = None
    async for part in stream:
        if part.event == "metadata":
            run_id = part.data["run_id"]
        if part.event == "custom":
            break
    await stream.aclose()
    for _ in range(100):
        if (await client.runs.get(tid, run_id))["status"] == "interrupted":
            break
        await asyncio.sleep(0.05)
    assert (await client.runs.get(tid, run_id))["status"] == "interrupted"


@contextlib.asynccontextmanager
async def _serving(db: Path) -> AsyncIterator[Any]:
    """A client of a server started on ``db``; both are stopped on the way out."""
    server = start_server(db)
    client = get_client(url=server.url, api_key=None)
    try:
        yield client
    finally:
        await client.aclose()
        server.stop()


async def test_resume_after_a_server_restart(tmp_path: Path) -> None:
    async with _serving(tmp_path / "restart.db") as client:
        tid = (await client.threads.create())["thread_id"]
        live = await _parts(
            client.runs.stream(
                tid,
                "agent",
                input=HI,
                stream_mode=["messages", "updates", "custom"],
                stream_subgraphs=True,
            )
        )
    async with _serving(tmp_path / "restart.db") as client:
        run_id, cut = live[0][1]["run_id"], len(live) // 2
        rest = await _parts(client.runs.join_stream(tid, run_id, last_event_id=live[cut][2]))
        state = await client.threads.get_state(tid)
    assert rest == live[cut + 1 :]
    assert state["next"] == ["ask_human"]


async def test_threads_and_their_metadata_outlive_a_restart(tmp_path: Path) -> None:
    """A thread with no run yet, and metadata set on threads, are in the database: a restarted
    server finds, searches and copies them as the first one did; a deleted thread stays gone."""
    async with _serving(tmp_path / "threads.db") as client:
        empty = (await client.threads.create(metadata={"user": "ada"}))["thread_id"]
        used = (await client.threads.create())["thread_id"]
        await _parts(client.runs.stream(used, "agent", input=HI, stream_mode="updates"))
        await client.threads.update(used, metadata={"topic": "weather"})
        gone = (await client.threads.create(metadata={"user": "bob"}))["thread_id"]
        await client.threads.delete(gone)
    async with _serving(tmp_path / "threads.db") as client:
        assert (await client.threads.get(empty))["metadata"] == {"user": "ada"}
        kept = (await client.threads.get(used))["metadata"]
        assert kept["topic"] == "weather" and kept["graph_id"] == "agent"
        found = await client.threads.search(metadata={"user": "ada"})
        assert [t["thread_id"] for t in found] == [empty]
        copied = await client.threads.copy(used)
        assert (await client.threads.get(copied["thread_id"]))["metadata"] == kept
        assert [t["thread_id"] for t in await client.threads.search(metadata={"user": "bob"})] == []


async def test_thread_stream_follows_every_run_and_resumes(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = await _parts(client.runs.stream(tid, "agent", input=HI, stream_mode="updates"))
    second = await _parts(
        client.runs.stream(tid, "agent", command={"resume": "y"}, stream_mode="updates")
    )
    seen: list[Part] = []
    async for part in await client.threads.join_stream(tid, last_event_id="-1"):
        seen.append((part.event, part.data, part.id))
        if len([p for p in seen if p[0] == "metadata" and p[1].get("status")]) == 2:
            break
    # Each run's events, in order, each run closed by run_done.
    names = [e for e, _, _ in seen]
    assert names == [
        *[e for e, _, _ in first],
        "metadata",
        *[e for e, _, _ in second],
        "metadata",
    ]
    assert [d for e, d, _ in seen if e == "updates"] == [
        d for e, d, _ in first + second if e == "updates"
    ]
    ids = [i for _, _, i in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    rest: list[Part] = []
    async for part in await client.threads.join_stream(tid, last_event_id=ids[3]):
        rest.append((part.event, part.data, part.id))
        if len(rest) == len(seen) - 4:
            break
    assert rest == seen[4:]
