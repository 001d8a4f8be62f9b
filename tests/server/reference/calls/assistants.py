"""The assistants' calls: the graphs' own, then one created, versioned and deleted."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.reference.calls.base import HI, Call, Ctx, new_id, registrar

CALLS: list[Call] = []
call = registrar(CALLS)


@call("assistants.search", "all", unordered=["$"])
async def search_assistants(c: Any, ctx: Ctx) -> Any:
    found = await c.assistants.search(limit=20)
    ctx["assistants"] = {a["graph_id"]: a["assistant_id"] for a in found}
    return found


@call("assistants.search", "by graph")
async def search_chat_assistant(c: Any, ctx: Ctx) -> Any:
    found = await c.assistants.search(graph_id="chat")
    ctx["chat"] = found[0]["assistant_id"]
    return found


@call("assistants.search", "object, select, sorted")
async def search_assistants_object(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.search(
        response_format="object",
        select=["assistant_id", "graph_id", "name"],
        sort_by="graph_id",
        sort_order="asc",
    )


@call("assistants.count")
async def count_assistants(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.count()


@call("assistants.get")
async def get_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get(ctx["chat"])


@call("assistants.get", "missing")
async def get_missing_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get(str(uuid.uuid4()))


@call("assistants.get_graph")
async def get_graph(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get_graph(ctx["chat"])


@call("assistants.get_graph", "xray")
async def get_graph_xray(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get_graph(ctx["assistants"]["nested"], xray=True)


@call("assistants.get_schemas")
async def get_schemas(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get_schemas(ctx["chat"])


@call("assistants.get_subgraphs")
async def get_subgraphs(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get_subgraphs(ctx["assistants"]["nested"])


@call("assistants.get_subgraphs", "namespace, recurse")
async def get_subgraphs_namespace(c: Any, ctx: Ctx) -> Any:
    nested = ctx["assistants"]["nested"]
    return await c.assistants.get_subgraphs(nested, namespace="inner", recurse=True)


@call("assistants.create")
async def create_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.create(
        "chat",
        config={"configurable": {"tone": "dry"}},
        metadata={"team": "a"},
        assistant_id=new_id(ctx, "mine"),
        name="mine",
        description="a chat assistant",
    )


@call("assistants.create", "if_exists do_nothing")
async def create_assistant_again(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.create(
        "chat", assistant_id=ctx["mine"], name="other", if_exists="do_nothing"
    )


@call("assistants.create", "conflict", detail=True)
async def create_assistant_conflict(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.create("chat", assistant_id=ctx["mine"])


@call("assistants.update")
async def update_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.update(
        ctx["mine"], metadata={"team": "b"}, name="renamed", context={"k": 1}
    )


@call("assistants.get_versions")
async def get_versions(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get_versions(ctx["mine"])


@call("assistants.set_latest")
async def set_latest(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.set_latest(ctx["mine"], 1)


@call("assistants.search", "metadata")
async def search_assistants_metadata(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.search(metadata={"team": "a"})


@call("assistants.count", "graph")
async def count_chat_assistants(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.count(graph_id="chat")


@call("runs.wait", "created assistant")
async def wait_with_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(None, ctx["mine"], input=HI)


@call("assistants.delete")
async def delete_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.delete(ctx["mine"])


@call("assistants.get", "deleted")
async def get_deleted_assistant(c: Any, ctx: Ctx) -> Any:
    return await c.assistants.get(ctx["mine"])


@call("assistants.search", sync=True)
def sync_search_assistants(c: Any, ctx: Ctx) -> Any:
    return c.assistants.search(graph_id="ask")


@call("assistants.get_graph", sync=True)
def sync_get_graph(c: Any, ctx: Ctx) -> Any:
    return c.assistants.get_graph(ctx["assistants"]["ask"])
