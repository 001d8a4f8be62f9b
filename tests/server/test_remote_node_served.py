"""A graph served by ``rewind serve`` whose node is a ``RemoteGraph`` (on another server): a
run streamed with ``stream_subgraphs`` shows the remote run's chunks in its own stream,
namespaced under the node's task, live and when a client joins later (replayed from the log),
as LangGraph's server forwards them (compared side by side with it in
``tests/server/reference/test_remote_node_side_by_side.py``).

The served app runs in process; the remote server is the session's ``rewind serve``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest

from rewind.graph import START, StateGraph
from rewind.remote import RemoteGraph
from rewind.server import create_app
from tests.server.conftest import Server

HI = {"messages": [{"type": "human", "content": "hi"}]}

Sse = tuple[str | None, str, Any]
"""(id, event, data) of one SSE event."""


class Outer(TypedDict, total=False):
    messages: list[Any]
    steps: list[str]
    answer: str


def _parent(url: str, assistant: str) -> Any:
    builder = StateGraph(Outer)
    builder.add_node("remote", RemoteGraph(assistant, url=url))
    builder.add_edge(START, "remote")
    return builder.compile()


@pytest.fixture
async def served(server: Server, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The parent graphs served in process (``via_<assistant>`` calls the session server's
    ``<assistant>``), and an HTTP client of them."""
    graphs = {f"via_{a}": _parent(server.url, a) for a in ("agent", "nested", "chatty", "boom")}
    app = create_app(str(tmp_path / "parent.db"), graphs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://parent", timeout=60
        ) as http:
            yield http


def _parse(text: str) -> list[Sse]:
    out: list[Sse] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.split("\n") if ": " in line and line[0] != ":"
        )
        if "event" in fields:
            out.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return out


async def _thread(http: httpx.AsyncClient) -> str:
    return str((await http.post("/threads", json={})).json()["thread_id"])


async def _join(http: httpx.AsyncClient, thread_id: str, run_id: str) -> list[Sse]:
    path = f"/threads/{thread_id}/runs/{run_id}/stream"
    return _parse((await http.get(path, headers={"Last-Event-ID": "-1"})).text)


async def _remote_run(url: str, thread_id: str) -> list[Sse]:
    """The remote run's own stream, joined on its server (it ran on the parent's thread)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as remote:
        (run,) = (await remote.get(f"/threads/{thread_id}/runs")).json()
        return await _join(remote, thread_id, run["run_id"])


def _forwarded(events: list[Sse]) -> list[tuple[str, tuple[str, ...], Any]]:
    """The namespaced events: (mode, namespace, data)."""
    out = []
    for _, name, data in events:
        mode, *ns = name.split("|")
        if ns:
            out.append((mode, tuple(ns), data))
    return out


@pytest.mark.parametrize(
    ("assistant", "modes"),
    [
        ("agent", ["updates", "values", "custom", "tasks"]),
        ("nested", ["updates", "messages-tuple", "custom", "checkpoints", "debug"]),
        ("chatty", ["messages-tuple", "updates"]),
    ],
    ids=repr,
)
async def test_a_remote_nodes_chunks_reach_the_served_stream_live_and_joined(
    served: httpx.AsyncClient, server: Server, assistant: str, modes: list[str]
) -> None:
    thread_id = await _thread(served)
    body = {
        "assistant_id": f"via_{assistant}",
        "input": HI,
        "stream_mode": modes,
        "stream_subgraphs": True,
        "stream_resumable": True,
    }
    live = _parse((await served.post(f"/threads/{thread_id}/runs/stream", json=body)).text)
    forwarded = _forwarded(live)
    (task_ns,) = {ns[0] for _, ns, _ in forwarded}
    assert task_ns.startswith("remote:")
    # What came is the remote run's own stream, in the modes asked for, under the node's task
    # (up to the remote run's interrupt, which stops the node: the rest is not read).
    remote = [
        (mode, (task_ns, *ns), data)
        for _, name, data in await _remote_run(server.url, thread_id)
        for mode, *ns in [name.split("|")]
        if mode in {"messages" if m == "messages-tuple" else m for m in modes}
    ]
    assert forwarded and forwarded == remote[: len(forwarded)]
    assert {mode for mode, _, _ in forwarded} == {mode for mode, _, _ in remote}
    # A client joining later gets the same events, ids and all, replayed from the log.
    (run,) = (await served.get(f"/threads/{thread_id}/runs")).json()
    assert await _join(served, thread_id, run["run_id"]) == live


async def test_a_background_run_joined_while_it_runs_shows_them_too(
    served: httpx.AsyncClient,
) -> None:
    body = {
        "assistant_id": "via_chatty",
        "input": HI,
        "stream_mode": ["messages", "updates"],
        "stream_subgraphs": True,
    }
    thread_id = await _thread(served)
    run = (await served.post(f"/threads/{thread_id}/runs", json=body)).json()
    joined = await _join(served, thread_id, run["run_id"])
    names = [name for _, name, _ in joined]
    # ``messages`` as LangGraph's server shows it: no namespace, the remote's chunks read as
    # messages (here: the chunks its model streamed, accumulated).
    assert names[0] == "metadata" and "messages/metadata" in names
    assert any(name.startswith("updates|remote:") for name in names)
    partial = [data for _, name, data in joined if name == "messages/partial"]
    assert partial and partial[-1][0]["content"] == " ".join(f"w{i}" for i in range(20))
    again = await _join(served, thread_id, run["run_id"])
    assert again == joined


@pytest.mark.parametrize("path", ["/runs/stream", "/threads/{t}/runs/stream"])
async def test_without_subgraphs_nothing_is_forwarded(served: httpx.AsyncClient, path: str) -> None:
    body = {"assistant_id": "via_agent", "input": HI, "stream_mode": ["updates", "custom"]}
    url = path.format(t=await _thread(served))
    events = _parse((await served.post(url, json=body)).text)
    assert not _forwarded(events)
    assert [name for _, name, _ in events] == ["metadata", "updates"]


async def test_a_thread_less_run_shows_the_remote_runs_checkpoints(
    served: httpx.AsyncClient,
) -> None:
    """A thread-less run shows no checkpoint of its own (as LangGraph's server, which runs it
    without a checkpointer), but the remote run's, forwarded, come."""
    body = {
        "assistant_id": "via_agent",
        "input": HI,
        "stream_mode": ["checkpoints"],
        "stream_subgraphs": True,
    }
    events = _parse((await served.post("/runs/stream", json=body)).text)
    assert {name.split("|")[0] for _, name, _ in events[1:]} == {"checkpoints"}
    assert all("|remote:" in name for _, name, _ in events[1:]) and len(events) > 1


async def test_a_failed_remote_run_fails_the_served_run_after_its_chunks(
    served: httpx.AsyncClient,
) -> None:
    body = {
        "assistant_id": "via_boom",
        "input": {},
        "stream_mode": ["updates", "tasks"],
        "stream_subgraphs": True,
    }
    events = _parse((await served.post("/runs/stream", json=body)).text)
    names = [name.split("|")[0] + ("|ns" if "|" in name else "") for _, name, _ in events]
    assert names == ["metadata", "tasks", "tasks|ns", "tasks|ns", "tasks", "error"]
    assert events[-1][2]["error"] == "RemoteException"


async def test_tools_is_refused_by_the_run_routes_and_a_join_gets_none_of_it(
    served: httpx.AsyncClient,
) -> None:
    """As LangGraph's server (``tests/server/reference``): ``tools`` is no stream mode of its
    run routes (a 422), and a join naming it gets no chunk."""
    thread_id = await _thread(served)
    for path in ("/runs/stream", "/runs/wait", f"/threads/{thread_id}/runs"):
        for modes in ("tools", ["updates", "tools"]):
            body = {"assistant_id": "via_agent", "input": HI, "stream_mode": modes}
            refused = await served.post(path, json=body)
            assert refused.status_code == 422 and "stream_mode" in refused.text
    body = {"assistant_id": "via_agent", "input": HI, "stream_mode": ["updates"]}
    run = (await served.post(f"/threads/{thread_id}/runs", json=body)).json()
    path = f"/threads/{thread_id}/runs/{run['run_id']}/stream"
    for asked in ("tools", '["tools", "lifecycle"]'):
        joined = await served.get(path, params={"stream_mode": asked})
        assert joined.status_code == 200
        assert [name for _, name, _ in _parse(joined.text)] in ([], ["metadata"])
    assert (await served.get(path, params={"stream_mode": "bogus"})).status_code == 422
