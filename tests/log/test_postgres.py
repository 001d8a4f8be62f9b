"""The event log on PostgreSQL: the backend contract, and what only a server shares between
processes (positions in commit order under concurrent writers)."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from rewind import open_log
from rewind.graph import START, StateGraph
from rewind.log import EventLog, PostgresLog
from tests import pg
from tests.log.contract import LogContract


class TestPostgres(LogContract):
    @pytest.fixture(autouse=True)
    def _databases(self) -> Iterator[None]:
        self._made: list[str] = []
        yield
        for name in self._made:
            pg.drop_database(name)

    async def open(self, tmp_path: Path, **kw: Any) -> EventLog:
        name = pg.name_for(str(tmp_path))
        if name not in self._made:
            self._made.append(name)
        store = await open_log(pg.create_database(name), **kw)
        assert isinstance(store, PostgresLog)
        return store


async def test_concurrent_writers_never_make_a_reader_skip_an_event(tmp_path: Path) -> None:
    """Four stores (as four processes would: each its own connections) append to their own
    runs at once; a fifth, subscribed to the whole log, must see every event exactly once, in
    position order, positions without a gap: no commit's events become visible before those
    of a commit that took a lower position."""
    import asyncio

    from rewind import NewEvent, run_started
    from rewind.events import EventType

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    try:
        writers = [await open_log(url) for _ in range(4)]
        reader = await open_log(url)
        per_run, batches = 30, 3

        async def write(store: EventLog, w: int) -> None:
            run_id = f"run-{w}"
            await store.append(run_id, [run_started(thread_id=f"t{w}")], expected_seq=0)
            seq = 1
            for _ in range(per_run):
                batch = [NewEvent(type=EventType.CUSTOM, payload={"w": w})] * batches
                await store.append(run_id, batch, expected_seq=seq, durability="sync")
                seq += batches

        total = len(writers) * (1 + per_run * batches)
        seen: list[int] = []

        async def read() -> None:
            async for event in reader.subscribe():
                seen.append(event.position)
                if len(seen) == total:
                    return

        reading = asyncio.create_task(read())
        await asyncio.gather(*(write(s, w) for w, s in enumerate(writers)))
        await asyncio.wait_for(reading, timeout=60)
        assert seen == list(range(1, total + 1))
        for store in [*writers, reader]:
            await store.aclose()
    finally:
        pg.drop_database(name)


async def test_a_graph_recorded_on_postgres_replays_as_it_streamed(tmp_path: Path) -> None:
    """A graph compiled with the PostgreSQL log as its checkpointer: its live stream in
    every mode (tokens, custom writes, Send, a subgraph) equals the replay of its run, and its
    state reads back from the server."""
    from rewind import areplay
    from rewind.log.codec import encode
    from tests.runtime import replay_graphs

    modes = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug"]
    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    try:
        log = await open_log(url)
        graph = replay_graphs.build(log)
        config = {"configurable": {"thread_id": "t"}}
        live = [
            c
            async for c in graph.astream({"messages": [("user", "hi")]}, config, stream_mode=modes)
        ]
        (run,) = await log.list_runs(thread_id="t")
        replayed = [c async for c in areplay(log, run.run_id, stream_mode=modes)]
        assert live and [encode(c) for c in replayed] == [encode(c) for c in live]
        state = await graph.aget_state(config)
        assert state.values["log"] and state.next == ()
        await log.aclose()
    finally:
        pg.drop_database(name)


def test_the_command_line_takes_a_postgres_url(tmp_path: Path) -> None:
    """``--db postgresql://...``: the demo records there, ``runs``/``db verify``/``db
    current`` read it, ``db backup`` says to use the server's tools, an unknown database is
    named in one line."""
    import subprocess
    import sys

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    try:
        cli = [sys.executable, "-m", "rewind.cli", "--db", url]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=120)

        demo = run("demo")
        assert demo.returncode == 0, demo.stderr
        runs = run("runs")
        assert runs.returncode == 0 and "success" in runs.stdout, runs.stdout + runs.stderr
        verified = run("db", "verify")
        assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout
        current = run("db", "current")
        assert "up to date" in current.stdout, current.stdout + current.stderr
        backup = run("db", "backup", str(tmp_path / "copy.db"))
        assert backup.returncode != 0 and "pg_dump" in backup.stderr
        missing = subprocess.run(
            [*cli[:-1], pg.url_of(name + "_missing"), "runs"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert missing.returncode != 0
        assert "does not exist" in missing.stderr and len(missing.stderr.splitlines()) == 1
    finally:
        pg.drop_database(name)


class Count(TypedDict):
    log: Annotated[list[str], operator.add]


def _counter_graph(saver: Any) -> Any:
    g = StateGraph(Count)
    g.add_node("a", lambda state: {"log": ["a"]})
    g.add_node("b", lambda state: {"log": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    return g.compile(checkpointer=saver)


def test_postgres_saver_constructs_as_langgraphs_and_keeps_a_thread(tmp_path: Path) -> None:
    """``PostgresSaver.from_conn_string(url)`` / ``PostgresSaver(psycopg connection)``:
    ``setup()``, two runs on a thread, the state and history read back (also by a saver
    made later: the runs are on the server)."""
    import psycopg

    from rewind.checkpoint.postgres import PostgresSaver

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    config = {"configurable": {"thread_id": "t"}}
    try:
        with PostgresSaver.from_conn_string(url) as saver:
            saver.setup()
            graph = _counter_graph(saver)
            graph.invoke({"log": []}, config)
            assert graph.invoke({"log": []}, config) == {"log": ["a", "b", "a", "b"]}
        with psycopg.connect(url) as conn:
            again = PostgresSaver(conn)
            graph = _counter_graph(again)
            assert graph.get_state(config).values == {"log": ["a", "b", "a", "b"]}
            assert len(list(graph.get_state_history(config))) == 8
            again.close()
    finally:
        pg.drop_database(name)


async def test_async_postgres_saver_runs_a_graph(tmp_path: Path) -> None:
    from rewind.checkpoint.postgres.aio import AsyncPostgresSaver

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    config = {"configurable": {"thread_id": "t"}}
    try:
        async with AsyncPostgresSaver.from_conn_string(url) as saver:
            await saver.setup()
            graph = _counter_graph(saver)
            assert await graph.ainvoke({"log": []}, config) == {"log": ["a", "b"]}
            assert (await graph.aget_state(config)).values == {"log": ["a", "b"]}
    finally:
        pg.drop_database(name)


async def test_other_processes_commits_arrive_by_notification_and_idle_reads_nothing(
    tmp_path: Path,
) -> None:
    """A subscriber's store learns of another process's commits from the notification each
    commit sends (LISTEN/NOTIFY): while the log is idle it reads nothing (no polling), and a
    commit made elsewhere reaches it."""
    import asyncio
    import sys

    from rewind.events import EventType

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    try:
        reader = await open_log(url)
        seen: list[str] = []

        async def read() -> None:
            async for event in reader.subscribe():
                seen.append(event.type)
                if event.type == EventType.RUN_ENDED:
                    return

        task = asyncio.create_task(read())
        # Subscribed: its first reads (the catch-up, the head once listening) settle.
        settled, deadline = reader.stats.queries, asyncio.get_running_loop().time() + 10
        while True:
            await asyncio.sleep(0.2)
            if reader.stats.queries == settled or asyncio.get_running_loop().time() > deadline:
                break
            settled = reader.stats.queries
        before = reader.stats.queries
        await asyncio.sleep(0.6)
        assert reader.stats.queries == before  # idle: no reads
        child = (
            "import asyncio\n"
            "from rewind import open_log, run_started, run_ended, RunStatus, NewEvent\n"
            "async def main():\n"
            f"    log = await open_log({url!r})\n"
            "    await log.append('elsewhere', [run_started(thread_id='t'),"
            " NewEvent(type='custom', payload=1), run_ended(RunStatus.SUCCESS)],"
            " expected_seq=0, durability='sync')\n"
            "    await log.aclose()\n"
            "asyncio.run(main())\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", child, stderr=asyncio.subprocess.PIPE
        )
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        await asyncio.wait_for(task, timeout=20)
        assert seen == [EventType.RUN_STARTED, EventType.CUSTOM, EventType.RUN_ENDED]
        await reader.aclose()
    finally:
        pg.drop_database(name)


def test_db_copy_moves_a_whole_log_into_postgres_and_back(tmp_path: Path) -> None:
    """``rewind db copy``: a SQLite file's runs (the demo's, with its caches) into PostgreSQL
    and from there into a new file; positions, seqs, payloads and hashes are the same in all
    three, every chain verifies, and a database that holds runs already is refused."""
    import asyncio
    import subprocess
    import sys

    first = tmp_path / "first.db"
    back = tmp_path / "back.db"
    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rewind.cli", *args], capture_output=True, text=True, timeout=180
        )

    async def rows(target: str) -> list[tuple[Any, ...]]:
        log = await open_log(target)
        try:
            return [
                (e.position, e.run_id, e.seq, e.type, e.hash, repr(e.payload))
                for e in await log.read_all()
            ]
        finally:
            await log.aclose()

    try:
        assert cli("--db", str(first), "demo").returncode == 0
        there = cli("db", "copy", str(first), url)
        assert there.returncode == 0, there.stderr
        assert "every hash chain intact" in there.stdout
        home = cli("db", "copy", url, str(back))
        assert home.returncode == 0, home.stderr
        original = asyncio.run(rows(str(first)))
        assert original and asyncio.run(rows(url)) == original == asyncio.run(rows(str(back)))
        again = cli("db", "copy", str(first), url)
        assert again.returncode != 0 and "holds 1 run already" in again.stderr
    finally:
        pg.drop_database(name)


def test_processes_that_start_together_migrate_once(tmp_path: Path) -> None:
    """Four processes open the log on a new database at the same moment: the advisory lock
    lets one create the schema; every one opens it, and appends."""
    import subprocess
    import sys

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    child = (
        "import asyncio, sys\n"
        "from rewind import open_log, run_started\n"
        "async def main():\n"
        f"    log = await open_log({url!r})\n"
        "    await log.append(f'run-{sys.argv[1]}', [run_started(thread_id='t')],"
        " expected_seq=0, durability='sync')\n"
        "    await log.aclose()\n"
        "asyncio.run(main())\n"
    )
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", child, str(n)], stderr=subprocess.PIPE, text=True
            )
            for n in range(4)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        import psycopg

        with psycopg.connect(url) as conn:
            (count,) = conn.execute("SELECT count(*) FROM runs").fetchone()  # type: ignore[misc]
            (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()  # type: ignore[misc]
        from rewind import migrations

        assert count == 4 and version == migrations.head_revision()
    finally:
        pg.drop_database(name)


def test_a_thread_on_postgres_reads_as_the_same_thread_on_sqlite(tmp_path: Path) -> None:
    """Runs, interrupts and resumes, a state update and a time-travel fork, made on a
    PostgresSaver and on a SqliteSaver: the state, the history, the state at each checkpoint
    and every run's replay in every mode are the same (ids and times aside)."""
    import re

    from rewind.checkpoint.postgres import PostgresSaver
    from rewind.checkpoint.sqlite import SqliteSaver
    from tests.runtime.test_thread_state import build_thread, seen

    def normalised(value: Any) -> str:
        text = re.sub(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "U", repr(value)
        )
        text = re.sub(r"[0-9a-f]{32}", "I", text)
        return re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "T", text)

    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    try:
        on_server = PostgresSaver(url)
        graph, config = build_thread(on_server)
        there = seen(graph, config, on_server)
        on_server.close()
        in_file = SqliteSaver(str(tmp_path / "same.db"))
        graph, config = build_thread(in_file)
        here = seen(graph, config, in_file)
        in_file.close()
        assert there["replays"] and set(there) == set(here)
        for key in there:
            assert normalised(there[key]) == normalised(here[key]), key
    finally:
        pg.drop_database(name)


def test_the_http_server_runs_on_a_postgres_database(tmp_path: Path) -> None:
    """``rewind --db postgresql://... serve``: the official SDK streams a run and reads the
    thread's state back, all of it kept on the server's database."""
    import asyncio
    import subprocess
    import sys

    from langgraph_sdk import get_client

    graph_file = tmp_path / "steps.py"
    graph_file.write_text(
        "import operator\n"
        "from typing import Annotated, TypedDict\n"
        "from rewind.graph import START, StateGraph\n"
        "class S(TypedDict):\n"
        "    steps: Annotated[list, operator.add]\n"
        "g = StateGraph(S)\n"
        "g.add_node('a', lambda s: {'steps': ['a']})\n"
        "g.add_node('b', lambda s: {'steps': ['b']})\n"
        "g.add_edge(START, 'a')\n"
        "g.add_edge('a', 'b')\n"
        "graph = g.compile()\n"
    )
    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name)
    command = [sys.executable, "-m", "rewind.cli", "--db", url, "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "-g", f"steps={graph_file}:graph"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        address = line.rsplit(" ", 1)[-1].strip()

        async def use() -> tuple[list[str], dict[str, Any]]:
            client = get_client(url=address, api_key=None)
            try:
                thread = await client.threads.create()
                parts = client.runs.stream(
                    thread["thread_id"], "steps", input={"steps": []}, stream_mode="values"
                )
                events = [part.event async for part in parts]
                state = await client.threads.get_state(thread["thread_id"])
                return events, state["values"]
            finally:
                await client.aclose()

        events, values = asyncio.run(use())
        assert events == ["metadata", "values", "values", "values"]
        assert values == {"steps": ["a", "b"]}
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
        pg.drop_database(name)
