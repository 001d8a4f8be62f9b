"""Generative UI (``POST /ui/{graph_id}``): neither server has a UI bundle for the reference
graphs (their ``langgraph.json`` names none), so both answer a 404 naming the graph, and refuse
a body that is not JSON. Its message is compared whichever way the body carries it: LangGraph's
server answers plain text, rewind a JSON ``detail`` as for every error."""

from __future__ import annotations

from typing import Any

from tests.server.reference.calls.base import Call, Ctx, Http, registrar

CALLS: list[Call] = []
call = registrar(CALLS)


async def _ui(h: Http, graph_id: str, **kwargs: Any) -> dict[str, Any]:
    response = await h.request("POST", "/ui/{graph_id}", path={"graph_id": graph_id}, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    return {"status": response.status_code, "detail": body.get("detail")}


@call("POST /ui/{graph_id}", http=True)
async def ui_component(h: Http, ctx: Ctx) -> Any:
    return {
        "no bundle": await _ui(h, "chat", json={"name": "card"}),
        "not JSON": await _ui(h, "chat", content=b"{nope"),
    }
