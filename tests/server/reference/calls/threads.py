"""The threads' calls: create, read, search, state and history, copy, prune, delete."""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.reference.calls.base import HI, Call, Ctx, new_id, registrar

CALLS: list[Call] = []
call = registrar(CALLS)


@call("threads.create")
async def create_thread(c: Any, ctx: Ctx) -> Any:
    thread = await c.threads.create(metadata={"user": "u1"})
    ctx["thread"] = thread["thread_id"]
    return thread


@call("threads.create", "thread_id")
async def create_thread_with_id(c: Any, ctx: Ctx) -> Any:
    return await c.threads.create(thread_id=new_id(ctx, "thread_b"), metadata={"user": "u2"})


@call("threads.create", "if_exists do_nothing")
async def create_thread_again(c: Any, ctx: Ctx) -> Any:
    return await c.threads.create(thread_id=ctx["thread_b"], if_exists="do_nothing")


@call("threads.create", "conflict", detail=True)
async def create_thread_conflict(c: Any, ctx: Ctx) -> Any:
    return await c.threads.create(thread_id=ctx["thread_b"])


@call("threads.create", "graph_id, supersteps")
async def create_thread_supersteps(c: Any, ctx: Ctx) -> Any:
    thread = await c.threads.create(
        graph_id="chat",
        supersteps=[
            {"updates": [{"values": HI, "as_node": "__input__"}]},
            {"updates": [{"values": {"turns": 5}, "as_node": "count"}]},
        ],
    )
    ctx["seeded"] = thread["thread_id"]
    return thread


@call("threads.get_state", "seeded")
async def get_seeded_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["seeded"])


@call("threads.get")
async def get_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get(ctx["thread"])


@call("threads.get", "missing", detail=True)
async def get_missing_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get(str(uuid.uuid4()))


@call("threads.update")
async def update_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.update(ctx["thread"], metadata={"tier": "gold"})


@call("threads.search", "metadata")
async def search_threads_metadata(c: Any, ctx: Ctx) -> Any:
    return await c.threads.search(metadata={"tier": "gold"})


@call("threads.search", "ids", unordered=["$"])
async def search_threads_ids(c: Any, ctx: Ctx) -> Any:
    return await c.threads.search(ids=[ctx["thread"], ctx["thread_b"]])


@call("threads.search", "status, select", unordered=["$"])
async def search_threads_idle(c: Any, ctx: Ctx) -> Any:
    return await c.threads.search(status="idle", select=["thread_id", "status", "metadata"])


@call("threads.count")
async def count_threads(c: Any, ctx: Ctx) -> Any:
    return await c.threads.count()


@call("threads.count", "metadata")
async def count_threads_metadata(c: Any, ctx: Ctx) -> Any:
    return await c.threads.count(metadata={"user": "u2"})


@call("threads.get_state", "no run yet")
async def get_empty_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["thread"])


@call("runs.wait")
async def wait_on_thread(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(ctx["thread"], "chat", input=HI)


@call("threads.get_state")
async def get_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["thread"])


@call("threads.get_history")
async def get_history(c: Any, ctx: Ctx) -> Any:
    history = await c.threads.get_history(ctx["thread"], limit=5)
    ctx["before"] = history[1]["checkpoint"]["checkpoint_id"]
    return history


@call("threads.get_history", "metadata, before")
async def get_history_filtered(c: Any, ctx: Ctx) -> Any:
    # ``before`` as LangGraph's server reads it: a config (a bare id or checkpoint is a 500).
    before = {"configurable": {"checkpoint_id": ctx["before"]}}
    return await c.threads.get_history(ctx["thread"], metadata={"source": "loop"}, before=before)


@call("threads.get_state", "checkpoint_id")
async def get_state_at(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["thread"], checkpoint_id=ctx["before"])


@call("threads.get_state", "checkpoint")
async def get_state_at_checkpoint(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["thread"], checkpoint={"checkpoint_id": ctx["before"]})


@call("threads.update_state")
async def update_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.update_state(
        ctx["thread"],
        {"messages": [{"role": "user", "content": "edited", "id": "edit-1"}]},
        as_node="count",
    )


@call("threads.get_state", "after update_state")
async def get_updated_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["thread"])


@call("threads.copy")
async def copy_thread(c: Any, ctx: Ctx) -> Any:
    copied = await c.threads.copy(ctx["thread"])
    ctx["copy"] = copied["thread_id"]
    return copied


@call("threads.get_state", "copy")
async def get_copied_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["copy"])


@call("threads.prune")
async def prune_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.prune([ctx["copy"]])


@call("threads.get", "pruned", detail=True)
async def get_pruned_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get(ctx["copy"])


@call("threads.delete")
async def delete_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.delete(ctx["thread_b"])


@call("threads.get", "deleted", detail=True)
async def get_deleted_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get(ctx["thread_b"])


@call("threads.create", sync=True)
def sync_create_thread(c: Any, ctx: Ctx) -> Any:
    thread = c.threads.create(metadata={"sync": True})
    ctx["sync_thread"] = thread["thread_id"]
    return thread


@call("runs.wait", sync=True)
def sync_wait(c: Any, ctx: Ctx) -> Any:
    return c.runs.wait(ctx["sync_thread"], "chat", input=HI)


@call("threads.get_state", sync=True)
def sync_get_state(c: Any, ctx: Ctx) -> Any:
    return c.threads.get_state(ctx["sync_thread"])


@call("threads.get_history", sync=True)
def sync_get_history(c: Any, ctx: Ctx) -> Any:
    return c.threads.get_history(ctx["sync_thread"], limit=2)
