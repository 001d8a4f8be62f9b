"""A task's start carries the caller's metadata and tags in ``tasks`` and ``debug``, as
LangGraph's does (the framework's own keys left out)."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LGStateGraph

from rewind.graph import END, START, StateGraph


class S(TypedDict):
    x: int


def _graph(builder_class: Any, start: Any, end: Any) -> Any:
    builder = builder_class(S)
    builder.add_node("n", lambda state: {"x": state["x"] + 1})
    builder.add_edge(start, "n")
    builder.add_edge("n", end)
    return builder.compile()


def _shown(chunks: list[Any]) -> list[Any]:
    out = []
    for chunk in chunks:
        if chunk.get("type") == "checkpoint":
            continue  # checkpoint ids differ between the libraries
        payload = chunk.get("payload", chunk)
        out.append({k: v for k, v in payload.items() if k != "id"})
    return out


@pytest.mark.parametrize("mode", ["tasks", "debug"])
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"metadata": {"a": 1, "thread_id": "hidden", "langgraph_node": "hidden"}},
        {"tags": ["t1", "seq:step:1"]},
        {"metadata": {"a": 1}, "tags": ["t1"]},
    ],
)
def test_task_starts_carry_metadata_as_langgraph(mode: str, config: dict[str, Any]) -> None:
    ours = _graph(StateGraph, START, END).stream({"x": 0}, config, stream_mode=mode)
    theirs = _graph(LGStateGraph, LG_START, LG_END).stream({"x": 0}, config, stream_mode=mode)
    assert _shown(list(ours)) == _shown(list(theirs))


@pytest.mark.parametrize("metadata", [None, {"user": "ann"}, {"ls_integration": "mine"}])
def test_a_models_messages_metadata_lists_its_keys_in_langgraphs_order(
    metadata: dict[str, Any] | None,
) -> None:
    """The metadata of a ``messages`` chunk: the run's keys, then ``ls_integration``, then the
    task's ``langgraph_*`` keys (a JSON client sees the order), as LangGraph gives it."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langgraph.checkpoint.memory import InMemorySaver as LGInMemorySaver
    from langgraph.graph import MessagesState as LGMessagesState

    from rewind.checkpoint.memory import InMemorySaver
    from rewind.graph import MessagesState

    def speak(state):  # type: ignore[no-untyped-def]  # (typed, it would be its input schema)
        model = GenericFakeChatModel(messages=iter([AIMessage("hi there")]))
        return {"messages": [model.invoke(state["messages"])]}

    def keys(builder_class: Any, state: Any, start: Any, end: Any, saver: Any) -> list[list[str]]:
        builder = builder_class(state)
        builder.add_node("speak", speak)
        builder.add_edge(start, "speak")
        builder.add_edge("speak", end)
        graph = builder.compile(checkpointer=saver)
        config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
        if metadata is not None:
            config["metadata"] = metadata
        chunks = graph.stream({"messages": [("user", "hi")]}, config, stream_mode="messages")
        return [[k for k in meta if k != "lc_versions"] for _chunk, meta in chunks]

    assert keys(StateGraph, MessagesState, START, END, InMemorySaver()) == keys(
        LGStateGraph, LGMessagesState, LG_START, LG_END, LGInMemorySaver()
    )
