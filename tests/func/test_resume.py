"""A resumed entrypoint does not call again a task whose result the log holds: after an
interrupt, in the same process or another one, and after the process running it was killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rewind import RunStatus, open_log
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.events import EventType
from rewind.types import Command
from tests.func.programs import BUILDERS

CONFIG = {"configurable": {"thread_id": "t"}}
CHILD = Path(__file__).with_name("crash_program.py")


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_resumed_entrypoint_does_not_call_finished_tasks_again(
    tmp_path: Path, flavour: str
) -> None:
    calls: Counter[str] = Counter()
    with SqliteSaver.from_conn_string(str(tmp_path / "x.db")) as saver:
        review = BUILDERS[flavour](saver, calls)

        async def run(inputs: Any) -> Any:
            return await review.ainvoke(inputs, CONFIG)

        def call(inputs: Any) -> Any:
            return review.invoke(inputs, CONFIG) if flavour == "sync" else asyncio.run(run(inputs))

        stopped = call("owls")
        assert stopped["__interrupt__"][0].value == {
            "draft": "a draft on owls",
            "checks": [True, True],
        }
        assert call(None)["__interrupt__"] == stopped["__interrupt__"]  # asked again
        assert call(Command(resume="fine")) == {
            "draft": "a draft on owls",
            "verdict": "fine",
            "seen": 1,
        }
        # The second run of the thread starts afresh and sees what the first one saved.
        call("bats")
        assert call(Command(resume="ok"))["seen"] == 2
    # Each call ran once per thread run: the resumes took their results from the log.
    assert calls == {"draft": 2, "check:length": 3, "check:words": 2}


def test_a_resume_in_another_process_takes_results_from_the_log(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()
    path = str(tmp_path / "x.db")
    with SqliteSaver.from_conn_string(path) as saver:
        BUILDERS["sync"](saver, calls).invoke("owls", CONFIG)
    with SqliteSaver.from_conn_string(path) as saver:  # as a new process opens the file
        again: Counter[str] = Counter()
        done = BUILDERS["sync"](saver, again).invoke(Command(resume="fine"), CONFIG)
    assert done["verdict"] == "fine"
    assert not again


def test_in_memory_saver_resumes_too() -> None:
    calls: Counter[str] = Counter()
    review = BUILDERS["sync"](InMemorySaver(), calls)
    review.invoke("owls", CONFIG)
    review.invoke(Command(resume="fine"), CONFIG)
    assert calls["draft"] == 1
    assert review.get_state(CONFIG).values["verdict"] == "fine"


async def _first_is_durable(db: Path) -> bool:
    if not db.exists():
        return False
    log = await open_log(db)
    try:
        return any(
            e.type == EventType.TASK_ENDED and e.node == "first" for e in await log.read_all()
        )
    finally:
        await log.aclose()


@pytest.mark.slow
def test_a_killed_entrypoint_resumes_in_another_process(tmp_path: Path) -> None:
    db, executions = tmp_path / "x.db", tmp_path / "executions.txt"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), "t", str(executions)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = executions.exists() and "second" in executions.read_text().split()
        if started and asyncio.run(_first_is_durable(db)):
            break
        time.sleep(0.02)
    else:
        child.kill()
        pytest.fail("the child never got to its second task")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    resumed = subprocess.run(
        [sys.executable, str(CHILD), str(db), "t", str(executions), "resume"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "[2, 20]"
    # ``first`` finished durably before the kill: its result came from the log.
    assert Counter(executions.read_text().split()) == {"first": 1, "second": 2}

    async def check_log() -> None:
        log = await open_log(db)
        try:
            runs = await log.list_runs(oldest_first=True)
            assert [r.status for r in runs] == [RunStatus.ERROR, RunStatus.SUCCESS]
            assert (await log.read(runs[0].run_id))[-1].payload["error"]["type"] == "ProcessDied"
            again = [
                e.payload
                for e in await log.read(runs[1].run_id)
                if e.type == EventType.TASK_STARTED and e.node == "first"
            ]
            assert [p.get("cached") for p in again] == [True]
        finally:
            await log.aclose()

    asyncio.run(check_log())


def _call_events(path: Path) -> list[list[tuple[str, str | None, bool]]]:
    """Per run of thread ``t``, oldest first: the task calls' events (type, task, cached)."""

    async def read() -> list[list[tuple[str, str | None, bool]]]:
        log = await open_log(path)
        try:
            runs = await log.list_runs(thread_id="t", oldest_first=True)
            return [
                [
                    (e.type, e.node, bool((e.payload or {}).get("cached")))
                    for e in await log.read(r.run_id)
                    if e.node in ("normalize", "lookup") and e.type.startswith("task.")
                ]
                for r in runs
            ]
        finally:
            await log.aclose()

    return asyncio.run(read())


def test_a_resumed_entrypoint_calls_a_failed_task_again(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()
    path = tmp_path / "x.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        stopped = BUILDERS["lookup"](saver, calls).invoke(" Ada ", CONFIG)
    failure = stopped["__interrupt__"][0].value["found"]
    assert failure["error"] == "directory busy (2)"
    [note] = failure["notes"]
    assert note.startswith("During task with name 'lookup' and id ")
    with SqliteSaver.from_conn_string(str(path)) as saver:  # as a new process opens the file
        done = BUILDERS["lookup"](saver, calls).invoke(Command(resume="ok"), CONFIG)
    assert done == {"found": "ada@example.org", "review": "ok"}
    # The failed call ran again (its retries too: one attempt was enough); the finished one
    # came from the log.
    assert calls == {"normalize": 1, "lookup": 3}
    first, second = _call_events(path)
    started, ended, failed = EventType.TASK_STARTED, EventType.TASK_ENDED, EventType.TASK_FAILED
    assert first == [
        (started, "normalize", False),
        (ended, "normalize", False),
        (started, "lookup", False),
        (failed, "lookup", False),
        (failed, "lookup", False),
    ]
    assert second == [
        (started, "normalize", True),
        (started, "lookup", False),
        (ended, "lookup", False),
    ]
