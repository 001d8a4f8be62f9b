"""Packed rows (:mod:`rewind.log.packs`) read as the events they hold.

The same events are appended to two files: packed, and one at a time (a row each). Packed two
ways: in batches (the writer packs consecutive encoded tokens of a task), or streamed as a run
appends them, one event at a time without waiting (a model call's plain tokens are gathered as
they come: the ``[call, offsets, tokens]`` layout). Every read of the log, with every kind of
bound falling inside a packed row, gives the same events from the packed file as from the
other: seqs, positions, times and payloads. The chain covers packed rows and breaks where one is
edited; a thread's head and tail, live subscribers and replay take them in their stride; an old
database still reads.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from rewind import NewEvent, RunStatus, open_log, run_ended, run_started
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.events import EventType, StoredEvent
from rewind.graph import END, START, MessagesState, StateGraph
from rewind.log import EventLog, LogOptions, rows
from rewind.log.codec import encode
from rewind.log.reads import read_joined
from rewind.replay import areplay
from tests.log.contract import collect
from tests.log.test_old_databases import copy_of_fixture

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TOKEN = EventType.CHAT_TOKEN.value


def at(i: int) -> datetime:
    """A distinct, irregular time for event ``i`` of the script."""
    return T0 + timedelta(microseconds=11 * i + (i * i) % 7)


def token(i: int, call: str, *, task: str = "a", node: str = "llm", step: int = 1) -> NewEvent:
    """A model's token as a recorder makes it: its chunk the text and the message id (the id
    LangChain derives from the call's, but for call ``d1``, whose message has its own)."""
    chunk_id = "msg-d1" if call == "d1" else f"lc_run--{call}"
    chunk = AIMessageChunk(content=f"w{i} ", id=chunk_id)
    payload = {"run_id": call, "parent_run_id": None, "token": f"w{i} ", "chunk": chunk}
    return NewEvent(type=TOKEN, payload=payload, ts=at(i), step=step, node=node, task_id=task)


def custom(i: int) -> NewEvent:
    return NewEvent(type=EventType.CUSTOM, payload={"n": i}, ts=at(10_000 + i), node="llm")


def script() -> list[tuple[str, list[NewEvent]]]:
    """Two runs on two threads, appended in turns (their positions interleave): tokens of one
    task (more than a row holds), of another task, a token alone, a few after another event."""
    return [
        ("r1", [run_started(thread_id="t1", ts=at(0)), custom(0)]),
        ("r2", [run_started(thread_id="t2", ts=at(1))]),
        ("r1", [token(i, "c1") for i in range(300)]),
        ("r2", [token(1000 + i, "d1", task="x") for i in range(50)]),
        (
            "r1",
            [
                custom(1),
                *(token(300 + i, "c2", task="b", node="other", step=2) for i in range(10)),
                token(310, "c3", task="c", step=3),
                custom(2),
                *(token(311 + i, "c3", task="c", step=3) for i in range(3)),
            ],
        ),
        ("r2", [*(token(1050 + i, "d1", task="x") for i in range(10)), custom(3)]),
        ("r2", [run_ended(RunStatus.SUCCESS, ts=at(20_000))]),
        ("r1", [run_ended(RunStatus.SUCCESS, ts=at(20_001))]),
    ]


async def write(path: Path, how: str) -> None:
    """Append :func:`script` to a new file: each batch at once (``batches``), each event on
    its own and durable (``one_by_one``), or each event without waiting (``streamed``)."""
    async with await open_log(path) as log:
        seqs: dict[str, int] = {}
        for run_id, batch in script():
            for part in [batch] if how == "batches" else ([e] for e in batch):
                seq = seqs.get(run_id, 0)
                if how == "streamed" and seq > 0:
                    log.append_nowait(run_id, part, expected_seq=seq)
                else:
                    await log.append(run_id, part, expected_seq=seq, durability="sync")
                seqs[run_id] = seq + len(part)
        await log.flush()


def packed_rows(path: Path) -> list[tuple[str, int, int, int]]:
    """(run id, seq, position, count) of each packed row in the file."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT r.run_id, e.seq, e.position, e.packed FROM events e "
            "JOIN runs r ON r.run_key = e.run_key WHERE e.packed IS NOT NULL ORDER BY e.position"
        ).fetchall()


def inside(rows: Iterable[tuple[str, int, int, int]], key: int, run_id: str | None) -> list[int]:
    """Bounds around and inside each packed row (of ``run_id``; by seq or, ``key=2``,
    position): before its first event, at it, after it, in the middle, at and before its
    last."""
    found: set[int] = set()
    for run, *keys, count in rows:
        if run_id is None or run == run_id:
            last = keys[key - 1]
            first = last - count + 1
            found |= {first - 1, first, first + 1, first + count // 2, last - 1, last}
    return sorted(found)


def view(events: Iterable[StoredEvent]) -> list[tuple[Any, ...]]:
    """What a reader sees of each event (all but its hash, which a packed row's events
    share)."""
    return [
        (
            e.run_id,
            e.thread_id,
            e.seq,
            e.position,
            e.type,
            e.ts,
            e.step,
            e.ns,
            e.node,
            e.task_id,
            encode(e.payload),
        )
        for e in events
    ]


@pytest.fixture(scope="module", params=["batches", "streamed"])
def how(request: pytest.FixtureRequest) -> str:
    """How the packed file was written (see :func:`write`)."""
    return str(request.param)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, how: str) -> tuple[bytes, bytes]:
    """The two files' bytes (made once; each test reads copies): packed, and one by one."""
    directory = tmp_path_factory.mktemp("packed")
    packed, plain = directory / "packed.db", directory / "plain.db"
    asyncio.run(write(packed, how))
    asyncio.run(write(plain, "one_by_one"))
    return packed.read_bytes(), plain.read_bytes()


@pytest.fixture
def files(made: tuple[bytes, bytes], tmp_path: Path) -> tuple[Path, Path]:
    packed, plain = tmp_path / "packed.db", tmp_path / "plain.db"
    packed.write_bytes(made[0])
    plain.write_bytes(made[1])
    return packed, plain


@pytest.fixture
async def logs(files: tuple[Path, Path]) -> AsyncIterator[tuple[EventLog, EventLog]]:
    """The packed file's log and the one-by-one file's."""
    async with await open_log(files[0]) as packed, await open_log(files[1]) as plain:
        yield packed, plain


def test_the_writer_packed_the_tokens_and_the_other_file_did_not(
    files: tuple[Path, Path], how: str
) -> None:
    rows = packed_rows(files[0])
    with sqlite3.connect(files[0]) as conn:
        layouts = {
            type(json.loads(payload)[0]).__name__
            for (payload,) in conn.execute("SELECT payload FROM events WHERE packed IS NOT NULL")
        }
    # Streamed, the tokens were gathered before they were encoded: each row holds its call's
    # fields once (a dict), then the tokens' texts; in batches, the encoded texts' prefix.
    assert layouts == {"dict" if how == "streamed" else "str"}
    assert [(run, count) for run, _seq, _position, count in rows] == [
        ("r1", 256),
        ("r1", 44),
        ("r2", 50),
        ("r1", 10),
        ("r1", 3),
        ("r2", 10),
    ]
    assert packed_rows(files[1]) == []


async def test_every_read_of_whole_runs_and_threads_gives_each_event(
    logs: tuple[EventLog, EventLog],
) -> None:
    packed, plain = logs
    everything = view(await plain.read_all())
    assert len(everything) == 2 + 300 + 50 + 16 + 11 + 2 + 1
    assert view(await packed.read_all()) == everything
    for run_id in ("r1", "r2"):
        assert view(await packed.read(run_id)) == view(await plain.read(run_id))
        tokens = [EventType.CHAT_TOKEN]
        assert view(await packed.read(run_id, types=tokens)) == view(
            await plain.read(run_id, types=tokens)
        )
        assert view(await collect(packed.iter_run(run_id))) == view(await plain.read(run_id))
    both = await packed.read_runs(["r1", "r2"])
    assert {k: view(v) for k, v in both.items()} == {
        k: view(v) for k, v in (await plain.read_runs(["r1", "r2"])).items()
    }
    for thread_id in ("t1", "t2"):
        _, found = await packed.thread_log(thread_id)
        assert view(found) == view((await plain.thread_log(thread_id))[1])
    # Each event is counted as read, however it is stored.
    assert packed.stats.events_read == plain.stats.events_read


async def test_seq_bounds_inside_packed_rows(
    logs: tuple[EventLog, EventLog], files: tuple[Path, Path]
) -> None:
    packed, plain = logs
    rows = packed_rows(files[0])
    for run_id in ("r1", "r2"):
        points = inside(rows, 1, run_id)
        for after in [None, *points]:
            for until in [None, *points]:
                if after is not None and until is not None and until <= after:
                    continue
                bounds = {"after_seq": after, "until_seq": until}
                got, want = await packed.read(run_id, **bounds), await plain.read(run_id, **bounds)
                assert view(got) == view(want), bounds
            for limit in (1, 2, 5, 45, 300):
                bounds = {"after_seq": after, "limit": limit}
                got, want = await packed.read(run_id, **bounds), await plain.read(run_id, **bounds)
                assert view(got) == view(want), bounds
        for until in points:
            tokens = {"types": [EventType.CHAT_TOKEN], "until_seq": until}
            got, want = await packed.read(run_id, **tokens), await plain.read(run_id, **tokens)
            assert view(got) == view(want), until


@pytest.mark.parametrize("chunk", [1, 3])
async def test_limits_hold_however_few_rows_a_fetch_takes(
    logs: tuple[EventLog, EventLog],
    files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    """A limited read takes rows a few at a time until they hold enough events within its
    bounds (a first row that begins before the lower bound holds fewer than its count)."""
    monkeypatch.setattr(rows, "_CHUNK", chunk)
    packed, plain = logs
    found = packed_rows(files[0])
    for after in inside(found, 1, "r1"):
        for limit in (2, 5, 45):
            bounds = {"after_seq": after, "limit": limit}
            got, want = await packed.read("r1", **bounds), await plain.read("r1", **bounds)
            assert view(got) == view(want), bounds
            pages = [list(p) async for p in packed._iter_pages("r1", after_seq=after, page=limit)]
            assert view(e for p in pages for e in p) == view(
                await plain.read("r1", after_seq=after)
            )
            assert all(len(p) >= limit for p in pages[:-1])
    for after in inside(found, 2, None):
        bounds = {"after_position": after, "limit": 7}
        assert view(await packed.read_all(**bounds)) == view(await plain.read_all(**bounds))


async def test_pages_hold_events_and_go_on_after_the_last_one(
    logs: tuple[EventLog, EventLog], files: tuple[Path, Path]
) -> None:
    packed, plain = logs
    points = inside(packed_rows(files[0]), 1, "r1")
    want = view(await plain.read("r1"))
    for page in (1, 3, 100, 1000):
        pages = [list(p) async for p in packed._iter_pages("r1", page=page)]
        assert view(e for p in pages for e in p) == want
        assert all(len(p) >= page for p in pages[:-1])  # a page counts events, not rows
    for after in points[::3]:
        for until in points[1::4]:
            if until <= after:
                continue
            bounds = {"after_seq": after, "until_seq": until}
            got = await collect(packed.iter_run("r1", page=7, **bounds))
            assert view(got) == view(await plain.read("r1", **bounds)), bounds


async def test_segments_bounded_inside_packed_rows(
    logs: tuple[EventLog, EventLog], files: tuple[Path, Path]
) -> None:
    packed, plain = logs
    rows = packed_rows(files[0])
    ones, twos = inside(rows, 1, "r1"), inside(rows, 1, "r2")
    for after, before in zip([None, *ones], [*ones[3:], None, None, None, None], strict=True):
        other = (twos[len(ones) % len(twos)], None)
        segments = [("r1", after, before), ("r2", *other), ("r3", None, None)]
        got, want = await packed.read_segments(segments), await plain.read_segments(segments)
        assert view(got) == view(want), segments


async def test_position_bounds_inside_packed_rows(
    logs: tuple[EventLog, EventLog], files: tuple[Path, Path]
) -> None:
    packed, plain = logs
    points = inside(packed_rows(files[0]), 2, None)
    for after in [None, *points]:
        for limit in (None, 1, 4, 60, 1000):
            bounds = {"after_position": after, "limit": limit}
            got, want = await packed.read_all(**bounds), await plain.read_all(**bounds)
            assert view(got) == view(want), bounds
            for thread_id in ("t1", "t2"):
                got = await packed.read_thread(thread_id, **bounds)
                assert view(got) == view(await plain.read_thread(thread_id, **bounds))
    for after in [0, *points[::2]]:
        for until in points[1::2]:
            if until <= after:
                continue
            for limit in (None, 3):
                bounds = {"after": after, "until": until, "limit": limit}
                got = await packed._read(lambda conn, b=bounds: read_joined(conn, **b))
                want = await plain._read(lambda conn, b=bounds: read_joined(conn, **b))
                assert view(got) == view(want), bounds


async def test_a_subscriber_catches_up_from_inside_a_packed_row(
    files: tuple[Path, Path],
) -> None:
    points = inside(packed_rows(files[0]), 2, None)
    options = LogOptions(read_page=5)
    async with (
        await open_log(files[0], options=options) as packed,
        await open_log(files[1], options=options) as plain,
    ):
        for after in points[::2]:
            got = await collect(packed.subscribe(run_id="r1", after_position=after))
            want = await collect(plain.subscribe(run_id="r1", after_position=after))
            assert view(got) == view(want), after
            assert got[-1].type == EventType.RUN_ENDED


async def test_live_subscribers_get_each_token_of_a_packed_row(tmp_path: Path) -> None:
    async with await open_log(tmp_path / "live.db") as log:
        await log.append("r", [run_started(thread_id="t", ts=at(0))], expected_seq=0)
        await log.flush()
        head = await log.head()
        live = asyncio.ensure_future(collect(log.subscribe(thread_id="t", after_position=head), 40))
        await asyncio.sleep(0.05)  # subscribed: what commits now is published to it
        read = log.stats.events_read
        batch = [token(i, "c1") for i in range(40)]
        await log.append("r", batch, expected_seq=1, durability="sync")
        got = await asyncio.wait_for(live, 5)
        assert log.stats.events_read == read  # given as they committed, not read back
        assert [(e.seq, e.position) for e in got] == [(1 + i, head + 1 + i) for i in range(40)]
        assert view(got) == view(await log.read("r", after_seq=0))
        assert [e.payload["token"] for e in got] == [f"w{i} " for i in range(40)]
    assert [count for *_, count in packed_rows(tmp_path / "live.db")] == [40]


async def test_the_chain_verifies_and_counts_events(logs: tuple[EventLog, EventLog]) -> None:
    for log in logs:
        for run_id in ("r1", "r2"):
            report = await log.verify_chain(run_id)
            assert report.ok, report
            assert report.checked == (await log.get_run(run_id)).last_seq + 1


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("UPDATE events SET packed = packed + 1 WHERE seq = {seq}", "out of order"),
        ("UPDATE events SET packed = packed - 1 WHERE seq = {seq}", "is missing"),
        ("UPDATE events SET packed = NULL WHERE seq = {seq}", "is missing"),
        ("UPDATE events SET packed = 1 WHERE seq = {seq}", "a row of 1 events"),
        ("token", "does not match its hash"),
        ("time", "does not match its hash"),
    ],
)
async def test_an_edited_packed_row_breaks_the_chain(
    files: tuple[Path, Path], edit: str, reason: str
) -> None:
    path = files[0]
    (run_id, seq, _position, count) = packed_rows(path)[1]  # r1's second: seqs 258 to 301
    with sqlite3.connect(path) as conn:
        if edit in ("token", "time"):
            (text,) = conn.execute("SELECT payload FROM events WHERE seq = ?", (seq,)).fetchone()
            prefix, offsets, rests = json.loads(text)
            if edit == "token":
                rests[5] = "9" + rests[5]
            else:
                offsets[5] += 1
            conn.execute(
                "UPDATE events SET payload = ? WHERE seq = ? AND run_key = 1",
                (json.dumps([prefix, offsets, rests], separators=(",", ":")), seq),
            )
        else:
            conn.execute(edit.format(seq=seq) + " AND run_key = 1")
    async with await open_log(path) as log:
        report = await log.verify_chain(run_id)
    assert not report.ok
    assert report.first_bad_seq == seq - count + 1  # the row's first event
    assert report.reason is not None and reason in report.reason


async def test_deleting_a_thread_counts_its_events(logs: tuple[EventLog, EventLog]) -> None:
    packed, plain = logs
    gone = await packed.delete_thread("t2")
    assert gone.events_deleted == (await plain.delete_thread("t2")).events_deleted == 63


async def test_a_graph_streaming_a_model_reads_back_its_tokens(tmp_path: Path) -> None:
    """Recorded by a graph (a model streamed in two nodes): replay, a thread's head and what
    follows it, and the log, each give every token."""
    reply = " ".join(f"word{i}" for i in range(120))
    model = GenericFakeChatModel(messages=iter([AIMessage(reply), AIMessage(reply)]))

    async def speak(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("first", speak)
    builder.add_node("second", speak)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    path = tmp_path / "graph.db"
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "g"}}
        start = {"messages": [("user", "hi")]}
        live = [c async for c in graph.astream(start, config, stream_mode="messages")]
    assert packed_rows(path), "the tokens streamed are stored packed"
    async with await open_log(path) as log:
        (run,) = await log.list_runs(thread_id="g")
        replayed = [c async for c in areplay(log, run.run_id, stream_mode="messages")]
        assert [encode(c) for c in replayed] == [encode(c) for c in live]
        tokens = await log.read(run.run_id, types=[EventType.CHAT_TOKEN])
        assert "".join(e.payload["token"] for e in tokens) == reply * 2
        # The head at the first checkpoint after the first node: its tail is what followed.
        checkpoints = await log.list_checkpoints("g")
        middle = next(c for c in reversed(checkpoints) if c.position > tokens[0].position)
        await log.drop_caches()
        assert await log.put_head(middle, {"at": "middle"})
        read = await log.head_and_tail("g")
        assert read.head is not None and read.head.checkpoint == middle
        after = [e for e in await log.read_all() if e.position > middle.position]
        assert view(read.tail) == view(after)
        assert sum(e.type == EventType.CHAT_TOKEN for e in read.tail) == len(tokens) // 2
        await log.drop_caches()
        whole = await log.head_and_tail("g")
        assert whole.head is None and view(whole.tail) == view(await log.read_all())


async def test_an_old_database_still_reads(tmp_path: Path) -> None:
    path = copy_of_fixture(tmp_path)
    async with await open_log(path) as log:
        runs = await log.list_runs(oldest_first=True)
        assert runs
        for run in runs:
            events = await log.read(run.run_id)
            assert [e.seq for e in events] == list(range(run.last_seq + 1))
            assert view(await collect(log.iter_run(run.run_id, page=3))) == view(events)
            middle = run.last_seq // 2
            bounded = await log.read(run.run_id, after_seq=middle - 1, until_seq=middle + 1)
            assert view(bounded) == view(events[middle : middle + 2])
            assert (await log.verify_chain(run.run_id)).ok
        everything = await log.read_all()
        assert view(await log.read_all(after_position=everything[3].position, limit=5)) == view(
            everything[4:9]
        )
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE packed IS NOT NULL").fetchone() == (
            0,
        )


class TaggedChat(BaseChatModel):
    """A chat model that streams as a provider's does: each chunk tagged with the provider in
    its ``response_metadata`` (as ChatOpenAI's), the message id the provider's."""

    reply: str

    @property
    def _llm_type(self) -> str:
        return "tagged"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        raise NotImplementedError("streamed only")

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        for word in self.reply.split(" "):
            yield ChatGenerationChunk(  # (LangChain reports each to the callbacks)
                message=AIMessageChunk(
                    content=word + " ",
                    id="chatcmpl-7",
                    response_metadata={"model_provider": "openai"},
                )
            )


def test_a_providers_tagged_tokens_are_packed_and_replay_as_streamed(tmp_path: Path) -> None:
    reply = " ".join(f"word{i}" for i in range(80))
    model = TaggedChat(reply=reply)

    def speak(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("speak", speak)
    builder.add_edge(START, "speak")
    builder.add_edge("speak", END)
    path = tmp_path / "graph.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "g"}}
        live = list(graph.stream({"messages": [("user", "hi")]}, config, stream_mode="messages"))
    assert "".join(chunk.content for chunk, _meta in live) == reply + " "
    with sqlite3.connect(path) as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM events WHERE packed = 80 AND type = 'chat.token'"
        ).fetchone()
    assert json.loads(json.loads(payload)[0]["chunk"]) == {
        "response_metadata": {"model_provider": "openai"}
    }

    async def read() -> tuple[list[Any], list[StoredEvent]]:
        async with await open_log(path) as log:
            (run,) = await log.list_runs(thread_id="g")
            replayed = [c async for c in areplay(log, run.run_id, stream_mode="messages")]
            return replayed, await log.read(run.run_id, types=[EventType.CHAT_TOKEN])

    replayed, tokens = asyncio.run(read())
    assert [encode(c) for c in replayed] == [encode(c) for c in live]
    assert [e.payload["chunk"] for e in tokens] == [chunk for chunk, _meta in live]
