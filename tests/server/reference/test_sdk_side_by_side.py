"""Every method of the official SDK's clients, called the same way on LangGraph's own server
(``langgraph dev``, its in-memory runtime) and on ``rewind serve``: the answers, normalised
(:mod:`compare`), are the same, but for the calls in :data:`KNOWN_DIFFERENCES`. So are the
calls of the protocols the SDK has no client for (MCP, A2A, generative UI), made over plain
HTTP.

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
from tests.server.reference.calls.base import Http
from tests.server.reference.compare import Normaliser, describe, differences, error_outcome
from tests.server.reference.servers import Running, start_langgraph, start_rewind, tail

pytestmark = [pytest.mark.langgraph_api, pytest.mark.timeout(900)]

KNOWN_DIFFERENCES: dict[str, str] = {
    "assistants.set_latest": "LangGraph's set_latest restores the version's config but keeps the "
    "latest version's context; rewind restores both",
    "assistants.search (metadata)": "the assistant after set_latest (see assistants.set_latest)",
    "threads.get_state (seeded)": "the checkpoint of a later super-step: LangGraph's server "
    "keeps the id of the checkpoint before it in its metadata (its checkpointer stores the "
    "config's metadata unfiltered, checkpoint_id included); rewind does not",
    "runs.stream (events)": "a node's returned AIMessage has no id in rewind's on_chain_stream "
    "and on_chain_end events",
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
    plain = httpx.AsyncClient(base_url=url, timeout=CALL_TIMEOUT)
    started = time.perf_counter()
    try:
        for call in CALLS:
            used: set[str] = set()
            client: Any
            if call.http:
                client = Http(plain, used)
            else:
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
        await plain.aclose()
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
