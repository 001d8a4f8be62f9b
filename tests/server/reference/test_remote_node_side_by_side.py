"""A served graph whose node is a ``RemoteGraph``, on LangGraph's server and on rewind's: both
call the same assistants of a third server (``rewind serve`` of ``tests/server/app``), and a
run streamed with ``stream_subgraphs`` shows the remote run's chunks in its own stream,
namespaced under the node's task. The SSE events (names and normalised data) are compared:
thread-less, on a thread, and joined after the run (replayed from rewind's log) or while a
background run runs.

Marker ``langgraph_api`` (LangGraph's server in a virtualenv of its own, as
``test_sdk_side_by_side``):

    .venv/bin/python -m pytest -m langgraph_api tests/server/reference -s
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import start_server
from tests.server.reference import remote_parents
from tests.server.reference.compare import Normaliser, describe, differences
from tests.server.reference.servers import App, Running, start_langgraph, start_rewind, tail

pytestmark = [pytest.mark.langgraph_api, pytest.mark.timeout(600)]

HI = {"messages": [{"type": "human", "content": "hi"}]}
TIMEOUT = 60.0  # seconds one stream may take (a deadline)


@dataclass
class Parents:
    """The two parent servers, and the server their RemoteGraph nodes call."""

    langgraph: Running
    rewind: Running
    remote_url: str


@pytest.fixture(scope="module")
def parents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parents]:
    root = tmp_path_factory.mktemp("remote-node")
    remote = start_server(root / "remote.db")
    started: list[Running] = []
    try:
        app = App(source=Path(remote_parents.__file__).read_text(), graphs=remote_parents.GRAPHS)
        env = {"REMOTE_URL": remote.url}
        started.append(start_langgraph(root / "langgraph", app, env))
        started.append(start_rewind(root / "rewind", app, env))
        yield Parents(langgraph=started[0], rewind=started[1], remote_url=remote.url)
    finally:
        for running in reversed(started):
            running.stop()
        remote.stop()


def _events(response: httpx.Response) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name is not None:
            out.append((name, json.loads(line[len("data: ") :])))
    return out


def _stream(http: httpx.Client, method: str, path: str, **kwargs: Any) -> list[tuple[str, Any]]:
    with http.stream(method, path, timeout=TIMEOUT, **kwargs) as response:
        assert response.status_code == 200, response.read()
        return _events(response)


def _played(url: str, assistant: str, modes: list[str], thread: bool) -> dict[str, Any]:
    """A run streamed (thread-less or on a thread), then, on a thread, the run joined after
    its end and a background run joined as it runs: each stream's events, normalised."""
    normalise = Normaliser(url)
    body = {
        "assistant_id": f"via_{assistant}",
        "input": HI,
        "stream_mode": modes,
        "stream_subgraphs": True,
    }
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url) as http:
        if not thread:
            out["live"] = _stream(http, "POST", "/runs/stream", json=body)
        else:
            thread_id = http.post("/threads", json={}).json()["thread_id"]
            resumable = {**body, "stream_resumable": True}
            path = f"/threads/{thread_id}/runs"
            out["live"] = _stream(http, "POST", f"{path}/stream", json=resumable)
            (run,) = http.get(path).json()
            join = f"{path}/{run['run_id']}/stream"
            out["joined"] = _stream(http, "GET", join, headers={"Last-Event-ID": "-1"})
            other = http.post("/threads", json={}).json()["thread_id"]
            path = f"/threads/{other}/runs"
            run = http.post(path, json=resumable).json()
            join = f"{path}/{run['run_id']}/stream"
            out["background"] = _stream(http, "GET", join, headers={"Last-Event-ID": "-1"})
    for key, events in out.items():
        normalise.call = key
        out[key] = normalise(events)
    return out


CASES = [
    ("agent", ["updates", "values", "custom", "tasks"], True),
    (
        "agent",
        ["values", "updates", "messages-tuple", "custom", "debug", "tasks", "checkpoints"],
        False,
    ),
    ("boom", ["updates", "tasks"], False),
    ("nested", ["updates", "messages-tuple", "custom"], True),
    ("nested", ["updates", "checkpoints", "debug"], True),
    ("chatty", ["messages-tuple", "updates"], True),
    ("chatty", ["messages"], False),
    ("chatty", ["messages", "messages-tuple"], False),
    ("echo", ["messages", "values"], False),
    ("boom", ["updates", "values"], False),
    ("agent", ["events"], False),
]


@pytest.mark.parametrize(("assistant", "modes", "thread"), CASES, ids=repr)
def test_a_remote_nodes_chunks_in_the_served_stream_as_langgraphs(
    parents: Parents, assistant: str, modes: list[str], thread: bool
) -> None:
    theirs = _played(parents.langgraph.url, assistant, modes, thread)
    ours = _played(parents.rewind.url, assistant, modes, thread)
    diffs = list(differences(theirs, ours))
    assert not diffs, "\n".join(describe(diffs)[:20]) + "\n" + tail(parents.rewind)
    # (``messages`` shows no namespace, ``events`` none of the graph's own stream; the failing
    # remote run forwards its task's start only)
    namespaced = any("|" in name for name, _ in ours["live"])
    forwards = assistant != "boom" or "tasks" in modes
    assert namespaced == (forwards and modes not in (["messages"], ["events"]))


def test_the_tools_stream_mode_is_refused_as_langgraphs(parents: Parents) -> None:
    """LangGraph's server refuses ``tools`` on its run routes (a 422: its request schema's
    stream modes leave it out), so a parent streamed with ``tools`` and ``subgraphs`` fails its
    RemoteGraph node on both servers alike; a join asking for ``tools`` gets no chunk."""
    from rewind.graph import START, StateGraph
    from rewind.remote import RemoteGraph

    def answers(url: str) -> list[Any]:
        out: list[Any] = []
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            thread_id = http.post("/threads", json={}).json()["thread_id"]
            for path in (
                "/runs/stream",
                "/runs/wait",
                "/runs",
                f"/threads/{thread_id}/runs/stream",
            ):
                for modes in ("tools", ["updates", "tools"]):
                    body = {"assistant_id": "via_echo", "input": HI, "stream_mode": modes}
                    out.append((path.split(thread_id)[-1], http.post(path, json=body).status_code))
            run = http.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": "via_echo"})
            (done,) = http.get(f"/threads/{thread_id}/runs").json()
            join = f"/threads/{thread_id}/runs/{done['run_id']}/stream"
            joined = _stream(http, "GET", join, params={"stream_mode": "tools"})
            out.append(("join", run.status_code, [n for n, _ in joined if n != "metadata"]))
        remote = RemoteGraph("via_echo", url=url)
        builder = StateGraph(remote_parents.Outer)
        builder.add_node("remote", remote)
        builder.add_edge(START, "remote")
        try:
            list(builder.compile().stream(HI, stream_mode=["updates", "tools"], subgraphs=True))
        except Exception as exc:
            out.append(("parent", type(exc).__name__, getattr(exc, "response", exc).status_code))
        finally:
            remote.sync_client.close()
        return out

    theirs = answers(parents.langgraph.url)
    assert theirs == answers(parents.rewind.url)
    assert {a[1] for a in theirs if a[0] not in ("join", "parent")} == {422}
    assert ("join", 200, []) in theirs and ("parent", "UnprocessableEntityError", 422) in theirs


def test_the_parents_state_shows_the_remote_task_as_langgraphs(parents: Parents) -> None:
    """The served parent stopped by the remote run's interrupt: its state (with and without
    subgraphs: the remote thread's state, asked of its server) and its history show the
    RemoteGraph task as a subgraph's, as LangGraph's server shows them."""

    def states(url: str) -> Any:
        normalise = Normaliser(url)
        out: dict[str, Any] = {}
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            thread_id = http.post("/threads", json={}).json()["thread_id"]
            body = {"assistant_id": "via_agent", "input": HI}
            http.post(f"/threads/{thread_id}/runs/wait", json=body).raise_for_status()
            out["state"] = http.get(f"/threads/{thread_id}/state").json()
            sub = http.get(f"/threads/{thread_id}/state", params={"subgraphs": "true"})
            out["subgraphs"] = sub.json()
            out["history"] = http.post(f"/threads/{thread_id}/history", json={}).json()
        normalise.call = "state"
        return normalise(out)

    theirs = states(parents.langgraph.url)
    ours = states(parents.rewind.url)
    diffs = list(differences(theirs, ours))
    assert not diffs, "\n".join(describe(diffs)[:20])
    (task,) = ours["subgraphs"]["tasks"]
    assert task["state"]["values"]["steps"] == ["agent"]
    assert ours["state"]["tasks"][0]["checkpoint"]["checkpoint_ns"].startswith("remote:")
