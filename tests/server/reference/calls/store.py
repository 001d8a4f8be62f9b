"""The store's calls: items put, read, searched and deleted, namespaces listed."""

from __future__ import annotations

from typing import Any

from tests.server.reference.calls.base import Call, Ctx, registrar

CALLS: list[Call] = []
call = registrar(CALLS)


@call("store.put_item")
async def put_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.put_item(["users", "u1"], "prefs", {"theme": "dark", "lang": "en"})


@call("store.put_item", "second namespace")
async def put_second_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.put_item(["users", "u2"], "prefs", {"theme": "light"})


@call("store.put_item", "index=False")
async def put_unindexed_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.put_item(["docs"], "readme", {"text": "hello"}, index=False)


@call("store.get_item")
async def get_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.get_item(["users", "u1"], "prefs")


@call("store.get_item", "missing", detail=True)
async def get_missing_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.get_item(["users", "u1"], "nope")


@call("store.search_items", unordered=["$.items"])
async def search_items(c: Any, ctx: Ctx) -> Any:
    return await c.store.search_items(["users"])


@call("store.search_items", "filter")
async def search_items_filter(c: Any, ctx: Ctx) -> Any:
    return await c.store.search_items(["users"], filter={"theme": "dark"})


@call("store.list_namespaces", unordered=["$.namespaces"])
async def list_namespaces(c: Any, ctx: Ctx) -> Any:
    return await c.store.list_namespaces()


@call("store.list_namespaces", "prefix, max_depth", unordered=["$.namespaces"])
async def list_namespaces_prefix(c: Any, ctx: Ctx) -> Any:
    return await c.store.list_namespaces(prefix=["users"], max_depth=1)


@call("store.delete_item")
async def delete_item(c: Any, ctx: Ctx) -> Any:
    return await c.store.delete_item(["users", "u2"], "prefs")


@call("store.search_items", "after delete", unordered=["$.items"])
async def search_items_after(c: Any, ctx: Ctx) -> Any:
    return await c.store.search_items(["users"])


@call("store.put_item", sync=True)
def sync_put_item(c: Any, ctx: Ctx) -> Any:
    return c.store.put_item(["sync"], "k", {"v": 1})


@call("store.get_item", sync=True)
def sync_get_item(c: Any, ctx: Ctx) -> Any:
    return c.store.get_item(["sync"], "k")
