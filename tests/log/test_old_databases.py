"""A database written by the release before thread heads (commit a9e1771, schema revision 0002)
opens, migrates, reads back exactly as that release read it, and its threads go on.

The fixture (``old_databases/before_heads.db``) and everything that release showed of it
(``old_databases/expected.json``: every run replayed in every stream mode, every thread's state,
history and state at each checkpoint) come from ``old_databases/make_fixture.py``, run under
that release. Its runs hold what the current release no longer writes: ``route`` events carrying
a copy of the state, and checkpoint events with every field spelled out. Every test works on a
copy; the committed file is only read.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rewind import migrations
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.log.sqlite_files import read_revision
from rewind.types import Command
from tests.cli.conftest import Cli
from tests.log.old_databases.graphs import build
from tests.log.old_databases.views import THREADS, config_of, document
from tests.runtime.side_by_side.harness import first_diff

FIXTURES = Path(__file__).with_name("old_databases")
DATABASE = FIXTURES / "before_heads.db"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())
OLD_REVISION = "0002"
COMMITTED = (DATABASE.read_bytes(), DATABASE.stat().st_mtime_ns)
"""The committed fixture as the test session found it."""

_MISSING = object()
_CHECKPOINT_STATE = re.compile(r"^(?P<thread>[^/]+)/get_state(?:_subgraphs)?@(?P<id>.+)$")


def expected(key: str) -> Any:
    """What the old release showed for ``key``, with the one correction below.

    The old release's ``get_state`` at an explicit ``checkpoint_id`` left ``parent_config``
    out (``None``) although that checkpoint has a parent; LangGraph gives the parent's config
    there, as the old release's own ``get_state_history`` did for the same checkpoint. The
    expectation is that config, taken from the old history.
    """
    value = EXPECTED[key]
    match = _CHECKPOINT_STATE.match(key)
    if match is None or value["parent_config"] is not None:
        return value
    (listed,) = [
        snapshot
        for snapshot in EXPECTED[f"{match['thread']}/history"]
        if snapshot["config"]["configurable"]["checkpoint_id"] == match["id"]
    ]
    return {**value, "parent_config": listed["parent_config"]}


def explain(key: str, want: Any, got: Any) -> str:
    """Where the current reading of ``key`` first departs from the old release's."""
    path = first_diff(want, got) or "$"
    return (
        f"{key} differs from what the old release showed, first at {path}\n"
        f"--- old release:\n{_show(_at(want, path))}\n"
        f"--- current:\n{_show(_at(got, path))}"
    )


def _at(document: Any, path: str) -> Any:
    for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        try:
            document = document[int(index)] if index else document[key]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return document


def _show(value: Any, limit: int = 2000) -> str:
    if value is _MISSING:
        return "<absent>"
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def copy_of_fixture(directory: Path) -> Path:
    """A copy of the fixture in ``directory``, still at the old schema revision."""
    path = directory / DATABASE.name
    shutil.copyfile(DATABASE, path)
    assert read_revision(path) == OLD_REVISION
    return path


async def read_all(path: Path, threads: tuple[str, ...] = THREADS) -> dict[str, Any]:
    """Every view of ``threads`` in the database at ``path``, read by the current code."""
    saver = SqliteSaver(str(path))
    try:
        return await document(saver, threads)
    finally:
        await saver.aclose()


def runs_of(thread: str) -> int:
    """How many runs the fixture holds on ``thread``."""
    return sum(1 for key in EXPECTED if re.fullmatch(rf"{thread}/run\d+/record", key))


def old_values(thread: str) -> dict[str, Any]:
    """The state values the old release showed for ``thread``."""
    values: dict[str, Any] = EXPECTED[f"{thread}/get_state"]["values"]
    return values


# --- reading back ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every view of a migrated copy of the fixture, read by the current code (once)."""
    path = copy_of_fixture(tmp_path_factory.mktemp("old-database"))
    views = asyncio.run(read_all(path))
    assert read_revision(path) == migrations.head_revision()
    return views


def test_the_fixture_is_what_the_test_expects() -> None:
    assert sorted({key.split("/")[0] for key in EXPECTED}) == sorted(THREADS)
    assert all(runs_of(thread) >= 2 for thread in THREADS)
    types = {t for key, counts in EXPECTED.items() if key.endswith("/event_types") for t in counts}
    assert "route" in types  # the old routing decisions, each with a copy of the state


@pytest.mark.parametrize("key", list(EXPECTED))
def test_reads_back_as_the_old_release_did(current: dict[str, Any], key: str) -> None:
    want = expected(key)
    got = current.get(key, _MISSING)
    assert got is not _MISSING, f"{key}: the current code does not show it at all"
    assert got == want, explain(key, want, got)


def test_the_current_code_shows_nothing_the_old_release_did_not(current: dict[str, Any]) -> None:
    assert sorted(set(current) - set(EXPECTED)) == []


def test_the_migrated_copy_verifies(tmp_path: Path) -> None:
    path = copy_of_fixture(tmp_path)
    cli = Cli(tmp_path)
    before = cli.run("--db", str(path), "db", "current").ok()
    assert "needs `rewind db upgrade`" in before.stdout

    asyncio.run(read_all(path, ("routes",)))  # opening migrates

    current, verify = cli.run_all(
        [["--db", str(path), "db", "current"], ["--db", str(path), "db", "verify"]]
    )
    assert f"schema revision {migrations.head_revision()} (up to date" in current.ok().stdout
    runs = sum(runs_of(thread) for thread in THREADS)
    checked = verify.ok().stdout.splitlines()
    assert checked[0] == f"{runs} runs checked: every hash chain intact"
    assert re.fullmatch(r"\d+ cached states? checked: every one agrees with the log", checked[1])


# --- going on ----------------------------------------------------------------------------------
#
# One new run (or two) on each old thread. What each must give is what LangGraph gives for the
# same calls on a thread that ran the fixture's runs (checked once against langgraph 1.2.22); it
# is written here in terms of the state the old release showed, so that it says what the nodes
# must have seen.


async def _routes(graph: Any) -> None:
    out = await graph.ainvoke({"n": 2}, config_of("routes"))
    path = old_values("routes")["path"]
    # tally counts the path it saw: the old entries and the four this run added before it.
    assert out == {
        "n": 8,
        "path": [*path, "small", "odd", "small", "even", f"tally:{len(path) + 4}"],
    }


async def _approval(graph: Any) -> None:
    config = config_of("approval")
    log = old_values("approval")["log"]
    asked = await graph.ainvoke({"topic": "birds"}, config)
    question = {"question": "publish this?", "draft": "a post about birds"}
    assert [i.value for i in asked.pop("__interrupt__")] == [question]
    assert asked == {
        "topic": "birds",
        "draft": "a post about birds",
        "approved": old_values("approval")["approved"],
        "log": [*log, "write"],
    }
    waiting = await graph.aget_state(config)
    assert waiting.next == ("review",)
    assert [i.value for i in waiting.interrupts] == [question]

    out = await graph.ainvoke(Command(resume="ok"), config)
    assert out == {**asked, "approved": "ok", "log": [*log, "write", "review:ok", "publish:ok"]}


async def _nested(graph: Any) -> None:
    config = config_of("nested")
    log = old_values("nested")["log"]
    before = await graph.aget_state(config, subgraphs=True)
    (task,) = before.tasks
    assert task.name == "sub" and [i.value for i in task.interrupts] == [
        f"question after {len(log) + 1} entries"
    ]
    out = await graph.ainvoke(Command(resume="43"), config)
    # The subgraph returns its whole state (the parent's, then s1, ask and s2), which the
    # parent's reducer appends to its own.
    returned = {"log": [*log, "s1", "ask:43", "s2"], "answer": "43"}
    assert out == {"log": [*log, *returned["log"], "finish:43"], "answer": "43"}
    # The checkpoint the resume started from now shows what its task returned, as LangGraph
    # shows it (and as the old release showed it for the resumes it recorded).
    at_head = await graph.aget_state(before.config)
    assert [(t.name, t.result) for t in at_head.tasks] == [("sub", returned)]


async def _edits(graph: Any) -> None:
    values = old_values("edits")
    out = await graph.ainvoke({"log": ["third"]}, config_of("edits"))
    n = len(values["log"]) + 1
    assert out == {
        "log": [*values["log"], "third", f"a{n}", f"b{n + 1}", f"c{n + 2}"],
        "count": values["count"] + 3,
    }


async def _mapreduce(graph: Any) -> None:
    results = [*old_values("mapreduce")["results"], "split:2", "E", "FF"]
    out = await graph.ainvoke({"items": ["e", "ff"]}, config_of("mapreduce"))
    assert out == {"items": ["e", "ff"], "results": results, "summary": "+".join(results)}


async def _retries(graph: Any) -> None:
    config = config_of("retries")
    old = await graph.aget_state(config)
    assert old.next == ("check",)  # the failed run left check to do
    # New input starts a new step: check waits for flaky (retried once) and steady again.
    out = await graph.ainvoke({"fail": False}, config)
    assert out == {
        "fail": False,
        "log": [*old_values("retries")["log"], "flaky", "steady", "check"],
    }


async def _chat(graph: Any) -> None:
    config = config_of("chat")
    chunks = [
        chunk
        async for chunk in graph.astream(
            {"messages": [("user", "third")]}, config, stream_mode="messages"
        )
    ]
    assert {meta["langgraph_node"] for _, meta in chunks} == {"reply"}
    assert "".join(token.content for token, _ in chunks) == "turn 3: you said third"
    state = await graph.aget_state(config)
    old = [(m["type"], m["content"]) for m in old_values("chat")["messages"]]
    said = [(m.type, m.content) for m in state.values["messages"]]
    assert said == [*old, ("human", "third"), ("ai", "turn 3: you said third")]
    assert state.values["turns"] == old_values("chat")["turns"] + 1


CONTINUATIONS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "routes": _routes,
    "approval": _approval,
    "nested": _nested,
    "edits": _edits,
    "mapreduce": _mapreduce,
    "retries": _retries,
    "chat": _chat,
}


def test_every_thread_is_continued() -> None:
    assert sorted(CONTINUATIONS) == sorted(THREADS)


@pytest.mark.parametrize("thread", THREADS)
async def test_an_old_thread_goes_on(tmp_path: Path, thread: str) -> None:
    path = copy_of_fixture(tmp_path)
    saver = SqliteSaver(str(path))
    try:
        graph = build(thread, saver)
        await CONTINUATIONS[thread](graph)
        state = await graph.aget_state(config_of(thread))
        assert state.next == ()
        last = [s async for s in graph.aget_state_history(config_of(thread), limit=1)]
        assert [s.config for s in last] == [state.config]
        store = await saver.log()
        runs = await store.list_runs(thread_id=thread, oldest_first=True)
    finally:
        await saver.aclose()

    old_head = EXPECTED[f"{thread}/get_state"]["config"]["configurable"]["checkpoint_id"]
    old_runs = runs_of(thread)
    assert len(runs) > old_runs
    assert runs[old_runs].origin_checkpoint_id == old_head, "the new run did not start at the head"

    # The new runs change nothing the old release showed of the old runs and checkpoints, but
    # for the old head, whose pending tasks a resume completes (checked above, for `nested`).
    now = await read_all(path, (thread,))
    old_checkpoints = {
        snapshot["config"]["configurable"]["checkpoint_id"]
        for snapshot in EXPECTED[f"{thread}/history"]
    } - {old_head}
    for key in EXPECTED:
        if not key.startswith(f"{thread}/"):
            continue
        run = re.match(rf"{thread}/run(\d+)/", key)
        checkpoint = _CHECKPOINT_STATE.match(key)
        if (run and int(run[1]) < old_runs) or (checkpoint and checkpoint["id"] in old_checkpoints):
            want = expected(key)
            assert now.get(key) == want, explain(key, want, now.get(key, _MISSING))


# --- the committed file ------------------------------------------------------------------------


def test_the_committed_fixture_is_never_written() -> None:
    assert (DATABASE.read_bytes(), DATABASE.stat().st_mtime_ns) == COMMITTED
    beside = [p.name for p in FIXTURES.iterdir() if p.name.startswith(f"{DATABASE.name}-")]
    assert beside == [], f"files were left beside the committed fixture: {beside}"
    assert read_revision(DATABASE) == OLD_REVISION
