"""The crons' calls: on a thread and stateless, searched, counted, updated, deleted."""

from __future__ import annotations

from typing import Any

from tests.server.reference.calls.base import HI, NEVER, Call, Ctx, registrar

CALLS: list[Call] = []
call = registrar(CALLS)


@call("crons.create")
async def create_cron(c: Any, ctx: Ctx) -> Any:
    cron = await c.crons.create("chat", schedule=NEVER, input=HI, metadata={"kind": "stateless"})
    ctx["cron"] = cron["cron_id"]
    return cron


@call("crons.create_for_thread")
async def create_thread_cron(c: Any, ctx: Ctx) -> Any:
    cron = await c.crons.create_for_thread(ctx["thread"], "chat", schedule=NEVER, input=HI)
    ctx["thread_cron"] = cron["cron_id"]
    return cron


@call("crons.search", unordered=["$"])
async def search_crons(c: Any, ctx: Ctx) -> Any:
    return await c.crons.search(assistant_id=ctx["chat"])


@call("crons.search", "thread")
async def search_thread_crons(c: Any, ctx: Ctx) -> Any:
    return await c.crons.search(thread_id=ctx["thread"])


@call("crons.count")
async def count_crons(c: Any, ctx: Ctx) -> Any:
    return await c.crons.count()


@call("crons.count", "thread")
async def count_thread_crons(c: Any, ctx: Ctx) -> Any:
    return await c.crons.count(thread_id=ctx["thread"])


@call("crons.update")
async def update_cron(c: Any, ctx: Ctx) -> Any:
    return await c.crons.update(ctx["cron"], schedule="0 0 2 1 *", enabled=False)


@call("crons.search", "disabled, select")
async def search_disabled_crons(c: Any, ctx: Ctx) -> Any:
    return await c.crons.search(enabled=False, select=["cron_id", "schedule", "metadata"])


@call("crons.delete")
async def delete_cron(c: Any, ctx: Ctx) -> Any:
    return await c.crons.delete(ctx["cron"])


@call("crons.count", "after delete")
async def count_crons_after(c: Any, ctx: Ctx) -> Any:
    return await c.crons.count()


@call("crons.search", sync=True, unordered=["$"])
def sync_search_crons(c: Any, ctx: Ctx) -> Any:
    return c.crons.search()
