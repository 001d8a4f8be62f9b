"""Graphs the command-line tests run, copied into each test's fresh directory.

``chat``: a parent graph whose subgraph streams a chat model's tokens and writes custom data;
``approval``: a graph that stops at ``interrupt()`` for an answer; ``broken``: a node raises;
``slow``: a node that naps;
``builder``: an uncompiled StateGraph; ``make_chat``: a factory; ``needs_args``: a function
that is not a factory.
"""

from __future__ import annotations

import operator
import time
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind.checkpoint.memory import InMemorySaver
from rewind.config import get_stream_writer
from rewind.graph import END, START, MessagesState, StateGraph
from rewind.types import interrupt


class Inner(MessagesState):
    notes: Annotated[list[str], operator.add]


def make_chat() -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage("the log keeps every token")] * 50))

    def think(state: Inner) -> dict[str, Any]:
        get_stream_writer()({"progress": "thinking"})
        return {"messages": [model.invoke(state["messages"])], "notes": ["thought"]}

    inner = StateGraph(Inner)
    inner.add_node("think", think)
    inner.add_edge(START, "think")
    inner.add_edge("think", END)

    def prepare(state: Inner) -> dict[str, Any]:
        get_stream_writer()({"progress": "preparing"})
        return {"notes": ["prepared"]}

    outer = StateGraph(Inner)
    outer.add_node("prepare", prepare)
    outer.add_node("inner", inner.compile())
    outer.add_edge(START, "prepare")
    outer.add_edge("prepare", "inner")
    outer.add_edge("inner", END)
    # Compiled with another checkpointer: `rewind run` records into --db all the same.
    return outer.compile(checkpointer=InMemorySaver(), name="chat")


chat = make_chat()


class Approval(TypedDict, total=False):
    draft: str
    approved: Any


def write(state: Approval) -> dict[str, Any]:
    return {"draft": f"a post about {state.get('draft') or 'nothing'}"}


def review(state: Approval) -> dict[str, Any]:
    answer = interrupt({"question": "publish this?", "draft": state["draft"]})
    return {"approved": answer}


builder = StateGraph(Approval)
builder.add_node("write", write)
builder.add_node("review", review)
builder.add_edge(START, "write")
builder.add_edge("write", "review")
builder.add_edge("review", END)
approval = builder.compile()


class Count(TypedDict):
    n: int


def explode(state: Count) -> dict[str, Any]:
    raise ValueError(f"cannot count past {state['n']}")


_broken = StateGraph(Count)
_broken.add_node("explode", explode)
_broken.add_edge(START, "explode")
broken = _broken.compile()


def needs_args(path: str) -> Any:
    return chat


def nap(state: Count) -> dict[str, Any]:
    get_stream_writer()({"napping": True})
    time.sleep(3)
    return {"n": state["n"] + 1}


_slow = StateGraph(Count)
_slow.add_node("nap", nap)
_slow.add_edge(START, "nap")
slow = _slow.compile()
