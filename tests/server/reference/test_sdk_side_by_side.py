"""Every method of the official SDK's clients, called the same way on LangGraph's own server
(``langgraph dev``, its in-memory runtime) and on ``rewind serve``: the answers, normalised
(:mod:`compare`), are the same, but for the calls in :data:`KNOWN_DIFFERENCES`.

Marker ``langgraph_api``: left out of the default suite (it installs LangGraph's server in a
virtualenv of its own on first use), run by ``.ci/run``:

    .venv/bin/python -m pytest -m langgraph_api tests/server/reference -s

The report (``-s`` shows it) counts the calls compared and the identical ones, then names each
difference: the call, the path in its JSON, LangGraph's value and rewind's.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from tests.server.reference.calls import CALLS
from tests.server.reference.compare import Normaliser, describe, differences, error_outcome
from tests.server.reference.servers import Running, start_langgraph, start_rewind, tail

pytestmark = [pytest.mark.langgraph_api, pytest.mark.timeout(900)]

RUN_KEYS = (
    "a run's config and metadata: LangGraph's server adds its own keys (created_by, "
    "langgraph_auth_*, langgraph_request_id, __request_start_time_ms__, langgraph_api_url, ...) "
    "and the thread's metadata; rewind adds rewind_stream, run_id, run_attempt"
)
CHECKPOINT_KEYS = (
    "checkpoint metadata: LangGraph's carries the run's server keys (created_by, langgraph_*, "
    "user_id), thread_id and the thread's metadata; rewind's none of them"
)
MESSAGE_KEYS = (
    "messages' metadata: LangGraph's carries its server keys (created_by, langgraph_api_url, "
    "langgraph_host, langgraph_plan, langgraph_version, ...) and run_id; rewind's not"
)
SELECT = "select is ignored: rewind answers with every field"
CRON_USER = 'a cron\'s user_id: LangGraph "", rewind null'
KNOWN_DIFFERENCES: dict[str, str] = {
    "assistants.set_latest": "LangGraph's set_latest restores the version's config but keeps the "
    "latest version's context; rewind restores both",
    "assistants.search (metadata)": "the assistant after set_latest (see assistants.set_latest)",
    "threads.create (graph_id, supersteps)": "supersteps are not applied: no values, no "
    "error/interrupts keys",
    "threads.get_state (seeded)": "supersteps are not applied: the thread has no checkpoint",
    "threads.search (status, select)": SELECT,
    "threads.get_state (no run yet)": "rewind answers 409 for a thread with no checkpoint, "
    "LangGraph an empty state",
    "threads.get_state": CHECKPOINT_KEYS,
    "threads.get_history": CHECKPOINT_KEYS,
    "threads.get_history (metadata, before)": CHECKPOINT_KEYS,
    "threads.get_state (checkpoint_id)": CHECKPOINT_KEYS + "; rewind's checkpoint has "
    "checkpoint_ns",
    "threads.get_state (checkpoint)": CHECKPOINT_KEYS + "; rewind's checkpoint has checkpoint_ns",
    "threads.get_state (after update_state)": "update_state's checkpoint metadata: LangGraph's "
    "has graph_id and thread_id, rewind's not",
    "threads.copy": "rewind's copy answers with values, error and interrupts too",
    "threads.get_state (copy)": "the copied update_state checkpoint's metadata: LangGraph's has "
    "graph_id and thread_id, rewind's not",
    "sync threads.get_state": CHECKPOINT_KEYS,
    "sync threads.get_history": CHECKPOINT_KEYS,
    "runs.create": RUN_KEYS,
    "runs.get": RUN_KEYS,
    "runs.list": RUN_KEYS,
    "runs.list (status, select)": SELECT,
    "runs.stream (updates, custom, messages-tuple)": MESSAGE_KEYS,
    "runs.stream (stateless, tokens, messages)": MESSAGE_KEYS,
    "runs.stream (stateless, tokens, messages-tuple)": MESSAGE_KEYS,
    "runs.stream (debug)": "debug checkpoint payloads: LangGraph's have checkpoint, "
    "parent_checkpoint and the run's configurable; rewind's neither, but more metadata",
    "runs.stream (tasks, checkpoints)": "checkpoints events: LangGraph's config carries the "
    "run's configurable, rewind's metadata assistant_id, graph_id, run_id, run_attempt",
    "runs.stream (stateless, checkpoints)": "LangGraph's server sends no checkpoints events for "
    "a stateless run; rewind sends them",
    "runs.stream (events)": "a node's returned AIMessage has no id in rewind's on_chain_stream "
    "and on_chain_end events; plus the server keys in each event's metadata",
    "threads.get (interrupted)": "an interrupted thread's config: LangGraph's is "
    '{"configurable": {}}, rewind\'s {}',
    "threads.get_state (interrupted)": CHECKPOINT_KEYS,
    "threads.get_state (subgraphs)": CHECKPOINT_KEYS,
    "runs.create (slow)": RUN_KEYS,
    "runs.create (multitask enqueue)": RUN_KEYS,
    "runs.cancel": "LangGraph answers a cancel with {}, rewind with an empty body (None)",
    "runs.get (cancelled)": RUN_KEYS,
    "runs.join (after cancel_many)": RUN_KEYS,
    "runs.create_batch": RUN_KEYS + "; rewind answers with the first run already success "
    "(LangGraph: pending)",
    "runs.create (stateless)": RUN_KEYS + "; rewind's stateless run has graph_id in its metadata",
    "runs.create (stream_resumable)": RUN_KEYS,
    "threads.stream": "the v3 thread protocol (POST /threads/{id}/commands) is not served: 501",
    "sync runs.create": RUN_KEYS,
    "crons.create": CRON_USER,
    "crons.create_for_thread": CRON_USER,
    "crons.search": CRON_USER,
    "crons.search (thread)": CRON_USER,
    "crons.update": CRON_USER,
    "sync crons.search": CRON_USER,
}
"""Calls whose answers differ today (call name -> why, in one line). Empty it as rewind catches
up: a call listed here that answers the same fails the test until it is removed."""

CALL_TIMEOUT = 60.0  # seconds one call may take on either server (a deadline)
SHOWN_LINES = 8  # lines of differences shown per call


@dataclass
class Pair:
    """The two servers under comparison."""

    langgraph: Running
    rewind: Running


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """LangGraph's dev server and rewind's, each serving the graphs of ``graphs.py``."""
    root = tmp_path_factory.mktemp("side-by-side")
    langgraph = start_langgraph(root / "langgraph")
    try:
        ours = start_rewind(root / "rewind")
    except BaseException:
        langgraph.stop()
        raise
    try:
        yield Pair(langgraph=langgraph, rewind=ours)
    finally:
        ours.stop()
        langgraph.stop()


class Recorded:
    """A client whose parts (``threads``, ``runs``...) note each method asked of them."""

    def __init__(self, client: Any, used: set[str]) -> None:
        self._client = client
        self._used = used

    def __getattr__(self, part: str) -> Any:
        return _RecordedPart(getattr(self._client, part), part, self._used)


class _RecordedPart:
    def __init__(self, part: Any, name: str, used: set[str]) -> None:
        self._part = part
        self._name = name
        self._used = used

    def __getattr__(self, method: str) -> Any:
        self._used.add(f"{self._name}.{method}")
        return getattr(self._part, method)


@dataclass
class Played:
    """What one server answered to the calls."""

    outcomes: dict[str, Any] = field(default_factory=dict)
    """Call name -> ``{"result": ...}`` or the error (:func:`error_outcome`), normalised."""
    used: dict[str, set[str]] = field(default_factory=dict)
    """Call name -> the SDK methods it called."""
    broken: dict[str, str] = field(default_factory=dict)
    """Call name -> an exception that is no server's answer (neither an HTTP error nor the
    error of a run that ``runs.wait`` raises): the call itself is wrong."""
    seconds: float = 0.0


async def play(url: str) -> Played:
    """Every call of :data:`CALLS`, in order, against the server at ``url``."""
    played = Played()
    normalise = Normaliser(url)
    ctx: dict[str, Any] = {}
    async_client = get_client(url=url, api_key=None, timeout=CALL_TIMEOUT)
    sync_client = get_sync_client(url=url, api_key=None, timeout=CALL_TIMEOUT)
    started = time.perf_counter()
    try:
        for call in CALLS:
            used: set[str] = set()
            client = Recorded(sync_client if call.sync else async_client, used)
            normalise.call = call.name
            try:
                if call.sync:
                    value = await asyncio.to_thread(call.run, client, ctx)
                else:
                    value = await asyncio.wait_for(call.run(client, ctx), CALL_TIMEOUT)
                outcome = {"result": normalise(value, unordered=call.unordered, root="$.result")}
            except Exception as exc:
                outcome = error_outcome(exc, normalise, detail=call.detail)
                if not isinstance(exc, httpx.HTTPStatusError) and type(exc) is not Exception:
                    played.broken[call.name] = repr(exc)
            played.outcomes[call.name] = outcome
            played.used[call.name] = used
    finally:
        await async_client.aclose()
        sync_client.close()
    played.seconds = time.perf_counter() - started
    return played


def report(reference: Played, ours: Played) -> tuple[str, set[str]]:
    """The comparison as text, and the names of the calls answered differently."""
    lines: list[str] = []
    differing: set[str] = set()
    for call in CALLS:
        diffs = list(differences(reference.outcomes[call.name], ours.outcomes[call.name]))
        if not diffs:
            continue
        differing.add(call.name)
        lines.append(call.name + ("  [known]" if call.name in KNOWN_DIFFERENCES else ""))
        described = describe(diffs)
        lines.extend(f"    {line}" for line in described[:SHOWN_LINES])
        if len(described) > SHOWN_LINES:
            lines.append(f"    ... and {len(described) - SHOWN_LINES} more")
    head = f"calls compared: {len(CALLS)}, identical: {len(CALLS) - len(differing)}"
    timing = (
        f"(played in {reference.seconds:.1f} s on LangGraph's server, "
        f"{ours.seconds:.1f} s on rewind's)"
    )
    return "\n".join([f"{head} {timing}", *lines]), differing


def public_methods(client: Any) -> set[str]:
    """Every public method of a client's parts (``threads.get_state``), read from the SDK's
    classes."""
    return {
        f"{part}.{name}"
        for part, value in vars(client).items()
        if part != "http"
        for name, _ in inspect.getmembers(type(value), inspect.isfunction)
        if not name.startswith("_")
    }


async def test_the_calls_cover_every_public_method_of_the_sdk() -> None:
    names = [call.name for call in CALLS]
    assert len(names) == len(set(names)), "call names must be unique"
    async with get_client(url="http://127.0.0.1:9", api_key=None) as client:  # never connects
        missing = public_methods(client) - {call.method for call in CALLS if not call.sync}
    assert not missing, f"SDK methods no call exercises (add them to calls.py): {missing}"
    with get_sync_client(url="http://127.0.0.1:9", api_key=None) as client:
        methods = public_methods(client)
    absent = {call.name for call in CALLS if call.sync and call.method not in methods}
    assert not absent, f"sync calls of methods the sync client lacks: {absent}"
    assert set(KNOWN_DIFFERENCES) <= set(names), set(KNOWN_DIFFERENCES) - set(names)


async def test_every_sdk_call_answers_as_on_langgraphs_server(servers: Pair) -> None:
    reference, ours = await asyncio.gather(play(servers.langgraph.url), play(servers.rewind.url))
    text, differing = report(reference, ours)
    print(f"\n{text}")
    assert not reference.broken, f"calls that fail on LangGraph's server: {reference.broken}"
    for call in CALLS:  # the list is honest: each call reached the method it names
        assert call.method in reference.used[call.name], (
            f"{call.name} never called {call.method} on LangGraph's server: "
            f"{reference.outcomes[call.name]}\n{tail(servers.langgraph)}"
        )
    now_identical = sorted(set(KNOWN_DIFFERENCES) - differing)
    assert not now_identical, (
        f"these calls now answer as on LangGraph's server: remove them from "
        f"KNOWN_DIFFERENCES: {now_identical}"
    )
    unexpected = sorted(differing - set(KNOWN_DIFFERENCES))
    assert not unexpected, f"calls answered differently: {unexpected}\n{text}"
