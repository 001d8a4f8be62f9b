"""Programs whose v3 run streams are replayed from the log (rewind only: LangGraph keeps no log).

``build_desk``: a model that thinks, talks and calls a tool (reasoning, text and tool-call
deltas), the tool (streaming its output in parts), the model again; then a ``review`` subgraph
whose model drafts a letter and whose ``approve`` node asks for approval (``interrupt``); once
resumed, a ``report`` node writes a custom event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool

from rewind.config import get_stream_writer
from rewind.graph import END, START, MessagesState, StateGraph
from rewind.prebuilt import ToolNode, ToolRuntime, tools_condition
from rewind.types import interrupt

INPUT = {"messages": [HumanMessage("tides in Brest?", id="h1")]}


class ThinkingModel(GenericFakeChatModel):
    """A fake model that streams its reasoning, its text word by word and each tool call's
    arguments in two tool-call chunks, as providers do."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        message = next(self.messages)
        thought = message.additional_kwargs.get("thought", "")
        chunks = [
            AIMessageChunk(content=[{"type": "reasoning", "reasoning": part, "index": 0}])
            for part in thought.split("|")
            if part
        ]
        words = str(message.content).split(" ") if message.content else []
        for i, word in enumerate(words):
            text = word if i == 0 else " " + word
            chunks.append(AIMessageChunk(content=[{"type": "text", "text": text, "index": 1}]))
        for index, call in enumerate(message.tool_calls):
            args = json.dumps(call["args"])  # in two parts: the second has no name or id
            for part, (name, id_) in zip(
                (args[: len(args) // 2], args[len(args) // 2 :]),
                ((call["name"], call["id"]), (None, None)),
                strict=True,
            ):
                chunk = {"name": name, "args": part, "id": id_, "index": 2 + index}
                chunks.append(AIMessageChunk(content="", tool_call_chunks=[chunk]))
        chunks.append(AIMessageChunk(content="", chunk_position="last"))
        for chunk in chunks:
            yield ChatGenerationChunk(message=chunk)


@tool
def tides(port: str, runtime: ToolRuntime) -> str:
    """The tides of a port, streamed in parts as they are looked up."""
    for part in ("high", "low"):
        runtime.emit_output_delta({"part": part, "port": port})
    return f"tides of {port}: high 06:12, low 12:30"


def _model() -> ThinkingModel:
    return ThinkingModel(
        messages=iter(
            [
                AIMessage(
                    content="Let me look.",
                    additional_kwargs={"thought": "The user|wants tides."},
                    tool_calls=[{"name": "tides", "args": {"port": "Brest"}, "id": "t1"}],
                ),
                AIMessage(
                    content="High tide at 06:12.",
                    additional_kwargs={"thought": "Answer now."},
                ),
            ]
        )
    )


def build_desk(checkpointer: Any, **compile_kwargs: Any) -> Any:
    """The desk (see the module's docstring); ``checkpointer`` keeps its log."""
    model = _model()
    writer = ThinkingModel(messages=iter([AIMessage(content="Dear sailor, high tide is early.")]))

    def think(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.bind_tools([tides]).invoke(state["messages"])]}

    def draft(state: MessagesState) -> dict[str, Any]:
        return {"messages": [writer.invoke(state["messages"])]}

    def approve(state: MessagesState) -> dict[str, Any]:
        answer = interrupt({"question": "send it?", "n": len(state["messages"])})
        return {"messages": [AIMessage(content=f"approved: {answer}", id="approved-1")]}

    review = StateGraph(MessagesState)
    review.add_node("draft", draft)
    review.add_node("approve", approve)
    review.add_edge(START, "draft")
    review.add_edge("draft", "approve")

    def report(state: MessagesState) -> dict[str, Any]:
        get_stream_writer()({"sent": len(state["messages"])})
        return {"messages": [AIMessage(content="sent", id="sent-1")]}

    builder = StateGraph(MessagesState)
    builder.add_node("think", think)
    builder.add_node("tools", ToolNode([tides]))
    builder.add_node("review", review.compile(name="review"))
    builder.add_node("report", report)
    builder.add_edge(START, "think")
    builder.add_conditional_edges("think", tools_condition, {"tools": "tools", END: "review"})
    builder.add_edge("tools", "think")
    builder.add_edge("review", "report")
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)


def build_failing(checkpointer: Any) -> Any:
    """A model's answer, then a node that raises."""
    model = _model()

    def think(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def broken(state: MessagesState) -> dict[str, Any]:
        raise ValueError("the desk broke")

    builder = StateGraph(MessagesState)
    builder.add_node("think", think)
    builder.add_node("broken", broken)
    builder.add_edge(START, "think")
    builder.add_edge("think", "broken")
    return builder.compile(checkpointer=checkpointer)
