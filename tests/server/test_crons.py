"""Crons through the official SDK (async and sync) on ``rewind serve``: every method, bad input,
firings on second-resolution schedules (on a thread, and on a thread of their own each), missed
ticks, ``end_time``; and two ``rewind serve`` processes sharing one PostgreSQL database or one
SQLite file, where each tick fires exactly once."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from langgraph_sdk import get_sync_client

from rewind import open_log
from rewind.events import RunStatus
from rewind.server.app import create_app
from rewind.server.crons import Cron, CronScheduler, new_cron_id, next_tick
from rewind.server.runs import assistant_id_of
from rewind.server.serve import resolve_graphs
from tests import pg
from tests.server.conftest import APP, Server, start_server
from tests.server.test_webhooks import ALLOWING, Receiver

MESSAGE = {"messages": [{"role": "user", "content": "hi"}]}
ECHO = assistant_id_of("echo")


@pytest.fixture(scope="module")
def cron_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose crons' webhooks may reach the tests' loopback receiver."""
    started = start_server(tmp_path_factory.mktemp("crons") / "rewind.db", env=ALLOWING)
    yield started
    started.stop()


async def _refused(status: int, detail: str, call: Awaitable[Any]) -> None:
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await call
    assert caught.value.response.status_code == status
    assert detail in caught.value.response.json()["detail"]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- records ----------------------------------------------------------------------------------


async def test_every_method_of_the_async_client(
    cron_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(cron_server.url)
    tag = {"test": uuid.uuid4().hex}
    thread = await client.threads.create()
    before = datetime.now(UTC)
    made = await client.crons.create_for_thread(
        thread["thread_id"],
        "echo",
        schedule="0 9 * * *",
        input=MESSAGE,
        metadata=tag,
        timezone="America/New_York",
    )
    uuid.UUID(made["cron_id"])
    assert made["thread_id"] == thread["thread_id"]
    assert made["assistant_id"] == ECHO
    assert (made["on_run_completed"], made["enabled"], made["user_id"]) == (None, True, "")
    assert (made["end_time"], made["timezone"], made["metadata"]) == (None, "America/New_York", tag)
    assert made["payload"]["input"] == MESSAGE
    assert made["payload"]["config"]["configurable"]["cron_id"] == made["cron_id"]
    first = _at(made["next_run_date"])
    assert before < first <= before + timedelta(days=1)
    assert first.astimezone(ZoneInfo("America/New_York")).timetuple()[3:6] == (9, 0, 0)
    assert await client.crons.count(thread_id=thread["thread_id"]) == 1

    ends = datetime.now(UTC) + timedelta(days=2)
    stateless = await client.crons.create(
        "echo", schedule="*/5 * * * *", metadata=tag, end_time=ends, input=MESSAGE
    )
    assert (stateless["thread_id"], stateless["on_run_completed"]) == (None, "delete")
    assert _at(stateless["next_run_date"]).minute % 5 == 0
    assert _at(stateless["end_time"]) == ends
    kept = await client.crons.create(
        ECHO, schedule="0 0 1 1 *", on_run_completed="keep", enabled=False, metadata=tag
    )
    assert (kept["on_run_completed"], kept["enabled"]) == ("keep", False)

    ids = [kept["cron_id"], stateless["cron_id"], made["cron_id"]]  # newest first
    assert [c["cron_id"] for c in await client.crons.search(metadata=tag)] == ids
    assert await client.crons.count(metadata=tag) == 3
    assert await client.crons.count(assistant_id="echo", metadata=tag) == 3
    by_thread = await client.crons.search(thread_id=thread["thread_id"])
    assert [c["cron_id"] for c in by_thread] == [made["cron_id"]]
    disabled = await client.crons.search(metadata=tag, enabled=False)
    assert [c["cron_id"] for c in disabled] == [kept["cron_id"]]
    by_ids = await client.crons.search(
        assistant_id=ECHO, metadata=tag, sort_by="cron_id", sort_order="asc"
    )
    assert [c["cron_id"] for c in by_ids] == sorted(ids)
    soonest = await client.crons.search(metadata=tag, sort_by="next_run_date", sort_order="asc")
    dates = [_at(c["next_run_date"]) for c in soonest]
    assert dates == sorted(dates)
    page = await client.crons.search(metadata=tag, limit=1, offset=1)
    assert [c["cron_id"] for c in page] == [stateless["cron_id"]]
    slim = await client.crons.search(metadata=tag, select=["cron_id", "schedule"])
    assert [sorted(c) for c in slim] == [["cron_id", "schedule"]] * 3
    assert await client.crons.search(metadata={**tag, "other": 1}) == []

    until = datetime.now(UTC) + timedelta(days=3)
    updated = await client.crons.update(
        made["cron_id"],
        schedule="30 10 * * *",
        enabled=False,
        metadata={"extra": 1},
        input={"messages": [{"role": "user", "content": "again"}]},
        end_time=until,
    )
    assert (updated["schedule"], updated["enabled"]) == ("30 10 * * *", False)
    assert updated["metadata"] == {**tag, "extra": 1}
    assert updated["payload"]["input"]["messages"][0]["content"] == "again"
    assert updated["payload"]["config"]["configurable"]["cron_id"] == made["cron_id"]
    assert updated["payload"]["assistant_id"] == ECHO
    assert _at(updated["end_time"]) == until
    moved = _at(updated["next_run_date"]).astimezone(ZoneInfo("America/New_York"))
    assert moved.timetuple()[3:6] == (10, 30, 0)
    assert _at(updated["updated_at"]) > _at(updated["created_at"])
    cleared = await client.crons.update(made["cron_id"], end_time=None)
    assert (cleared["end_time"], cleared["schedule"]) == (None, "30 10 * * *")

    for cron_id in ids:
        await client.crons.delete(cron_id)
    assert await client.crons.count(metadata=tag) == 0
    await _refused(404, "not found", client.crons.delete(made["cron_id"]))


def test_every_method_of_the_sync_client(cron_server: Server) -> None:
    with get_sync_client(url=cron_server.url, api_key=None) as client:
        _sync_methods(client)


def _sync_methods(client: Any) -> None:
    tag = {"test": uuid.uuid4().hex}
    thread = client.threads.create()
    made = client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule="15 * * * *", metadata=tag
    )
    other = client.crons.create("echo", schedule="45 * * * *", metadata=tag)
    assert client.crons.count(metadata=tag) == 2
    found = client.crons.search(metadata=tag, sort_by="created_at", sort_order="asc")
    assert [c["cron_id"] for c in found] == [made["cron_id"], other["cron_id"]]
    updated = client.crons.update(other["cron_id"], schedule="50 * * * *")
    assert _at(updated["next_run_date"]).minute == 50
    client.crons.delete(made["cron_id"])
    client.crons.delete(other["cron_id"])
    assert client.crons.search(metadata=tag) == []


async def test_bad_cron_requests_get_clear_errors(
    cron_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(cron_server.url)
    every = "* * * * *"
    await _refused(422, "Invalid cron schedule", client.crons.create("echo", schedule="61 * * * *"))
    await _refused(422, "never fires", client.crons.create("echo", schedule="0 0 30 2 *"))
    await _refused(
        422, "Invalid timezone", client.crons.create("echo", schedule=every, timezone="Mars/Base")
    )
    await _refused(404, "Assistant 'nope' not found", client.crons.create("nope", schedule=every))
    await _refused(
        404,
        "not found",
        client.crons.create_for_thread(str(uuid.uuid4()), "echo", schedule=every),
    )
    await _refused(
        422,
        "link-local",
        client.crons.create("echo", schedule=every, webhook="http://169.254.169.254/"),
    )
    await _refused(422, "must be a UUID", client.crons.delete("not-a-uuid"))
    await _refused(404, "not found", client.crons.delete(str(uuid.uuid4())))
    made = await client.crons.create("echo", schedule="0 0 1 1 *")
    try:
        await _refused(400, "cannot be empty", client.crons.update(made["cron_id"]))
        await _refused(
            422, "Invalid cron schedule", client.crons.update(made["cron_id"], schedule="nope")
        )
    finally:
        await client.crons.delete(made["cron_id"])
    await _refused(422, "limit", client.crons.search(limit=0))
    async with httpx.AsyncClient(base_url=cron_server.url) as raw:
        answers = [
            await raw.post("/runs/crons", json={"schedule": every}),
            await raw.post("/runs/crons/search", json={"sort_by": "colour"}),
            await raw.post("/runs/crons/search", json={"select": ["colour"]}),
            await raw.get(f"/runs/crons/{uuid.uuid4()}"),
        ]
    assert [a.status_code for a in answers] == [422, 422, 422, 404]
    assert "assistant_id" in answers[0].json()["detail"]
    assert all(isinstance(a.json()["detail"], str) for a in answers)


# --- firings ----------------------------------------------------------------------------------


async def _until(check: Any, within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)


async def test_a_thread_cron_fires_every_tick_on_its_thread(
    cron_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(cron_server.url)
    thread = await client.threads.create()
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule="* * * * * *", input=MESSAGE, metadata={"m": 1}
    )

    async def two_done() -> bool:
        runs = await client.runs.list(thread["thread_id"], limit=100)
        return sum(r["status"] == "success" for r in runs) >= 2

    await _until(two_done)
    await client.crons.delete(cron["cron_id"])

    async def all_done() -> list[dict[str, Any]] | None:
        runs = await client.runs.list(thread["thread_id"], limit=100)
        return runs if all(r["status"] == "success" for r in runs) else None

    await asyncio.sleep(0.2)  # a firing claimed as the cron went is admitted by now
    runs = await _until(all_done)
    await asyncio.sleep(1.1)  # a tick passes: nothing fires any more
    assert len(await client.runs.list(thread["thread_id"], limit=100)) == len(runs)
    ticks = []
    for run in runs:
        configurable = run["kwargs"]["config"]["configurable"]
        assert configurable["cron_id"] == cron["cron_id"]
        assert run["metadata"]["m"] == 1
        ticks.append(_at(configurable["cron_tick"]))
    assert len(set(ticks)) == len(ticks) and all(t.microsecond == 0 for t in ticks)
    state = await client.threads.get_state(thread["thread_id"])
    asked = [m for m in state["values"]["messages"] if m["type"] == "human"]
    assert len(asked) == len(runs)  # each firing ran on it


async def test_a_thread_less_cron_runs_each_firing_on_a_thread_of_its_own(
    cron_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(cron_server.url)
    deleting, keeping = Receiver(), Receiver()
    try:
        crons = [
            await client.crons.create(
                "echo", schedule="* * * * * *", input=MESSAGE, webhook=deleting.url
            ),
            await client.crons.create(
                "echo",
                schedule="* * * * * *",
                input=MESSAGE,
                webhook=keeping.url,
                on_run_completed="keep",
            ),
        ]
        deleted = await asyncio.to_thread(deleting.wait_for, 2)
        kept = await asyncio.to_thread(keeping.wait_for, 1)
    finally:
        for cron in crons:
            await client.crons.delete(cron["cron_id"])
        deleting.close()
        keeping.close()
    bodies = [d.json() for d in deleted]
    assert len({b["thread_id"] for b in bodies}) == 2
    for body in bodies:
        assert body["status"] == "success" and body["kwargs"]["temporary"] is True
        assert body["kwargs"]["config"]["configurable"]["cron_id"] == crons[0]["cron_id"]

        async def gone(thread_id: str = body["thread_id"]) -> bool:
            try:
                await client.threads.get(thread_id)
            except httpx.HTTPStatusError as exc:
                return exc.response.status_code == 404
            return False

        await _until(gone)
    thread = await client.threads.get(kept[0].json()["thread_id"])
    assert thread["values"]["messages"][-1]["content"] == "echo!"


async def test_missed_ticks_fire_once_and_ended_or_disabled_crons_not_at_all(
    tmp_path: Path,
) -> None:
    app = create_app(str(tmp_path / "crons.db"), resolve_graphs(config=APP / "langgraph.json"))
    async with app.router.lifespan_context(app):
        service = app.state.service
        store = app.state.crons.store
        await app.state.crons.stop()  # (its clock is the present: this test's is not)
        hour = 3_600_000_000
        # Every server was down for an hour: a scheduler whose clock is an hour on.
        later = CronScheduler(app, clock=lambda: time.time() + 3600)

        async def cron(**fields: Any) -> Cron:
            thread = await service.create_thread(None, {}, "raise")
            now = later.now() - hour
            values: dict[str, Any] = {
                "cron_id": new_cron_id(),
                "assistant_id": ECHO,
                "thread_id": thread.thread_id,
                "schedule": "* * * * *",
                "timezone": None,
                "payload": {"assistant_id": ECHO, "input": MESSAGE},
                "metadata": {},
                "user_id": None,
                "on_run_completed": None,
                "enabled": True,
                "end_time": None,
                "next_run_at": next_tick("* * * * *", now),
                "created_at": now,
                "updated_at": now,
            }
            made = Cron(**{**values, **fields})
            await store.add(made)
            return made

        missed = await cron()
        ended = await cron(end_time=later.now() - 1_000_000)
        disabled = await cron(enabled=False)
        fired = await later.fire_due()
        assert len(fired) == 1  # sixty ticks missed: one firing
        assert await later.fire_due() == []
        after = await store.get(missed.cron_id)
        # The next tick from now: the ticks in between are skipped.
        assert after.next_run_at % 60_000_000 == 0
        assert later.now() - 1_000_000 < after.next_run_at <= later.now() + 60_000_000
        run = await service.runs.lookup(fired[0])
        await run.done.wait()
        assert run.status == "success" and run.thread_id == missed.thread_id
        assert len(await service.log.list_runs(thread_id=missed.thread_id)) == 1
        for quiet in (ended, disabled):
            assert await service.log.list_runs(thread_id=quiet.thread_id) == []
            assert (await store.get(quiet.cron_id)).next_run_at == quiet.next_run_at


# --- two servers, one database ----------------------------------------------------------------


class Served:
    """A ``rewind serve`` process on ``url`` (a file or a URL), its output in ``out``."""

    def __init__(self, url: str, out: Path) -> None:
        self.out = out
        with out.open("w") as fh:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rewind.cli",
                    "serve",
                    "--db",
                    url,
                    "--config",
                    str(APP / "langgraph.json"),
                    "--port",
                    "0",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "LANGGRAPH_API_KEY": ""},
            )
        deadline = time.monotonic() + 30
        while (found := re.search(r"http://[\d.]+:\d+", out.read_text())) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start: {out.read_text()}")
            time.sleep(0.05)
        self.url = found.group(0)
        while True:
            try:
                if httpx.get(f"{self.url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(params=["postgres", "sqlite"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "shared.db")
        return
    name = pg.name_for(str(tmp_path))
    pg.drop_database(name)
    yield pg.create_database(name)
    pg.drop_database(name)


@pytest.mark.server_processes
async def test_two_servers_on_one_database_fire_each_tick_once(
    shared: str, tmp_path: Path, connect: Callable[[str], Any]
) -> None:
    first, second = await asyncio.gather(
        asyncio.to_thread(Served, shared, tmp_path / "first.log"),
        asyncio.to_thread(Served, shared, tmp_path / "second.log"),
    )
    try:
        ends = datetime.now(UTC) + timedelta(seconds=3.5)
        cron = await connect(first.url).crons.create(
            "echo",
            schedule="* * * * * *",
            input=MESSAGE,
            end_time=ends,
            on_run_completed="keep",
        )
        await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 0.5)
        log = await open_log(shared)
        try:

            async def fired() -> dict[str, Any] | None:
                runs = await log.list_runs()
                if any(r.status != RunStatus.SUCCESS for r in runs):
                    return None  # one still going
                found = await log.read_runs([r.run_id for r in runs], types=["run.started"])
                return {run_id: events[0].payload for run_id, events in found.items()}

            started = await _until(fired)
        finally:
            await log.aclose()
    finally:
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in (second, first)))
    marks = [p["config"]["configurable"] for p in started.values()]
    assert {m["cron_id"] for m in marks} == {cron["cron_id"]}
    ticks = sorted(_at(m["cron_tick"]) for m in marks)
    assert len(ticks) == len(set(ticks)), "a tick fired twice"
    assert len(ticks) >= 3
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(ticks))
    assert ticks[-1] <= ends  # nothing after end_time
    assert len({p["thread_id"] for p in started.values()}) == len(ticks)  # a thread each


async def test_a_cron_whose_thread_is_gone_goes_at_its_next_tick(
    cron_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(cron_server.url)
    thread = await client.threads.create()
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule="* * * * * *", input=MESSAGE
    )
    await client.threads.delete(thread["thread_id"])

    async def gone() -> bool:
        return await client.crons.count(thread_id=thread["thread_id"]) == 0

    await _until(gone, within=10)
    await _refused(404, "not found", client.crons.delete(cron["cron_id"]))
