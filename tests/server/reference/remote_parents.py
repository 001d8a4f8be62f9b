"""Graphs whose one node is a ``RemoteGraph`` calling an assistant of the server at
``$REMOTE_URL`` (``via_<assistant>``), served by LangGraph's server and by rewind's (the
source is written to each server's app folder; for LangGraph's, importing LangGraph)."""

from __future__ import annotations

import os
from typing import Any, TypedDict

from rewind.graph import START, StateGraph
from rewind.pregel.remote import RemoteGraph

ASSISTANTS = ("agent", "nested", "chatty", "boom", "echo")
"""The assistants of ``tests/server/app`` the parents call."""

GRAPHS = {f"via_{a}": f"./graphs.py:via_{a}" for a in ASSISTANTS}
"""The ``graphs`` of the ``langgraph.json`` both parent servers read."""


class Outer(TypedDict, total=False):
    messages: list[Any]
    steps: list[str]
    answer: str


def _parent(assistant: str) -> Any:
    builder = StateGraph(Outer)
    builder.add_node("remote", RemoteGraph(assistant, url=os.environ["REMOTE_URL"]))
    builder.add_edge(START, "remote")
    return builder.compile()


if os.environ.get("REMOTE_URL"):  # (in a server's app folder; imported by a test: names only)
    via_agent = _parent("agent")
    via_nested = _parent("nested")
    via_chatty = _parent("chatty")
    via_boom = _parent("boom")
    via_echo = _parent("echo")
