"""Assistants as versioned records, through the official clients (async and sync) against
``rewind serve`` on a SQLite file and on PostgreSQL: every method of the SDK's assistants
client, the error cases, and runs taking an assistant's config and context. What a graph
looks like (drawing, schemas, subgraphs) is compared with LangGraph's own answers for the same
graphs."""

from __future__ import annotations

import asyncio
import operator
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk._async.assistants import AssistantsClient
from langgraph_sdk._sync.assistants import SyncAssistantsClient
from langgraph_sdk.errors import (
    APIStatusError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from pydantic import BaseModel
from typing_extensions import TypedDict

from rewind import open_log
from rewind.server.assistant_routes import graph_json, graph_schemas
from rewind.server.assistants import AssistantStore
from rewind.server.runs import assistant_id_of
from tests import pg
from tests.server.conftest import Server, start_server

GRAPHS = ("agent", "slow", "boom", "echo", "nested", "chatty", "probe", "typed")
"""The graphs the servers here load: the SDK tests' app, and two that show what a run got."""

FIELDS = [
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "created_at",
    "updated_at",
    "version",
    "description",
]
"""An assistant's fields, in LangGraph's order."""

PROBE = '''
"""Graphs whose state says what their run got: context, configurable keys, tags."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typing_extensions import TypedDict

from rewind.config import get_config
from rewind.graph import END, START, StateGraph
from rewind.runtime import get_runtime


class Seen(TypedDict, total=False):
    x: int
    seen: dict


def look(state: Seen) -> dict:
    config = get_config()
    shown = ("model", "temperature", "user")
    return {
        "seen": {
            "context": get_runtime().context,
            "configurable": {k: v for k, v in config["configurable"].items() if k in shown},
            "tags": config.get("tags"),
            "recursion_limit": config.get("recursion_limit"),
        }
    }


@dataclass
class Ctx:
    model: str = "small"
    temperature: float = 0.0


def build(context_schema: Any = None) -> Any:
    graph = StateGraph(Seen, context_schema)
    graph.add_node("look", look)
    graph.add_edge(START, "look")
    graph.add_edge("look", END)
    return graph.compile()


probe = build()
typed = build(Ctx)
'''


# --- servers ----------------------------------------------------------------------------------


def _serve(folder: Path, db: str | None = None, *extra: str) -> Server:
    """``rewind serve`` of the SDK tests' app and the probe graphs, on ``db`` (a PostgreSQL
    URL, another server's SQLite file) or else on a SQLite file of its own in ``folder``."""
    probe = folder / "probe.py"
    if not probe.exists():
        probe.write_text(PROBE)
    graphs = ["-g", f"probe={probe}:probe", "-g", f"typed={probe}:typed"]
    # The last --db wins: the server's output file is named after the first.
    override = ["--db", db] if db is not None else []
    return start_server(folder / "rewind.db", *graphs, *override, *extra)


@dataclass
class Backend:
    """A database and its name."""

    name: str
    url: str | None
    """A PostgreSQL URL, or ``None`` for a SQLite file per server folder."""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend(name="sqlite", url=None)
        return
    name = pg.name_for(str(tmp_path_factory.mktemp("pg")))
    yield Backend(name="postgres", url=pg.create_database(name))
    pg.drop_database(name)


@pytest.fixture(scope="module")
def server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per backend for this module's tests (each test makes assistants of its
    own, told apart by a marker in their metadata)."""
    started = _serve(tmp_path_factory.mktemp(f"assistants-{backend.name}"), backend.url)
    yield started
    started.stop()


def _marker() -> dict[str, str]:
    return {"test": uuid.uuid4().hex}


async def _refused(status: int, call: Any) -> str:
    """The ``detail`` of the error ``call`` (an awaitable) is refused with (the SDK raises
    its own ``APIStatusError``s, an ``httpx.HTTPStatusError`` from a run's wait)."""
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await call
    return _detail(status, caught.value.response)


def _sync_refused(status: int, call: Callable[[], Any]) -> str:
    with pytest.raises(APIStatusError) as caught:
        call()
    return _detail(status, caught.value.response)


def _detail(status: int, response: httpx.Response) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["detail"], str)
    return body["detail"]


# --- the SDK's methods ------------------------------------------------------------------------

METHODS = {
    "count",
    "create",
    "delete",
    "get",
    "get_graph",
    "get_schemas",
    "get_subgraphs",
    "get_versions",
    "search",
    "set_latest",
    "update",
}
"""The assistants methods of langgraph-sdk 0.4.14, each exercised below with both clients."""


def test_every_method_of_the_sdk_is_covered() -> None:
    for cls in (AssistantsClient, SyncAssistantsClient):
        public = {m for m in vars(cls) if not m.startswith("_") and callable(getattr(cls, m))}
        assert public == METHODS, f"{cls.__name__}: {sorted(public ^ METHODS)}"


# --- defaults ---------------------------------------------------------------------------------


async def test_each_graph_has_its_default_assistant(client: Any) -> None:
    found = await client.assistants.search(metadata={"created_by": "system"}, limit=100)
    by_graph = {a["graph_id"]: a for a in found}
    assert sorted(by_graph) == sorted(GRAPHS) and len(found) == len(GRAPHS)
    # Registered in order, newest first: the last graph's first.
    assert [a["graph_id"] for a in found] == list(reversed(GRAPHS))
    for graph_id, assistant in by_graph.items():
        assert list(assistant) == FIELDS
        assert assistant["assistant_id"] == assistant_id_of(graph_id)
        assert assistant["assistant_id"] == str(
            uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), graph_id)
        )
        assert (assistant["name"], assistant["version"], assistant["description"]) == (
            graph_id,
            1,
            None,
        )
        assert (assistant["config"], assistant["context"]) == ({}, {})
        assert assistant["metadata"] == {"created_by": "system"}
        assert await client.assistants.get(assistant["assistant_id"]) == assistant
    assert await client.assistants.count(metadata={"created_by": "system"}) == len(GRAPHS)
    versions = await client.assistants.get_versions(assistant_id_of("agent"))
    assert [v["version"] for v in versions] == [1]
    assert list(versions[0]) == [
        "assistant_id",
        "version",
        "graph_id",
        "config",
        "context",
        "metadata",
        "created_at",
        "name",
        "description",
    ]


async def test_another_server_on_the_database_shares_the_records(
    backend: Backend, server: Server, tmp_path: Path
) -> None:
    """A second server process (``--queue``: it runs nothing, its runs wait in the run queue)
    on the first one's database finds the defaults there and makes none; what one server
    makes, the other serves; deleting an assistant cancels its queued runs."""
    first = get_client(url=server.url, api_key=None)
    before = await first.assistants.search(metadata={"created_by": "system"}, limit=100)
    other = await asyncio.to_thread(_serve, tmp_path, backend.url or str(server.db), "--queue")
    client = get_client(url=other.url, api_key=None)
    try:
        assert await client.assistants.search(metadata={"created_by": "system"}, limit=100) == (
            before
        )
        made = await client.assistants.create("slow", name="doomed", metadata=_marker())
        assert await first.assistants.get(made["assistant_id"]) == made
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], made["assistant_id"])
        assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "pending"
        await client.assistants.delete(made["assistant_id"])
        ended = await client.runs.get(run["thread_id"], run["run_id"])
        assert ended["status"] == "interrupted"
        assert "not found" in await _refused(404, first.assistants.get(made["assistant_id"]))
    finally:
        await client.aclose()
        await first.aclose()
        await asyncio.to_thread(other.stop)


async def test_stores_racing_on_one_database_make_each_default_once(
    backend: Backend, tmp_path: Path
) -> None:
    """Four stores, each on a log of its own (as four server processes starting at once
    would be), make the defaults at the same moment: no error, one record per graph, the
    same one for all."""
    name = pg.name_for(str(tmp_path))
    url = pg.create_database(name) if backend.url else str(tmp_path / "race.db")
    logs = [await open_log(url) for _ in range(4)]
    try:
        graphs = dict.fromkeys(("alpha", "beta", "gamma"), _tiny_graph())
        stores = [AssistantStore(log, graphs) for log in logs]
        await asyncio.gather(*(store.ensure_defaults() for store in stores))
        await asyncio.gather(*(store.ensure_defaults() for store in stores))  # (there already)
        seen = [(await store.search(limit=100))[0] for store in stores]
        assert all(found == seen[0] for found in seen)
        assert sorted(a.assistant_id for a in seen[0]) == sorted(map(assistant_id_of, graphs))
        versions = await stores[1].versions(assistant_id_of("beta"))
        assert [v.version for v in versions] == [1]
    finally:
        for log in logs:
            await log.aclose()
        if backend.url:
            pg.drop_database(name)


def _tiny_graph() -> Any:
    from rewind.graph import END, START, StateGraph

    graph = StateGraph(Flow)
    graph.add_node("only", _step("only"))
    graph.add_edge(START, "only")
    graph.add_edge("only", END)
    return graph.compile()


# --- create, get, update, versions ------------------------------------------------------------


async def test_create_and_get(client: Any) -> None:
    marker = _marker()
    made = await client.assistants.create(
        "agent",
        config={"tags": ["a"], "recursion_limit": 9, "configurable": {"model": "big"}},
        metadata={**marker, "team": {"name": "x", "size": 2}},
        name="Mine",
        description="one of mine",
    )
    assert list(made) == FIELDS
    uuid.UUID(made["assistant_id"])
    assert made["config"] == {"tags": ["a"], "recursion_limit": 9, "configurable": {"model": "big"}}
    assert made["context"] == {"model": "big"}  # configurable and context stand for each other
    assert (made["name"], made["description"], made["version"]) == ("Mine", "one of mine", 1)
    assert made["created_at"] == made["updated_at"]
    assert await client.assistants.get(made["assistant_id"]) == made
    renamed = await client.assistants.update(made["assistant_id"], name="Mine 2")
    back = await client.assistants.set_latest(made["assistant_id"], 1)
    assert (renamed["version"], renamed["name"]) == (2, "Mine 2")
    assert {**back, "updated_at": None} == {**made, "updated_at": None}

    by_context = await client.assistants.create("agent", context={"model": "ctx"})
    assert by_context["config"] == {"configurable": {"model": "ctx"}}
    assert by_context["context"] == {"model": "ctx"}
    assert (by_context["name"], by_context["metadata"]) == ("Untitled", {})

    chosen = str(uuid.uuid4())
    named = await client.assistants.create("echo", assistant_id=chosen.upper())
    assert named["assistant_id"] == chosen  # a UUID in any spelling, kept in one
    detail = await _refused(409, client.assistants.create("echo", assistant_id=chosen))
    assert detail == f"Assistant {chosen} already exists"
    same = await client.assistants.create("agent", assistant_id=chosen, if_exists="do_nothing")
    with pytest.raises(ConflictError):
        await client.assistants.create("echo", assistant_id=chosen, if_exists="raise")
    assert same == named

    missing = str(uuid.uuid4())
    assert await _refused(404, client.assistants.get(missing)) == f"Assistant {missing} not found"
    assert "'agent'" in await _refused(422, client.assistants.get("agent"))
    assert "must be a UUID" in await _refused(422, client.assistants.get("agent"))


async def test_create_refuses_bad_input(client: Any) -> None:
    detail = await _refused(404, client.assistants.create("nope"))
    assert detail.startswith("Graph 'nope' not found. Expected one of: [")
    detail = await _refused(422, client.assistants.create("agent", assistant_id="not-a-uuid"))
    assert "'not-a-uuid'" in detail and "must be a UUID" in detail
    both = client.assistants.create("agent", config={"configurable": {"a": 1}}, context={"a": 2})
    assert "Cannot specify both configurable and context" in await _refused(400, both)
    detail = await _refused(422, client.assistants.create("agent", config={"tags": "x"}))
    assert "config.tags must be a list of strings" in detail
    assert "graph_id" in await _refused(422, client.assistants.create(None))
    detail = await _refused(422, client.assistants.create("agent", name="a\x00b"))
    assert detail == "name cannot hold NUL characters"
    long = await client.assistants.create("agent", name="n" * 1000, description="d" * 10_000)
    assert (await client.assistants.get(long["assistant_id"]))["name"] == "n" * 1000
    with pytest.raises(BadRequestError):  # (the SDK's own classes for each status)
        await client.assistants.create("agent", config={"configurable": {"a": 1}}, context={"b": 1})
    with pytest.raises(NotFoundError):
        await client.assistants.create("nope")
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.create("agent", assistant_id="x")


def test_update_versions_and_set_latest(sync_client: Any) -> None:
    """Every change is a version; set_latest picks the one in use (sync client)."""
    assistants = sync_client.assistants
    marker = _marker()
    made = assistants.create(
        "agent", config={"tags": ["v1"]}, metadata={**marker, "stage": 1}, name="v1"
    )
    aid = made["assistant_id"]
    second = assistants.update(aid, metadata={"stage": 2, "extra": True})
    assert second["version"] == 2 and second["created_at"] == made["created_at"]
    assert second["metadata"] == {**marker, "stage": 2, "extra": True}  # merged
    assert (second["config"], second["name"]) == ({"tags": ["v1"]}, "v1")  # kept
    assert datetime.fromisoformat(second["updated_at"]) > datetime.fromisoformat(made["updated_at"])
    third = assistants.update(aid, context={"model": "p"}, name="v3", description="three")
    assert third["version"] == 3
    # A context alone becomes the whole config's configurable, as LangGraph does it.
    assert (third["config"], third["context"]) == ({"configurable": {"model": "p"}}, {"model": "p"})
    assert (third["name"], third["description"]) == ("v3", "three")
    fourth = assistants.update(aid, graph_id="echo", config={"recursion_limit": 5})
    assert (fourth["graph_id"], fourth["config"], fourth["context"]) == (
        "echo",
        {"recursion_limit": 5},
        {"model": "p"},
    )
    assert assistants.get(aid) == fourth

    versions = assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert [v["graph_id"] for v in versions] == ["echo", "agent", "agent", "agent"]
    assert [v["version"] for v in assistants.get_versions(aid, limit=2, offset=1)] == [3, 2]
    assert [v["version"] for v in assistants.get_versions(aid, metadata={"extra": True})] == [
        4,
        3,
        2,
    ]
    detail = _sync_refused(404, lambda: assistants.get_versions(aid, metadata={"none": 1}))
    assert detail == f"Assistant {aid} not found"

    first = assistants.set_latest(aid, 1)
    assert first["version"] == 1 and first["created_at"] == made["created_at"]
    assert (first["graph_id"], first["config"], first["metadata"], first["name"]) == (
        "agent",
        {"tags": ["v1"]},
        {**marker, "stage": 1},
        "v1",
    )
    assert assistants.get(aid) == first
    fifth = assistants.update(aid, metadata={"after": True})
    assert fifth["version"] == 5 and fifth["metadata"] == {**marker, "stage": 1, "after": True}
    assert assistants.set_latest(aid, 3)["context"] == {"model": "p"}

    detail = _sync_refused(404, lambda: assistants.set_latest(aid, 99))
    assert detail == f"Version 99 not found for assistant {aid}"
    missing = str(uuid.uuid4())
    assert _sync_refused(404, lambda: assistants.set_latest(missing, 1)) == (
        f"Assistant {missing} not found"
    )
    assert _sync_refused(404, lambda: assistants.update(missing, name="x")) == (
        f"Assistant {missing} not found"
    )
    assert _sync_refused(404, lambda: assistants.get_versions(missing)) == (
        f"Assistant {missing} not found"
    )
    detail = _sync_refused(404, lambda: assistants.update(aid, graph_id="nope"))
    assert detail.startswith("Graph 'nope' not found")
    detail = _sync_refused(
        400, lambda: assistants.update(aid, config={"configurable": {"a": 1}}, context={"a": 1})
    )
    assert detail.startswith("Cannot specify both configurable and context")
    assert "must be a UUID" in _sync_refused(422, lambda: assistants.update("x", name="y"))
    assert assistants.get(aid)["version"] == 3  # nothing refused left a trace


# --- search and count -------------------------------------------------------------------------


async def test_search_count_sort_select_and_pages(client: Any, server: Server) -> None:
    marker = _marker()
    names = ["bravo", "Alpha", "charlie"]
    made = [
        await client.assistants.create(
            "echo" if i == 1 else "agent", name=n, metadata={**marker, "i": i, "deep": {"k": i}}
        )
        for i, n in enumerate(names)
    ]
    ids = [a["assistant_id"] for a in made]
    search = client.assistants.search
    assert [a["assistant_id"] for a in await search(metadata=marker)] == ids[::-1]
    assert await search(metadata=marker) == [await client.assistants.get(i) for i in ids[::-1]]
    by_name = await search(metadata=marker, sort_by="name", sort_order="asc")
    assert [a["name"] for a in by_name] == ["Alpha", "bravo", "charlie"]  # case-insensitive
    assert [a["name"] for a in await search(metadata=marker, sort_by="name")] == [
        "charlie",
        "bravo",
        "Alpha",
    ]  # descending unless asked otherwise
    oldest = await search(metadata=marker, sort_by="created_at", sort_order="asc")
    assert [a["assistant_id"] for a in oldest] == ids
    assert [a["graph_id"] for a in await search(metadata=marker, sort_by="graph_id")] == [
        "echo",
        "agent",
        "agent",
    ]
    assert [a["name"] for a in await search(metadata=marker, name="LPH")] == ["Alpha"]
    assert [a["name"] for a in await search(metadata={**marker, "deep": {"k": 2}})] == ["charlie"]
    assert [a["name"] for a in await search(metadata=marker, graph_id="echo")] == ["Alpha"]
    selected = await search(metadata=marker, select=["name", "assistant_id"], limit=1)
    assert selected == [{"assistant_id": ids[2], "name": "charlie"}]

    page = await search(metadata=marker, limit=2, response_format="object")
    assert [a["name"] for a in page["assistants"]] == ["charlie", "Alpha"]
    assert page["next"] == "2"
    last = await search(metadata=marker, limit=2, offset=2, response_format="object")
    assert [a["name"] for a in last["assistants"]] == ["bravo"] and last["next"] is None
    async with httpx.AsyncClient(base_url=server.url) as http:
        body = {"metadata": marker, "limit": 2}
        first = await http.post("/assistants/search", json=body)
        rest = await http.post("/assistants/search", json={**body, "offset": 2})
        refused = await http.post("/assistants/search", json={**body, "limit": 0})
        unknown_field = await http.post("/assistants/search", json={"select": ["nope"]})
        count_bad = await http.post("/assistants/count", json={"graph_id": "nope"})
    # LangGraph's headers: while a next page is there, the total is only known to exceed it.
    assert (first.headers["x-pagination-total"], first.headers["x-pagination-next"]) == ("3", "2")
    assert rest.headers["x-pagination-total"] == "3" and "x-pagination-next" not in rest.headers
    assert refused.status_code == 422 and "limit" in refused.json()["detail"]
    assert unknown_field.status_code == 422 and "select" in unknown_field.json()["detail"]
    assert count_bad.status_code == 404 and "'nope'" in count_bad.json()["detail"]

    assert await client.assistants.count(metadata=marker) == 3
    assert await client.assistants.count(metadata=marker, graph_id="agent") == 2
    assert await client.assistants.count(metadata=marker, name="a") == 3
    assert await client.assistants.count(metadata={**marker, "i": 7}) == 0
    assert "'nope'" in await _refused(404, search(graph_id="nope"))


# --- runs -------------------------------------------------------------------------------------


async def test_runs_take_the_assistants_config_and_context(client: Any) -> None:
    made = await client.assistants.create(
        "probe",
        config={"tags": ["assistant"], "recursion_limit": 12, "configurable": {"model": "big"}},
        metadata=_marker(),
    )
    aid = made["assistant_id"]
    thread = await client.threads.create()
    tid = thread["thread_id"]
    state = await client.runs.wait(tid, aid, input={"x": 1})
    assert state["seen"] == {
        "context": {"model": "big"},
        "configurable": {"model": "big"},
        "tags": ["assistant"],
        "recursion_limit": 12,
    }
    [run] = await client.runs.list(tid)
    assert run["assistant_id"] == aid
    assert run["kwargs"]["context"] == {"model": "big"}
    assert run["kwargs"]["config"]["tags"] == ["assistant"]
    assert run["kwargs"]["config"]["configurable"]["assistant_id"] == aid
    assert (await client.threads.get(tid))["metadata"] == {"graph_id": "probe", "assistant_id": aid}

    # The run's own context goes over the assistant's, key by key (and is its configurable).
    state = await client.runs.wait(
        tid, aid, input={"x": 2}, context={"temperature": 1}, config={"tags": ["run"]}
    )
    assert state["seen"] == {
        "context": {"model": "big", "temperature": 1},
        "configurable": {"model": "big", "temperature": 1},
        "tags": ["run"],
        "recursion_limit": 12,
    }
    # A run's configurable is its context too.
    state = await client.runs.wait(
        None, aid, input={"x": 3}, config={"configurable": {"user": "u"}}
    )
    assert state["seen"]["context"] == {"model": "big", "user": "u"}
    assert state["seen"]["configurable"] == {"model": "big", "user": "u"}
    both = client.runs.wait(tid, aid, config={"configurable": {"a": 1}}, context={"a": 2})
    assert "Cannot specify both configurable and context" in await _refused(400, both)

    # A graph with a context schema gets only the keys it has, made its schema (a dataclass,
    # its defaults for the keys not given), as LangGraph's.
    typed = await client.assistants.create("typed", context={"model": "t", "stray": 1})
    state = await client.runs.wait(None, typed["assistant_id"], input={"x": 1})
    assert state["seen"]["context"] == {"model": "t", "temperature": 0.0}
    state = await client.runs.wait(
        None, typed["assistant_id"], input={"x": 1}, context={"temperature": 0.5, "other": 2}
    )
    assert state["seen"]["context"] == {"model": "t", "temperature": 0.5}
    assert state["seen"]["configurable"] == {"model": "t", "temperature": 0.5}

    # A new version is what the next run gets; the default assistant still runs by graph id.
    await client.assistants.update(aid, config={"configurable": {"model": "v2"}})
    assert (await client.runs.wait(None, aid, input={"x": 1}))["seen"]["context"] == {"model": "v2"}
    default = await client.runs.wait(None, "probe", input={"x": 1})
    # (an empty context is none, as LangGraph's runtime gives it)
    assert default["seen"]["context"] is None and default["seen"]["tags"] is None

    missing = str(uuid.uuid4())
    assert await _refused(404, client.runs.wait(None, missing, input={})) == (
        f"Assistant {missing} not found"
    )
    assert "Invalid assistant: 'nope'" in await _refused(422, client.runs.wait(None, "nope"))


# --- delete -----------------------------------------------------------------------------------


async def test_delete_and_its_options(client: Any) -> None:
    marker = _marker()
    kept_threads = await client.assistants.create("probe", metadata=marker)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], kept_threads["assistant_id"], input={"x": 1})
    await client.assistants.delete(kept_threads["assistant_id"])
    assert (await client.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
    aid = kept_threads["assistant_id"]
    assert await _refused(404, client.assistants.get(aid)) == f"Assistant {aid} not found"
    assert await _refused(404, client.assistants.get_versions(aid)) == f"Assistant {aid} not found"
    assert await _refused(404, client.assistants.delete(aid)) == (
        f"Assistant with ID {aid} not found"
    )
    assert await client.assistants.count(metadata=marker) == 0

    cascading = await client.assistants.create("slow", metadata=marker)
    cid = cascading["assistant_id"]
    mine = await client.threads.create()
    await client.runs.wait(mine["thread_id"], cid, input={"n": 1})
    busy = await client.threads.create()
    await client.runs.create(busy["thread_id"], cid, input={"n": 40})
    other = await client.threads.create()
    await client.runs.wait(other["thread_id"], "echo", input={"messages": []})
    await client.assistants.delete(cid, delete_threads=True)
    for gone in (mine, busy):
        assert "not found" in await _refused(404, client.threads.get(gone["thread_id"]))
    assert (await client.threads.get(other["thread_id"]))["thread_id"] == other["thread_id"]

    in_flight = await client.assistants.create("slow", metadata=marker)
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], in_flight["assistant_id"], input={"n": 40})
    await client.assistants.delete(in_flight["assistant_id"])  # its runs are cancelled
    await asyncio.wait_for(client.runs.join(thread["thread_id"], run["run_id"]), 10)
    ended = await client.runs.get(thread["thread_id"], run["run_id"])
    assert ended["status"] == "interrupted"

    assert "must be a UUID" in await _refused(422, client.assistants.delete("agent"))


def test_sync_client_crud(sync_client: Any) -> None:
    assistants = sync_client.assistants
    marker = _marker()
    made = assistants.create("echo", metadata=marker, name="sync")
    aid = made["assistant_id"]
    assert assistants.get(aid) == made
    assert [a["assistant_id"] for a in assistants.search(metadata=marker)] == [aid]
    assert assistants.count(metadata=marker) == 1
    updated = assistants.update(aid, name="sync2")
    assert [v["name"] for v in assistants.get_versions(aid)] == ["sync2", "sync"]
    assert assistants.set_latest(aid, 1)["name"] == "sync"
    assert updated["version"] == 2
    assistants.delete(aid)
    assert _sync_refused(404, lambda: assistants.get(aid)) == f"Assistant {aid} not found"
    assert _sync_refused(404, lambda: assistants.create("nope")).startswith("Graph 'nope'")


# --- graphs and schemas, as LangGraph answers them --------------------------------------------


def _langgraph_twin(graph_id: str) -> Any:
    """The app's graph ``graph_id`` built with LangGraph, from the same nodes and states."""
    from langgraph.graph import END, START, StateGraph

    from tests.server.app import graph as app

    sub = StateGraph(app.SubState)
    sub.add_node("sub_a", app.sub_a)
    sub.add_node("sub_b", app.sub_b)
    sub.add_edge(START, "sub_a")
    sub.add_edge("sub_a", "sub_b")
    sub.add_edge("sub_b", END)
    inner = StateGraph(app.State)
    inner.add_node("agent", app.agent)
    inner.add_edge(START, "agent")
    inner.add_edge("agent", END)
    outer = StateGraph(app.State)
    if graph_id == "agent":
        outer.add_node("agent", app.agent)
        outer.add_node("sub", sub.compile())
        outer.add_node("ask_human", app.ask_human)
        outer.add_node("final", app.final)
        outer.add_edge(START, "agent")
        outer.add_edge("agent", "sub")
        outer.add_edge("sub", "ask_human")
        outer.add_edge("ask_human", "final")
        outer.add_edge("final", END)
    else:
        outer.add_node("inner", inner.compile())
        outer.add_edge(START, "inner")
        outer.add_edge("inner", END)
    return outer.compile(name=graph_id)


def _langgraph_drawing(graph: Any, xray: bool | int = False) -> dict[str, Any]:
    """LangGraph's server's answer to ``get_graph`` (langgraph_api/api/assistants.py)."""
    drawn = graph.get_graph(xray=xray).to_json()
    for node in drawn["nodes"]:
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return dict(drawn)


def _langgraph_schemas(graph: Any) -> dict[str, Any]:
    """LangGraph's server's schemas of a graph (langgraph_api/api/assistants.py's
    ``_graph_schemas``: the state from its channels, the config from its context schema)."""
    from langchain_core.runnables.utils import create_model
    from pydantic import TypeAdapter

    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        kind = graph.channels[key].UpdateType
        try:
            create_model(key, __root__=(kind, None)).model_json_schema()
            fields[key] = (kind, None)
        except Exception:
            fields[key] = (Any, None)
    state = create_model(graph.get_name("State"), **fields).model_json_schema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config_model = graph.config_schema()
    config: dict[str, Any] = {}
    if "configurable" in config_model.model_fields:
        config = TypeAdapter(config_model.model_fields["configurable"].annotation).json_schema()
        for key in ("__pregel_checkpointer", "__pregel_store", "checkpoint_id", "checkpoint_ns"):
            config["properties"].pop(key, None)
        config["properties"].pop("thread_id", None)
    return {
        "input_schema": graph.get_input_jsonschema(),
        "output_schema": graph.get_output_jsonschema(),
        "state_schema": state,
        "config_schema": config,
        "context_schema": graph.get_context_jsonschema(),
    }


def test_graph_schemas_and_subgraphs_as_langgraph_answers(sync_client: Any) -> None:
    assistants = sync_client.assistants
    agent, nested = _langgraph_twin("agent"), _langgraph_twin("nested")
    aid = assistant_id_of("agent")
    assert assistants.get_graph(aid) == _langgraph_drawing(agent)
    assert assistants.get_graph("agent", xray=True) == _langgraph_drawing(agent, xray=True)
    assert assistants.get_graph(aid, xray=1) == _langgraph_drawing(agent, xray=1)
    assert assistants.get_graph("nested", xray=True) == _langgraph_drawing(nested, xray=True)
    schemas = assistants.get_schemas(aid)
    assert schemas == {"graph_id": "agent", **_langgraph_schemas(agent)}
    sub = dict(agent.get_subgraphs())["sub"]
    assert assistants.get_subgraphs(aid) == {"sub": _langgraph_schemas(sub)}
    assert assistants.get_subgraphs(aid, namespace="sub") == {"sub": _langgraph_schemas(sub)}
    assert assistants.get_subgraphs(aid, namespace="nope") == {}
    assert assistants.get_subgraphs(assistant_id_of("echo"), recurse=True) == {}

    detail = _sync_refused(422, lambda: assistants.get_graph(aid, params={"xray": "abc"}))
    assert "xray" in detail
    assert "xray" in _sync_refused(422, lambda: assistants.get_graph(aid, xray=0))
    missing = str(uuid.uuid4())
    for call in (assistants.get_graph, assistants.get_schemas, assistants.get_subgraphs):
        assert _sync_refused(404, lambda c=call: c(missing)) == f"Assistant {missing} not found"
    assert "must be a UUID" in _sync_refused(422, lambda: assistants.get_schemas("agent"))


async def test_async_graph_methods(client: Any) -> None:
    nested = _langgraph_twin("nested")
    nid = assistant_id_of("nested")
    assert await client.assistants.get_graph(nid) == _langgraph_drawing(nested)
    assert await client.assistants.get_schemas(nid) == {
        "graph_id": "nested",
        **_langgraph_schemas(nested),
    }
    inner = dict(nested.get_subgraphs())["inner"]
    expected = {"inner": _langgraph_schemas(inner)}
    assert await client.assistants.get_subgraphs(nid, recurse=True) == expected
    assert await client.assistants.get_subgraphs(nid, namespace="inner") == expected


# --- shapes: rewind's drawing and schemas beside LangGraph's, in process ----------------------


class Flow(TypedDict, total=False):
    x: int
    seen: Annotated[list[str], operator.add]


class Model(BaseModel):
    question: str
    answers: Annotated[list[str], operator.add] = []


@dataclass
class Record:
    name: str
    count: int = 0
    note: str | None = None


class Narrow(TypedDict):
    question: str


@dataclass
class Ctx:
    model: str = "small"


def _step(name: str) -> Callable[[Any], dict[str, Any]]:
    def step(state: Any) -> dict[str, Any]:
        return {}

    step.__name__ = name
    return step


def _route(state: Flow) -> Literal["b", "c"]:
    return "b"


def _route_map(state: Flow) -> str:
    return "go"


def _branchy(lib: Any) -> Any:
    g = lib.StateGraph(Flow, context_schema=Ctx)
    for name in ("a", "b", "c"):
        g.add_node(name, _step(name))
    g.add_node("d", _step("d"), metadata={"kind": "last"})
    g.add_node("e", _step("e"), destinations=("a", "d"))
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", _route)
    g.add_conditional_edges("b", _route_map, {"go": "d", "stop": lib.END})
    g.add_edge(["b", "c"], "d")
    g.add_edge("c", "e")
    g.add_edge("d", lib.END)
    return g.compile(interrupt_before=["c"], interrupt_after=["c", "d"], name="branchy")


def _typed(lib: Any, state: Any, **schemas: Any) -> Any:
    g = lib.StateGraph(state, **schemas)
    g.add_node("only", _step("only"))
    g.add_edge(lib.START, "only")
    g.add_edge("only", lib.END)
    return g.compile(name="Typed")


SHAPES: dict[str, Callable[[Any], Any]] = {
    "branchy": _branchy,
    "pydantic": lambda lib: _typed(lib, Model),
    "dataclass": lambda lib: _typed(lib, Record),
    "narrow": lambda lib: _typed(lib, Flow, input_schema=Narrow, output_schema=Narrow),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_drawing_and_schemas_match_langgraph(shape: str) -> None:
    import langgraph.graph

    import rewind.graph

    ours, theirs = SHAPES[shape](rewind.graph), SHAPES[shape](langgraph.graph)
    assert graph_json(ours) == _langgraph_drawing(theirs)
    assert graph_schemas(ours) == _langgraph_schemas(theirs)
