"""Programs written for LangGraph, run side by side through v3 run streams (loaded once per
engine by the harness: under rewind every ``langgraph`` import is served by ``rewind``).

Each ``build_*`` returns a compiled graph; ``INPUTS`` gives the input of each.
"""

from __future__ import annotations

import asyncio
import json
import operator
import warnings
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver  # noqa: F401 (the tests' checkpointer)
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, ToolRuntime, create_react_agent, tools_condition
from langgraph.stream import StreamChannel, StreamTransformer
from langgraph.types import interrupt


class Counter(TypedDict):
    n: int
    log: Annotated[list[str], operator.add]


def build_plain(checkpointer: Any = None, **compile_kwargs: Any) -> Any:
    """Two steps and a custom event."""

    def first(state: Counter) -> dict[str, Any]:
        get_stream_writer()({"progress": "first"})
        return {"n": state["n"] + 1, "log": ["first"]}

    def second(state: Counter) -> dict[str, Any]:
        return {"n": state["n"] * 10, "log": ["second"]}

    builder = StateGraph(Counter)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)


def _model(*texts: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=t) for t in texts]))


def build_chat(checkpointer: Any = None) -> Any:
    """A model streaming tokens, then a node returning a whole message."""
    model = _model("hello there world")

    def call(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def whole(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content="a whole reply", id="whole-1")]}

    builder = StateGraph(MessagesState)
    builder.add_node("call", call)
    builder.add_node("whole", whole)
    builder.add_edge(START, "call")
    builder.add_edge("call", "whole")
    return builder.compile(checkpointer=checkpointer)


def build_unstreamed(checkpointer: Any = None) -> Any:
    """A model that cannot stream, and a streaming one tagged ``nostream``."""
    whole = FakeMessagesListChatModel(responses=[AIMessage(content="all at once")])
    quiet = _model("not streamed").with_config(tags=["nostream"])

    def call(state: MessagesState) -> dict[str, Any]:
        return {"messages": [whole.invoke(state["messages"]), quiet.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("call", call)
    builder.add_edge(START, "call")
    return builder.compile(checkpointer=checkpointer)


def build_async_chat(checkpointer: Any = None) -> Any:
    """An async node awaiting a streaming model."""
    model = _model("async hello there")

    async def call(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("call", call)
    builder.add_edge(START, "call")
    return builder.compile(checkpointer=checkpointer)


def build_react(checkpointer: Any = None) -> Any:
    """The prebuilt agent, with a model that calls the weather tool, then answers."""
    model = ToolStreamingModel(
        messages=iter(
            [
                AIMessage(
                    content="Checking.",
                    tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "w1"}],
                ),
                AIMessage(content="Sunny in Oslo."),
            ]
        )
    )
    with warnings.catch_warnings():  # deprecated since LangGraph 1.0, in both engines
        warnings.simplefilter("ignore", DeprecationWarning)
        return create_react_agent(model, [get_weather], checkpointer=checkpointer)


def build_nested(checkpointer: Any = None) -> Any:
    """A parent whose node is a subgraph whose node is a subgraph; a model in the middle."""
    model = _model("from the child")

    def leaf(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content="leaf done", id="leaf-1")]}

    grandchild = StateGraph(MessagesState)
    grandchild.add_node("leaf", leaf)
    grandchild.add_edge(START, "leaf")

    def talk(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    child = StateGraph(MessagesState)
    child.add_node("talk", talk)
    child.add_node("grand", grandchild.compile())
    child.add_edge(START, "talk")
    child.add_edge("talk", "grand")

    def after(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content="parent done", id="parent-1")]}

    builder = StateGraph(MessagesState)
    builder.add_node("child", child.compile())
    builder.add_node("after", after)
    builder.add_edge(START, "child")
    builder.add_edge("child", "after")
    return builder.compile(checkpointer=checkpointer)


def build_nested_trouble(checkpointer: Any = None, *, fail: bool = False) -> Any:
    """A subgraph whose node fails (``fail``) or asks for approval."""

    def trouble(state: Counter) -> dict[str, Any]:
        if fail:
            raise ValueError("the subgraph broke")
        return {"log": [f"answer: {interrupt('approve?')}"]}

    child = StateGraph(Counter)
    child.add_node("trouble", trouble)
    child.add_edge(START, "trouble")

    builder = StateGraph(Counter)
    builder.add_node("child", child.compile())
    builder.add_edge(START, "child")
    return builder.compile(checkpointer=checkpointer)


def build_interrupting(checkpointer: Any = None) -> Any:
    """Asks for approval, then records the answer."""

    def ask(state: Counter) -> dict[str, Any]:
        answer = interrupt({"question": "go on?", "n": state["n"]})
        return {"log": [f"answer: {answer}"]}

    def done(state: Counter) -> dict[str, Any]:
        return {"n": state["n"] + 100}

    builder = StateGraph(Counter)
    builder.add_node("ask", ask)
    builder.add_node("done", done)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "done")
    return builder.compile(checkpointer=checkpointer)


def build_failing(checkpointer: Any = None) -> Any:
    """The second node raises."""

    def fine(state: Counter) -> dict[str, Any]:
        return {"n": 1}

    def broken(state: Counter) -> dict[str, Any]:
        raise ValueError("the node broke")

    builder = StateGraph(Counter)
    builder.add_node("fine", fine)
    builder.add_node("broken", broken)
    builder.add_edge(START, "fine")
    builder.add_edge("fine", "broken")
    return builder.compile(checkpointer=checkpointer)


class ToolStreamingModel(GenericFakeChatModel):
    """A fake model that streams its tool calls as tool-call chunks, as providers do."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        message = next(self.messages)
        words = str(message.content).split(" ") if message.content else []
        chunks = [AIMessageChunk(content=w if i == 0 else " " + w) for i, w in enumerate(words)]
        for index, call in enumerate(message.tool_calls):
            chunks.append(
                AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": call["name"],
                            "args": json.dumps(call["args"]),
                            "id": call["id"],
                            "index": index,
                        }
                    ],
                )
            )
        chunks[-1].chunk_position = "last"
        for chunk in chunks:
            yield ChatGenerationChunk(message=chunk)


@tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"Sunny in {city}"


def build_agent(checkpointer: Any = None, **compile_kwargs: Any) -> Any:
    """A tool-calling agent: the model asks for the weather, the tool answers, it replies."""
    model = ToolStreamingModel(
        messages=iter(
            [
                AIMessage(
                    content="Let me check.",
                    tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}],
                ),
                AIMessage(content="It is sunny in Paris."),
            ]
        )
    )

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.bind_tools([get_weather]).invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([get_weather]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)


@tool
def report(topic: str, runtime: ToolRuntime) -> str:
    """A report on a topic, streamed in parts as it is written."""
    for part in ("intro", "body"):
        runtime.emit_output_delta({"part": part, "topic": topic})
    return f"report on {topic}"


def build_reporting(checkpointer: Any = None) -> Any:
    """An agent whose tool streams its output in parts."""
    model = ToolStreamingModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[{"name": "report", "args": {"topic": "tides"}, "id": "r1"}],
                ),
                AIMessage(content="Done."),
            ]
        )
    )

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([report]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)


class StepCounter(StreamTransformer):
    """A user transformer: counts the scope's values events on a named channel (logged as
    ``custom:steps``) and keeps the nodes of updates on a local one."""

    required_stream_modes = ("values", "updates")

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self.steps: StreamChannel[int] = StreamChannel("steps")
        self.nodes: StreamChannel[str] = StreamChannel()
        self.count = 0

    def init(self) -> dict[str, Any]:
        return {"steps": self.steps, "nodes": self.nodes}

    def process(self, event: Any) -> bool:
        if event["params"]["namespace"] != list(self.scope):
            return True
        if event["method"] == "values":
            self.count += 1
            self.steps.push(self.count)
        elif event["method"] == "updates":
            for node in event["params"]["data"]:
                self.nodes.push(node)
        return True


def build_inner(checkpointer: Any = None) -> Any:
    """A node that streams another graph through a v3 run stream of its own, inside the run:
    the inner run stream's projections read the inner graph's own root events."""
    inner = build_plain()

    def outer(state: Counter) -> dict[str, Any]:
        run = inner.stream_events({"n": state["n"], "log": []}, version="v3")
        values = list(run.values)
        return {"n": run.output["n"], "log": [f"inner steps: {len(values)}"]}

    builder = StateGraph(Counter)
    builder.add_node("outer", outer)
    builder.add_edge(START, "outer")
    return builder.compile(checkpointer=checkpointer)


class Shouting(StreamTransformer):
    """Runs before the built-ins and upper-cases the text deltas of chat models, in place."""

    before_builtins = True
    required_stream_modes = ("messages",)

    def init(self) -> dict[str, Any]:
        return {}

    def process(self, event: Any) -> bool:
        if event["method"] == "messages":
            payload = event["params"]["data"][0]
            if isinstance(payload, dict) and payload.get("event") == "content-block-delta":
                delta = payload.get("delta") or {}
                if "text" in delta:
                    delta["text"] = delta["text"].upper()
        return True


class Sizes(StreamTransformer):
    """An async transformer: works out each state's size in a scheduled coroutine."""

    requires_async = True
    required_stream_modes = ("values",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self.sizes: StreamChannel[int] = StreamChannel("sizes")

    def init(self) -> dict[str, Any]:
        return {"sizes": self.sizes}

    def process(self, event: Any) -> bool:
        if event["method"] == "values" and event["params"]["namespace"] == list(self.scope):
            self.schedule(self._size(event["params"]["data"]))
        return True

    async def _size(self, state: Any) -> None:
        await asyncio.sleep(0)
        self.sizes.push(len(state["log"]))


INPUTS: dict[str, Any] = {
    "plain": {"n": 1, "log": []},
    "chat": {"messages": [HumanMessage("hi", id="h1")]},
    "nested": {"messages": [HumanMessage("hi", id="h1")]},
    "interrupting": {"n": 5, "log": []},
    "failing": {"n": 0, "log": []},
    "agent": {"messages": [HumanMessage("weather in Paris?", id="h1")]},
    "inner": {"n": 2, "log": []},
    "async_chat": {"messages": [HumanMessage("hi", id="h1")]},
    "react": {"messages": [HumanMessage("weather in Oslo?", id="h1")]},
    "unstreamed": {"messages": [HumanMessage("hi", id="h1")]},
    "reporting": {"messages": [HumanMessage("report on tides", id="h1")]},
}
