"""``runtime.server_info`` comes from the run's config as LangGraph builds it."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LgGraph
from langgraph.runtime import Runtime as LgRuntime

from rewind.graph import START, StateGraph
from rewind.runtime import BaseUser, Runtime, ServerInfo


class State(TypedDict):
    seen: Any


class User:
    identity = "u1"
    display_name = "U"
    is_authenticated = True
    permissions = ("read",)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return hasattr(self, str(key))

    def __iter__(self) -> Any:
        return iter(("identity",))


def _seen(graph_cls: Any, start: str, runtime_cls: Any, configurable: dict[str, Any]) -> Any:
    def node(state: State, runtime: runtime_cls) -> dict[str, Any]:  # type: ignore[valid-type]
        info = runtime.server_info
        if info is None:
            return {"seen": None}
        user = info.user.identity if info.user is not None else None
        return {"seen": (info.assistant_id, info.graph_id, user)}

    builder = graph_cls(State)
    builder.add_node("node", node)
    builder.add_edge(start, "node")
    return builder.compile().invoke({"seen": None}, {"configurable": configurable})["seen"]


def test_server_info_as_langgraphs() -> None:
    for configurable in (
        {},
        {"assistant_id": "a1", "graph_id": "g1"},
        {"graph_id": "g1"},
        {"langgraph_auth_user": User()},
    ):
        ours = _seen(StateGraph, START, Runtime, configurable)
        theirs = _seen(LgGraph, LG_START, LgRuntime, configurable)
        assert ours == theirs, configurable
    assert isinstance(User(), BaseUser)
    assert ServerInfo("a", "g").user is None
