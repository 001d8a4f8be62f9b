"""The store API through the official SDK (async and sync): items put, get, delete and search,
namespaces; bad input; and the store being the one the server's graphs get, every write of it
logged (a client's as a run of the store's own thread, a node's as an event of its run)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from rewind import open_log
from rewind.events import EventType
from rewind.runtime.memory import STORE_GRAPH, STORE_THREAD
from tests.server.conftest import Server, start_server

MEMO = """
from typing import Any

from typing_extensions import TypedDict

from rewind.graph import END, START, StateGraph


class State(TypedDict, total=False):
    user: str
    profile: Any
    visits: int


async def recall(state: State, store: Any) -> dict:
    item = await store.aget(("users", state["user"]), "profile")
    return {"profile": None if item is None else item.value}


def remember(state: State, store: Any) -> dict:
    found = store.get(("users", state["user"]), "visits")
    visits = (found.value["n"] if found else 0) + 1
    store.put(("users", state["user"]), "visits", {"n": visits})
    return {"visits": visits}


builder = StateGraph(State)
builder.add_node("recall", recall)
builder.add_node("remember", remember)
builder.add_edge(START, "recall")
builder.add_edge("recall", "remember")
builder.add_edge("remember", END)
graph = builder.compile()
"""


async def test_items_and_namespaces(client: Any) -> None:
    root = f"t{uuid.uuid4().hex}"
    await client.store.put_item([root, "docs"], "a", {"kind": "note", "n": 1})
    await client.store.put_item([root, "docs"], "b", {"kind": "todo", "n": 2})
    await client.store.put_item([root, "people", "ann"], "p", {"kind": "note", "n": 3})
    item = await client.store.get_item([root, "docs"], key="a")
    assert item["namespace"] == [root, "docs"] and item["key"] == "a"
    assert item["value"] == {"kind": "note", "n": 1}
    assert item["created_at"] and item["updated_at"]

    found = await client.store.search_items([root], filter={"kind": "note"})
    assert {(tuple(i["namespace"]), i["key"]) for i in found["items"]} == {
        ((root, "docs"), "a"),
        ((root, "people", "ann"), "p"),
    }
    everything = await client.store.search_items([root], limit=10)
    assert len(everything["items"]) == 3
    paged = await client.store.search_items([root], limit=2, offset=2)
    assert len(paged["items"]) == 1
    listed = await client.store.list_namespaces(prefix=[root])
    assert sorted(map(tuple, listed["namespaces"])) == [(root, "docs"), (root, "people", "ann")]
    shallow = await client.store.list_namespaces(prefix=[root], max_depth=2)
    assert sorted(map(tuple, shallow["namespaces"])) == [(root, "docs"), (root, "people")]
    ending = await client.store.list_namespaces(prefix=[root], suffix=["ann"])
    assert ending["namespaces"] == [[root, "people", "ann"]]

    await client.store.put_item([root, "docs"], "a", {"kind": "note", "n": 10})  # replaces
    assert (await client.store.get_item([root, "docs"], key="a"))["value"]["n"] == 10
    await client.store.delete_item([root, "docs"], key="a")
    assert await client.store.get_item([root, "docs"], key="a") is None
    await client.store.delete_item([root, "docs"], key="a")  # nothing there: still fine


def test_items_through_the_sync_client(sync_client: Any) -> None:
    root = f"s{uuid.uuid4().hex}"
    sync_client.store.put_item([root], "k", {"v": 1}, index=False, ttl=60)
    assert sync_client.store.get_item([root], key="k", refresh_ttl=True)["value"] == {"v": 1}
    found = sync_client.store.search_items([root], filter={"v": 1})
    assert [i["key"] for i in found["items"]] == ["k"]
    assert sync_client.store.list_namespaces(prefix=[root])["namespaces"] == [[root]]
    sync_client.store.delete_item([root], key="k")
    assert sync_client.store.get_item([root], key="k") is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "named"),
    [
        ("PUT", "/store/items", {"namespace": ["a.b"], "key": "k", "value": {}}, 422, "'a.b'"),
        ("PUT", "/store/items", {"namespace": ["a", ""], "key": "k", "value": {}}, 422, "''"),
        ("PUT", "/store/items", {"namespace": [], "key": "k", "value": {}}, 422, "empty"),
        ("PUT", "/store/items", {"namespace": ["langgraph"], "key": "k", "value": {}}, 422, "Root"),
        ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": [1]}, 422, "value"),
        ("PUT", "/store/items", {"namespace": ["a"], "value": {}}, 422, "key"),
        ("GET", "/store/items?namespace=a", None, 400, "Key is required"),
        ("GET", "/store/items?namespace=a..b&key=k", None, 422, "''"),
        (
            "PUT",
            "/store/items",
            {"namespace": ["a"], "key": "k", "value": {}, "ttl": 1e300},
            422,
            "ttl",
        ),
        (
            "PUT",
            "/store/items",
            {"namespace": ["a"], "key": "k", "value": {}, "ttl": -1},
            422,
            "ttl",
        ),
        ("POST", "/store/items/search", {"namespace_prefix": ["a"], "limit": -1}, 422, "limit"),
        ("POST", "/store/items/search", {"namespace_prefix": [], "offset": 2**70}, 422, "offset"),
        ("POST", "/store/namespaces", {"prefix": ["x.y"]}, 422, "'x.y'"),
        ("DELETE", "/store/items", {"namespace": ["a"]}, 422, "key"),
    ],
)
def test_bad_input_gets_a_json_error_naming_it(
    server: Server, method: str, path: str, body: Any, status: int, named: str
) -> None:
    answer = httpx.request(method, server.url + path, json=body)
    assert answer.status_code == status
    assert named in answer.json()["detail"]


async def test_graphs_get_the_servers_store_and_every_write_is_logged(tmp_path: Path) -> None:
    graph_file = tmp_path / "memo.py"
    graph_file.write_text(MEMO)
    db = tmp_path / "memo.db"
    server = start_server(db, "--graphs", f"memo={graph_file}:graph", config=False)
    try:
        client = get_client(url=server.url, api_key=None)
        thread = await client.threads.create()
        await client.store.put_item(["users", "ann"], "profile", {"name": "Ann"})
        first = await client.runs.wait(thread["thread_id"], "memo", input={"user": "ann"})
        assert first["profile"] == {"name": "Ann"} and first["visits"] == 1  # what a client wrote
        # Another process opening and closing the database leaves the server's files alone
        # (the server keeps its SQLite locks: it does not read the file behind their back).
        await (await open_log(db)).aclose()
        second = await client.runs.wait(thread["thread_id"], "memo", input={"user": "ann"})
        assert second["visits"] == 2
        item = await client.store.get_item(["users", "ann"], key="visits")  # what a node wrote
        assert item["value"] == {"n": 2}
        await client.store.delete_item(["users", "ann"], key="profile")
        third = await client.runs.wait(thread["thread_id"], "memo", input={"user": "ann"})
        assert third["profile"] is None and third["visits"] == 3
        await client.aclose()
    finally:
        assert server.stop() == 0

    log = await open_log(db, read_only=True)
    try:
        by_client = []  # each write a client made: a run of the store's own thread
        for run in await log.list_runs(thread_id=STORE_THREAD, oldest_first=True):
            assert run.graph_name == STORE_GRAPH and run.status == "success"
            events = await log.read(run.run_id, types=[EventType.STORE_WRITE])
            by_client += [e.payload for e in events]
        assert by_client == [
            {"namespace": ["users", "ann"], "key": "profile", "value": {"name": "Ann"}},
            {"namespace": ["users", "ann"], "key": "profile", "value": None},
        ]
        by_nodes = []
        for run in await log.list_runs(thread_id=thread["thread_id"], oldest_first=True):
            events = await log.read(run.run_id, types=[EventType.STORE_WRITE])
            by_nodes.append([(e.node, e.payload["value"]) for e in events])
        assert by_nodes == [
            [("remember", {"n": 1})],
            [("remember", {"n": 2})],
            [("remember", {"n": 3})],
        ]
    finally:
        await log.aclose()
