"""MessageGraph (deprecated since LangGraph 1.0) runs as LangGraph's, side by side."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver as LgSaver
from langgraph.graph import MessageGraph as LgMessageGraph
from langgraph.warnings import LangGraphDeprecatedSinceV10 as LgDeprecated

from rewind.checkpoint.memory import InMemorySaver
from rewind.errors import LangGraphDeprecatedSinceV10
from rewind.graph import END, MessageGraph
from rewind.graph.message import MessageGraph as FromMessage

CALL = {"name": "search", "id": "c1", "args": {"query": "X"}}


def chatbot(messages: list[BaseMessage]) -> Any:
    if isinstance(messages[-1], ToolMessage):
        return AIMessage("found it", id="a2")
    return [AIMessage("", id="a1", tool_calls=[CALL])]


def search(messages: list[BaseMessage]) -> Any:
    return ToolMessage("Searching...", tool_call_id="c1", id="t1")


def route(messages: list[BaseMessage]) -> str:
    last = messages[-1]
    return "search" if isinstance(last, AIMessage) and last.tool_calls else END


def _build(cls: Any, warning: type[Warning]) -> Any:
    with pytest.warns(warning, match="MessageGraph is deprecated in LangGraph v1.0.0"):
        builder = cls()
    builder.add_node("chatbot", chatbot)
    builder.add_node("search", search)
    builder.set_entry_point("chatbot")
    builder.add_conditional_edges("chatbot", route)
    builder.add_edge("search", "chatbot")
    return builder


def _plain(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        # Ids given here are compared; fresh ones (uuid4 in both libraries) are not.
        given = value.id if value.id in ("h", "a1", "a2", "t1", "e") else "fresh"
        return (type(value).__name__, value.content, given)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


INPUT = [HumanMessage("Hi there. Can you search for X?", id="h")]


@pytest.mark.parametrize("mode", [None, "values", "updates", ["values", "updates"]])
def test_runs_and_streams_as_langgraphs(mode: Any) -> None:
    ours = _build(MessageGraph, LangGraphDeprecatedSinceV10).compile()
    theirs = _build(LgMessageGraph, LgDeprecated).compile()
    if mode is None:
        out = ours.invoke(INPUT)
        assert _plain(out) == _plain(theirs.invoke(INPUT))
        assert [type(m).__name__ for m in out] == [
            "HumanMessage",
            "AIMessage",
            "ToolMessage",
            "AIMessage",
        ]
        return
    assert _plain(list(ours.stream(INPUT, stream_mode=mode))) == _plain(
        list(theirs.stream(INPUT, stream_mode=mode))
    )


def test_state_history_and_update_state_as_langgraphs() -> None:
    ours = _build(MessageGraph, LangGraphDeprecatedSinceV10).compile(
        checkpointer=InMemorySaver(), interrupt_before=["search"]
    )
    theirs = _build(LgMessageGraph, LgDeprecated).compile(
        checkpointer=LgSaver(), interrupt_before=["search"]
    )
    config = {"configurable": {"thread_id": "t"}}
    assert _plain(ours.invoke(INPUT, config)) == _plain(theirs.invoke(INPUT, config))
    for graph in (ours, theirs):
        graph.update_state(config, [HumanMessage("extra", id="e")], as_node="chatbot")
    mine, other = ours.get_state(config), theirs.get_state(config)
    assert _plain(mine.values) == _plain(other.values) and mine.next == other.next
    assert [_plain(s.values) for s in ours.get_state_history(config)] == [
        _plain(s.values) for s in theirs.get_state_history(config)
    ]
    assert _plain(ours.invoke(None, config)) == _plain(theirs.invoke(None, config))


def test_both_import_paths_and_plain_tuples() -> None:
    assert FromMessage is MessageGraph
    with pytest.warns(LangGraphDeprecatedSinceV10):
        builder = MessageGraph()
    builder.add_node("chatbot", lambda messages: [("assistant", "Hello!")])
    builder.set_entry_point("chatbot")
    builder.set_finish_point("chatbot")
    out = builder.compile().invoke([("user", "Hi there.")])
    assert [(type(m).__name__, m.content) for m in out] == [
        ("HumanMessage", "Hi there."),
        ("AIMessage", "Hello!"),
    ]
    assert all(m.id for m in out)


def test_an_interrupt_in_a_node_as_langgraphs() -> None:
    from langgraph.types import interrupt as lg_interrupt

    from rewind.types import interrupt

    def make(cls: Any, warning: type[Warning], ask: Any, saver: Any) -> Any:
        with pytest.warns(warning):
            builder = cls()
        builder.add_node("ask", lambda messages: [("assistant", str(ask("ok?")))])
        builder.set_entry_point("ask")
        builder.set_finish_point("ask")
        return builder.compile(checkpointer=saver)

    ours = make(MessageGraph, LangGraphDeprecatedSinceV10, interrupt, InMemorySaver())
    theirs = make(LgMessageGraph, LgDeprecated, lg_interrupt, LgSaver())
    config = {"configurable": {"thread_id": "t"}}
    mine, other = ours.invoke(INPUT, config), theirs.invoke(INPUT, config)
    assert list(mine) == list(other) == ["__interrupt__"]
    assert [i.value for i in mine["__interrupt__"]] == ["ok?"]
    from langgraph.types import Command as LgCommand

    from rewind.types import Command

    done = ours.invoke(Command(resume="yes"), config)
    assert _plain(done) == _plain(theirs.invoke(LgCommand(resume="yes"), config))
