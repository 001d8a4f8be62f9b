"""A v3 run stream replayed from the log gives what the live client got, projection by
projection: each run is streamed live through a SQLite file, then replayed by a fresh log
opened on that file (nothing but the database is shared), and every projection is read alike
from both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.errors import NotAV3RunError, RecordedRunError, UnknownRunError
from rewind.events import EventType
from rewind.graph import START, MessagesState, StateGraph
from rewind.log import EventLog
from rewind.prebuilt import ToolCallTransformer
from rewind.stream import (
    CheckpointsTransformer,
    CustomTransformer,
    DebugTransformer,
    StreamChannel,
    TasksTransformer,
    UpdatesTransformer,
    areplay_events,
    replay_events,
)
from rewind.types import Command
from tests.stream_v3 import replay_programs

pytestmark = pytest.mark.filterwarnings("ignore::langchain_core._api.LangChainBetaWarning")

TRANSFORMERS = [
    UpdatesTransformer,
    CustomTransformer,
    CheckpointsTransformer,
    DebugTransformer,
    TasksTransformer,
    ToolCallTransformer,
]
CONFIG = {"configurable": {"thread_id": "desk"}}


def _event(e: Any) -> dict[str, Any]:
    """A protocol event as compared: all but its timestamp (when it was read, live)."""
    params = e["params"]
    out = {"seq": e.get("seq"), "method": e["method"], "namespace": params["namespace"]}
    out["data"] = params["data"]
    if "interrupts" in params:
        out["interrupts"] = params["interrupts"]
    return out


def _chat(s: Any) -> dict[str, Any]:
    """A ``ChatModelStream`` (it keeps its deltas: read once the run is over)."""
    return {
        "node": s.node,
        "namespace": s.namespace,
        "message_id": s.message_id,
        "events": list(s),
        "text": list(s.text),
        "reasoning": list(s.reasoning),
        "tool_call_deltas": list(s.tool_calls),
        "tool_calls": s.tool_calls.get(),
        "output": s.output,
    }


def _names(run: Any) -> list[str]:
    """The channel projections of ``run`` (a run stream or a subgraph's handle)."""
    return sorted(k for k, v in run.extensions.items() if isinstance(v, StreamChannel))


def _channels(run: Any) -> dict[str, Any]:
    """Every channel projection of ``run``, subscribed now: each keeps what comes from here
    on."""
    return {name: iter(run.extensions[name]) for name in _names(run)}


def _drained(items: Any) -> list[Any]:
    """What a reader reads of ``items``: each item, then the error it raised, if one."""
    out: list[Any] = []
    try:
        out.extend(items)
    except Exception as e:
        out.append({"raised": type(e).__name__, "message": str(e)})
    return out


def read_sync(run: Any) -> dict[str, Any]:
    """Everything a user can read of a sync run stream: each projection's items (a subgraph's
    handle and a tool call subscribed to as they arrive), the raw events, the run's end."""
    raw = iter(run)
    handles: list[tuple[Any, dict[str, Any], Any]] = []
    calls: list[tuple[Any, Any]] = []
    seen: dict[str, list[Any]] = {name: [] for name in _names(run)}
    try:
        for name, item in run.interleave(*seen):
            if name == "subgraphs":
                handles.append((item, _channels(item), iter(item)))
            elif name == "tool_calls":
                calls.append((item, iter(item)))
            seen[name].append(item)
        end: Any = {"output": run.output, "interrupted": run.interrupted}
        end["interrupts"] = run.interrupts
    except Exception as e:
        end = {"raised": type(e).__name__, "message": str(e)}
    seen["messages"] = [_chat(s) for s in seen["messages"]]
    seen["subgraphs"] = [_handle(h, chans, events) for h, chans, events in handles]
    seen["tool_calls"] = [_call(c, _drained(deltas)) for c, deltas in calls]
    events = [_event(e) if "raised" not in e else e for e in _drained(raw)]
    return {**seen, "events": events, "end": end}


def _handle(handle: Any, channels: dict[str, Any], events: Any) -> dict[str, Any]:
    read = {name: _drained(items) for name, items in channels.items()}
    read["messages"] = [_chat(s) for s in read["messages"]]
    read["subgraphs"] = [h.path for h in read["subgraphs"]]
    read["tool_calls"] = [_call(c, None) for c in read.get("tool_calls", ())]
    about = {"path": handle.path, "graph_name": handle.graph_name, "status": handle.status}
    about |= {"trigger_call_id": handle.trigger_call_id, "error": handle.error}
    shown = [_event(e) if "raised" not in e else e for e in _drained(events)]
    return {**about, **read, "events": shown}


def _call(call: Any, deltas: list[Any] | None) -> dict[str, Any]:
    about = {"id": call.tool_call_id, "name": call.tool_name, "input": call.input}
    return {**about, "deltas": deltas, "output": call.output, "completed": call.completed}


async def read_async(run: Any) -> dict[str, Any]:
    """What :func:`read_sync` reads, on the async lane: every root projection subscribed at
    once and read by readers of their own (sharing the run's pump); subgraphs' handles and
    tool calls described once the run is over."""
    channels = {name: aiter(run.extensions[name]) for name in _names(run)}
    raw = aiter(run)

    async def drain(items: Any) -> list[Any]:
        return [item async for item in items]

    try:
        read = await asyncio.gather(drain(raw), *(drain(c) for c in channels.values()))
        end: Any = {"output": await run.output(), "interrupted": await run.interrupted()}
        end["interrupts"] = await run.interrupts()
    except Exception as e:
        return {"raised": type(e).__name__, "message": str(e)}
    seen = dict(zip(channels, read[1:], strict=True))
    seen["messages"] = [await _achat(s) for s in seen["messages"]]
    seen["subgraphs"] = [[h.path, h.graph_name, h.status] for h in seen["subgraphs"]]
    seen["tool_calls"] = [
        [c.tool_call_id, c.tool_name, c.input, c.output, c.completed] for c in seen["tool_calls"]
    ]
    return {**seen, "events": [_event(e) for e in read[0]], "end": end}


async def _achat(s: Any) -> dict[str, Any]:
    return {
        "node": s.node,
        "message_id": s.message_id,
        "events": [e async for e in s],
        "text": [t async for t in s.text],
        "reasoning": [t async for t in s.reasoning],
        "tool_calls": await s.tool_calls,
        "output": await s.output,
    }


def _logged(path: Path, run: Callable[[Any], Any]) -> Any:
    """``run(graph)`` of the desk, kept in the SQLite file ``path``."""
    with SqliteSaver.from_conn_string(str(path)) as saver:
        return run(replay_programs.build_desk(saver))


def _with_log(path: Path, use: Callable[[EventLog, list[str]], Any]) -> Any:
    """``use(log, run ids oldest first)`` with a fresh log opened on ``path``."""

    async def go() -> Any:
        log = await open_log(path)
        try:
            runs = await log.list_runs(thread_id="desk", oldest_first=True)
            found = use(log, [r.run_id for r in runs])
            return await found if asyncio.iscoroutine(found) else found
        finally:
            await log.aclose()

    return asyncio.run(go())


def _live_desk_sync(path: Path) -> list[dict[str, Any]]:
    def run(graph: Any) -> list[dict[str, Any]]:
        first = graph.stream_events(
            replay_programs.INPUT, CONFIG, version="v3", transformers=TRANSFORMERS
        )
        second = graph.stream_events(
            Command(resume="yes"), CONFIG, version="v3", transformers=TRANSFORMERS
        )
        return [read_sync(first), read_sync(second)]

    return _logged(path, run)


def test_a_sync_replay_gives_every_projection_the_live_run_stream_gave(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    live = _live_desk_sync(path)
    replayed = _with_log(
        path,
        lambda log, runs: [
            read_sync(replay_events(log, r, version="v3", transformers=TRANSFORMERS)) for r in runs
        ],
    )
    assert replayed == live
    _assert_substantial(live)


def _assert_substantial(live: list[dict[str, Any]]) -> None:
    """What was compared holds what it is meant to: deltas of each kind, a subgraph with a
    model call of its own, a tool's output deltas, an interrupt, then the resumed end."""
    first, second = live
    think = first["messages"][0]
    assert think["reasoning"] == ["The user", "wants tides."]
    assert think["text"] == ["Let", " me", " look."]
    assert think["tool_calls"][0]["args"] == {"port": "Brest"} and think["tool_call_deltas"]
    assert first["tool_calls"][0]["deltas"] == [
        {"part": "high", "port": "Brest"},
        {"part": "low", "port": "Brest"},
    ]
    (review,) = first["subgraphs"]
    assert review["graph_name"] == "review" and review["status"] == "interrupted"
    assert review["messages"][0]["text"][0] == "Dear"
    assert first["lifecycle"] and first["updates"] and first["checkpoints"] and first["debug"]
    assert first["end"]["interrupted"] and first["end"]["interrupts"][0].value["n"] == 5
    assert second["custom"] == [{"sent": 6}]
    assert not second["end"]["interrupted"]
    assert second["end"]["output"]["messages"][-1].content == "sent"


def test_an_async_replay_gives_every_projection_the_live_run_stream_gave(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"

    async def live_runs(graph: Any) -> list[dict[str, Any]]:
        out = []
        for given in (replay_programs.INPUT, Command(resume="yes")):
            run = await graph.astream_events(given, CONFIG, version="v3", transformers=TRANSFORMERS)
            out.append(await read_async(run))
        return out

    live = _logged(path, lambda graph: asyncio.run(live_runs(graph)))

    async def replayed_runs(log: EventLog, runs: list[str]) -> list[dict[str, Any]]:
        return [
            await read_async(await areplay_events(log, r, transformers=TRANSFORMERS)) for r in runs
        ]

    replayed = _with_log(path, replayed_runs)
    assert replayed == live
    assert live[0]["messages"][0]["reasoning"] == ["The user", "wants tides."]
    assert live[0]["subgraphs"] == [[live[0]["subgraphs"][0][0], "review", "interrupted"]]
    assert live[1]["custom"] == [{"sent": 6}]


def test_a_replayed_events_timestamp_is_when_the_run_made_it(tmp_path: Path) -> None:
    """Live, a protocol event is stamped when the client reads it; replayed, when the run made
    the event it comes from: never later than live, and in the run's order."""
    path = tmp_path / "runs.db"
    live = _logged(
        path,
        lambda graph: [
            e["params"]["timestamp"]
            for e in graph.stream_events(replay_programs.INPUT, CONFIG, version="v3")
        ],
    )
    replayed = _with_log(
        path,
        lambda log, runs: [e["params"]["timestamp"] for e in replay_events(log, runs[0])],
    )
    assert len(replayed) == len(live)
    assert all(r <= seen for r, seen in zip(replayed, live, strict=True))
    assert replayed == sorted(replayed) and replayed[0] >= live[0] - 1000


def test_a_replay_takes_the_graphs_own_transformers_and_others_the_live_call_had_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_programs.build_desk(saver, transformers=[UpdatesTransformer])
        live = read_sync(graph.stream_events(replay_programs.INPUT, CONFIG, version="v3"))
    replayed = _with_log(
        path,
        lambda log, runs: read_sync(
            replay_events(log, runs[0], graph=graph, transformers=[ToolCallTransformer])
        ),
    )
    # (its raw events have the tools mode's besides: what the replay's transformers read)
    for name in ("values", "messages", "lifecycle", "updates", "end"):
        assert replayed[name] == live[name], name
    assert live["updates"] and live["tool_calls"] == []
    calls = replayed["tool_calls"]
    assert [(c["name"], c["input"], c["output"]) for c in calls] == [
        ("tides", {"port": "Brest"}, "tides of Brest: high 06:12, low 12:30")
    ]
    assert calls[0]["deltas"] == [
        {"part": "high", "port": "Brest"},
        {"part": "low", "port": "Brest"},
    ]


def test_a_replay_from_a_checkpoint_is_the_live_run_stream_from_there(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    live = _live_desk_sync(path)[0]

    async def from_checkpoints(log: EventLog, runs: list[str]) -> list[tuple[int, Any]]:
        stored = await log.read(runs[0], types=[EventType.CHECKPOINT])
        roots = [e.payload["id"] for e in stored if not e.ns]
        with pytest.raises(ValueError, match="has no checkpoint 'no-such-checkpoint'"):
            await areplay_events(log, runs[0], start="no-such-checkpoint")
        out = []
        for index in (2, 4):  # before the tool's step; before the review subgraph's
            run = replay_events(log, runs[0], start=roots[index], transformers=TRANSFORMERS)
            out.append((index, await asyncio.to_thread(read_sync, run)))
        return out

    for index, replayed in _with_log(path, from_checkpoints):
        # The checkpoint's own values event is the first shown, as areplay's start shows it:
        # the run's first checkpoint (its input's) shows none, each later root checkpoint
        # the state after its step.
        roots = [i for i, e in enumerate(live["events"]) if e["method"] == "values"]
        roots = [i for i in roots if live["events"][i]["namespace"] == []]
        suffix = live["events"][roots[index - 1] :]
        assert _unnumbered(replayed["events"]) == _unnumbered(suffix)
        first = live["events"][0]["seq"]  # numbered from there, as a live run stream numbers
        assert [e["seq"] for e in replayed["events"]] == list(range(first, first + len(suffix)))
        assert replayed["values"] == live["values"][index - 1 :]
        assert _handles(replayed) == _handles(live)
        assert replayed["end"] == live["end"]
        shown = {s["message_id"] for s in replayed["messages"]}
        assert replayed["messages"] == [s for s in live["messages"] if s["message_id"] in shown]
        assert len(replayed["messages"]) == (1 if index == 2 else 0)


def _handles(read: dict[str, Any]) -> list[dict[str, Any]]:
    """The subgraphs' handles read, their events unnumbered (the run's own numbers)."""
    return [{**h, "events": _unnumbered(h["events"])} for h in read["subgraphs"]]


def _unnumbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "seq"} for e in events]


def test_the_messages_mode_of_a_replayed_v3_run_shows_its_live_protocol_events(
    tmp_path: Path,
) -> None:
    """A v3 run's own ``messages`` mode gave the models' content-block events (each with its
    metadata): the raw ``messages`` events of its run stream. Its replay gives the same."""
    path = tmp_path / "runs.db"
    live = _live_desk_sync(path)[0]
    shown = [(tuple(e["namespace"]), e["data"]) for e in live["events"]]
    shown = [s for s, e in zip(shown, live["events"], strict=True) if e["method"] == "messages"]

    async def replayed(log: EventLog, runs: list[str]) -> dict[str, Any]:
        v2 = areplay(log, runs[0], stream_mode="messages", subgraphs=True, version="v2")
        v1 = areplay(log, runs[0], stream_mode=["messages"], subgraphs=True)
        return {"v2": [(p["ns"], p["data"]) async for p in v2], "v1": [c async for c in v1]}

    found = _with_log(path, replayed)
    assert found["v2"] == shown
    assert found["v1"] == [(ns, "messages", data) for ns, data in shown]
    assert shown[0][1][0] == {"event": "message-start", "role": "ai", "id": shown[0][1][0]["id"]}
    assert {e[1][0]["event"] for e in shown} >= {"content-block-delta", "message-finish"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({}, {"raised": "ValueError", "message": "the desk broke"}),
        ({"recursion_limit": 1}, {"raised": "GraphRecursionError"}),
    ],
    ids=["a node's error", "the run's own error"],
)
def test_a_failed_v3_run_replays_to_its_error(
    tmp_path: Path, config: dict[str, Any], error: dict[str, Any]
) -> None:
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = replay_programs.build_failing(saver)
        given = {**CONFIG, **config}
        live = read_sync(graph.stream_events(replay_programs.INPUT, given, version="v3"))
    replayed = _with_log(path, lambda log, runs: read_sync(replay_events(log, runs[0])))
    assert replayed == live
    assert error.items() <= live["end"].items()
    assert live["messages"][0]["text"] == ["Let", " me", " look."]


def test_an_error_the_log_cannot_rebuild_replays_as_its_recorded_type_and_message(
    tmp_path: Path,
) -> None:
    class DeskError(Exception):  # (local: a replay cannot import it)
        pass

    def broken(state: MessagesState) -> dict[str, Any]:
        raise DeskError("no ink")

    builder = StateGraph(MessagesState)
    builder.add_node("broken", broken)
    builder.add_edge(START, "broken")
    path = tmp_path / "runs.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        run = builder.compile(checkpointer=saver).stream_events(
            replay_programs.INPUT, CONFIG, version="v3"
        )
        with pytest.raises(DeskError):
            _ = run.output

    def replayed(log: EventLog, runs: list[str]) -> tuple[RecordedRunError, str]:
        with pytest.raises(RecordedRunError) as raised:
            _ = replay_events(log, runs[0]).output
        return raised.value, runs[0]

    error, run_id = _with_log(path, replayed)
    assert (error.type, error.message, error.run_id) == ("DeskError", "no ink", run_id)
    assert str(error) == f"run {run_id!r} failed with DeskError: no ink"


def test_a_run_not_streamed_as_v3_has_no_v3_form(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _logged(
        path,
        lambda graph: list(graph.stream(replay_programs.INPUT, CONFIG, stream_mode="messages")),
    )

    async def refused(log: EventLog, runs: list[str]) -> list[Any]:
        out: list[Any] = []
        for call in (
            lambda: areplay_events(log, runs[0]),
            lambda: asyncio.to_thread(replay_events, log, runs[0]),
            lambda: areplay_events(log, "no-such-run"),
            lambda: areplay_events(log, runs[0], version="v2"),
        ):
            try:
                await call()
            except Exception as e:
                out.append(e)
        return out

    not_v3, not_v3_sync, unknown, version = _with_log(path, refused)
    assert isinstance(not_v3, NotAV3RunError) and not_v3.run_id in str(not_v3)
    assert "stream_mode=" in str(not_v3) and "version='v3'" in str(not_v3)
    assert isinstance(not_v3_sync, NotAV3RunError)
    assert isinstance(unknown, UnknownRunError)
    assert isinstance(version, ValueError) and "stream_mode='events'" in str(version)
