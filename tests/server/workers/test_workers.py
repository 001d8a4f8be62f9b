"""Servers and workers in processes of their own on one PostgreSQL database: runs submitted
through the official SDK to two ``rewind serve --queue`` processes, executed by three
``rewind worker`` processes, one of which is killed with SIGKILL mid-run."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from langgraph_sdk import get_client

from rewind import open_log
from rewind.events import EventType
from tests import pg
from tests.server.workers.graphs import NODES

pytestmark = pytest.mark.server_processes  # several server and worker processes: .ci/run's step

GRAPH = f"steps={Path(__file__).with_name('graphs.py')}:steps"
RUNS = int(os.environ.get("REWIND_TEST_WORKER_RUNS", "200"))
"""Runs submitted on PostgreSQL; a SQLite file (one machine's processes) takes a third."""
MODES = ["values", "updates"]


class Process:
    """A ``rewind`` process whose output goes to a file."""

    def __init__(self, out: Path, *args: str) -> None:
        self.out = out
        with out.open("w") as fh:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "rewind.cli", *args],
                stdout=fh,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "LANGGRAPH_API_KEY": ""},
            )

    def wait_for(self, pattern: str, within: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + within
        while True:
            found = re.search(pattern, self.out.read_text())
            if found is not None:
                return found
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.out.name}: {self.out.read_text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


@pytest.fixture(params=["postgres", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":  # processes of one machine
        yield str(tmp_path / "shared.db")
        return
    name = pg.name_for(str(tmp_path))
    pg.drop_database(name)  # left by an interrupted session
    yield pg.create_database(name)
    pg.drop_database(name)


def _start(tmp_path: Path, url: str) -> tuple[list[Process], list[Process], list[str]]:
    started = [_server(tmp_path, url, f"server{i}") for i in range(2)]
    workers = [_worker(tmp_path, url, f"worker{i}", "--jobs", "8") for i in range(3)]
    return [s for s, _ in started], workers, [a for _, a in started]


def _held_by(url: str, worker_id: str) -> int:
    query = "SELECT count(*) FROM run_queue WHERE owner = {} AND status = 'running'"
    return _count(url, query, worker_id)


def _count(url: str, query: str, *args: str) -> int:
    """``SELECT count(*) ...`` on the shared database (``{}`` marks each parameter)."""
    if "://" not in url:
        with sqlite3.connect(url, timeout=30) as db:
            row = db.execute(query.format(*["?"] * len(args)), args).fetchone()
    else:
        with psycopg.connect(url) as conn:
            row = conn.execute(query.format(*["%s"] * len(args)), args).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


@pytest.mark.faults
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_runs_survive_a_killed_worker_and_end_exactly_once(tmp_path: Path, url: str) -> None:
    runs = RUNS if "://" in url else RUNS // 3
    servers, workers, addresses = await asyncio.to_thread(_start, tmp_path, url)
    victim = workers[0]
    victim_id = victim.wait_for(r"rewind worker (\S+) working on").group(1)
    clients = [get_client(url=a, api_key=None) for a in addresses]
    gate = asyncio.Semaphore(40)
    ended = 0
    killed = asyncio.Event()

    async def one(n: int) -> tuple[str, str, list[tuple[str, Any, str | None]]]:
        nonlocal ended
        client = clients[n % 2]
        async with gate:
            thread = await client.threads.create(metadata={"n": n})
            parts = [
                (p.event, p.data, p.id)
                async for p in client.runs.stream(
                    thread["thread_id"], "steps", input={"log": []}, stream_mode=MODES
                )
            ]
        ended += 1
        return thread["thread_id"], parts[0][1]["run_id"], parts

    async def kill() -> None:
        # Once a fifth of the runs ended, and while the victim holds some: it is stopped while
        # the queue is looked at, so it cannot end them between the look and the kill.
        while True:
            if ended >= runs // 5:
                victim.popen.send_signal(signal.SIGSTOP)
                if await asyncio.to_thread(_held_by, url, victim_id):
                    victim.popen.send_signal(signal.SIGKILL)
                    killed.set()
                    return
                victim.popen.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.02)

    try:
        killer = asyncio.ensure_future(kill())
        results = await asyncio.gather(*(one(n) for n in range(runs)))
        assert killed.is_set(), "the worker was killed mid-run"
        await killer
        for n, (thread_id, run_id, parts) in enumerate(results):
            ids = [i for _, _, i in parts]
            assert all(ids) and ids == sorted(ids) and len(set(ids)) == len(ids)
            assert parts[-1][0] == "values" and parts[-1][1]["log"] == list(NODES), parts
            assert not [p for p in parts if p[0] == "error"]
            attempts = [p[1]["attempt"] for p in parts if p[0] == "metadata"]
            assert attempts == sorted(set(attempts))  # each attempt once, in order
            other = clients[(n + 1) % 2]  # the other server replays it
            replay = [
                (p.event, p.data, p.id)
                async for p in other.runs.join_stream(thread_id, run_id, last_event_id="-1")
            ]
            assert parts == replay
            run = await other.runs.get(thread_id, run_id)
            assert run["status"] == "success"
            listed = await clients[n % 2].runs.list(thread_id)
            assert [r["run_id"] for r in listed] == [run_id]  # attempts are not runs of their own
        # Claimed again after the kill (a run the victim had ended in the log before it died
        # is not run again, so its stream shows no second attempt: count the queue's claims).
        retaken = await asyncio.to_thread(
            _count, url, "SELECT count(*) FROM run_queue WHERE attempt > 1"
        )
        assert retaken >= 1, "the killed worker's runs were taken over"
    except BaseException:
        _show_logs(tmp_path)
        raise
    finally:
        for client in clients:
            await client.aclose()
        codes = [p.stop() for p in (*servers, *workers[1:])]
        victim_code = victim.stop()  # killed by now, unless the test failed first
    assert codes == [0] * len(codes)
    assert victim_code == -signal.SIGKILL

    log = await open_log(url)
    try:
        ends: Counter[str] = Counter()
        completed: Counter[tuple[str, str]] = Counter()  # (thread, node): tasks that ended
        for record in await log.list_runs(limit=10 * runs):
            types = [EventType.RUN_ENDED, EventType.TASK_ENDED]
            for event in await log.read(record.run_id, types=types):
                if event.type == EventType.TASK_ENDED and event.node in NODES:
                    # A task that ended before the kill, in a step the takeover resumes, has
                    # its writes handed back there (a cached end), not run again.
                    if not event.payload.get("cached"):
                        completed[record.thread_id, event.node] += 1
                elif event.payload.get("status") == "success":
                    ends[record.thread_id] += 1
        assert len(ends) == runs and set(ends.values()) == {1}  # each run ended once
        backend = "postgres" if "://" in url else "sqlite"
        print(f"FAULTS worker SIGKILL ({backend}): {runs} runs, each ended once")
        # A task whose completion reached the log before the kill did not run again.
        again = {key: n for key, n in completed.items() if n != 1}
        assert len(completed) == runs * len(NODES) and not again, again
    finally:
        await log.aclose()


def _show_logs(tmp_path: Path, lines: int = 60) -> None:
    """Print the end of every process's output (shown with a failing test's report)."""
    for out in sorted(tmp_path.glob("*.log")):
        tail = out.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {out.name} (last {len(tail)} lines)", *tail, sep="\n")


def _server(tmp_path: Path, url: str, name: str) -> tuple[Process, str]:
    server = Process(
        tmp_path / f"{name}.log", "serve", "--queue", "--db", url, "-g", GRAPH, "--port", "0"
    )
    address = server.wait_for(r"http://[\d.]+:\d+").group(0)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{address}/ok", timeout=5).raise_for_status()
            return server, address
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _worker(tmp_path: Path, url: str, name: str, *extra: str) -> Process:
    worker = Process(
        tmp_path / f"{name}.log",
        "worker",
        "--db",
        url,
        "-g",
        GRAPH,
        "--lease",
        "2",
        "--poll",
        "0.2",
        *extra,
    )
    worker.wait_for(r"rewind worker (\S+) working on")
    return worker


@pytest.mark.slow
async def test_queued_runs_outlive_every_process_and_obey_any_server(
    tmp_path: Path, url: str
) -> None:
    """No worker: runs wait as pending, through a restart of every server; a cancel through
    one server reaches a run another accepted; a thread's second run is refused or queued per
    its strategy, whichever server gets it; then a worker runs what is left, in order."""
    (a, a_url), (b, b_url) = [await asyncio.to_thread(_server, tmp_path, url, n) for n in "ab"]
    worker: Process | None = None
    client_a, client_b = get_client(url=a_url, api_key=None), get_client(url=b_url, api_key=None)
    try:
        thread = (await client_a.threads.create())["thread_id"]
        first = await client_a.runs.create(thread, "steps", input={"log": ["first"]})
        assert first["status"] == "pending"
        with pytest.raises(httpx.HTTPStatusError, match="already running") as refused:
            await client_b.runs.create(
                thread, "steps", input={"log": []}, multitask_strategy="reject"
            )
        assert refused.value.response.status_code == 409
        second = await client_b.runs.create(
            thread, "steps", input={"log": ["second"]}, multitask_strategy="enqueue"
        )
        other = (await client_b.threads.create())["thread_id"]
        doomed = await client_b.runs.create(other, "steps", input={"log": []})
        await client_a.runs.cancel(other, doomed["run_id"])  # through the other server
        assert (await client_b.runs.get(other, doomed["run_id"]))["status"] == "interrupted"
        undone = (await client_a.threads.create())["thread_id"]
        rolled = await client_a.runs.create(undone, "steps", input={"log": []})
        await client_b.runs.cancel(undone, rolled["run_id"], action="rollback")
        assert await client_a.runs.list(undone) == []
        assert (await client_b.threads.get(thread))["status"] == "busy"

        for client in (client_a, client_b):
            await client.aclose()
        assert [a.stop(), b.stop()] == [0, 0]  # every process gone: the queue is in the database
        (a, a_url), (b, b_url) = [
            await asyncio.to_thread(_server, tmp_path, url, n + "2") for n in "ab"
        ]
        client_a = get_client(url=a_url, api_key=None)
        client_b = get_client(url=b_url, api_key=None)
        listed = await client_b.runs.list(thread)
        assert [r["status"] for r in listed] == ["pending", "pending"]
        assert {r["run_id"] for r in listed} == {first["run_id"], second["run_id"]}

        worker = await asyncio.to_thread(_worker, tmp_path, url, "worker")
        await client_b.runs.join(thread, second["run_id"])
        runs = {r["run_id"]: r["status"] for r in await client_a.runs.list(thread)}
        assert runs == {first["run_id"]: "success", second["run_id"]: "success"}
        state = await client_a.threads.get_state(thread)
        assert state["values"]["log"] == ["first", *NODES, "second", *NODES]
        assert (await client_a.runs.get(other, doomed["run_id"]))["status"] == "interrupted"
        assert await client_b.runs.list(undone) == []  # rolled back, after the restart too
    finally:
        await client_a.aclose()
        await client_b.aclose()
        codes = [p.stop() for p in (a, b, *([worker] if worker else []))]
    assert codes == [0] * len(codes)
