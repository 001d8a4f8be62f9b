"""A tool-calling agent: a streaming chat model, ``ToolNode``, a ``nostream`` model, a custom
event and a custom stream write.

START -> agent --(tool calls?)--> tools -> agent -> ... -> wrap_up -> END

The model answers from a script (no network): turn 1 calls two tools (one of them raises and
``ToolNode`` reports the error as a ``ToolMessage``), turn 2 answers. ``wrap_up`` calls a second
model tagged ``nostream`` and dispatches a custom event. Under ``astream_events`` every model
call, token, tool run and custom event is an event of its own, nested under its node.
"""

import json
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode


class ScriptedToolModel(GenericFakeChatModel):
    """Streams its scripted answers word by word, tool calls as ``tool_call_chunks``."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedToolModel":
        return self

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        message = next(self.messages)
        words = message.content.split(" ")
        chunks = [
            AIMessageChunk(content=w if i == 0 else " " + w, id=message.id)
            for i, w in enumerate(words)
        ]
        for index, call in enumerate(message.tool_calls):
            chunks.append(
                AIMessageChunk(
                    content="",
                    id=message.id,
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
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                run_manager.on_llm_new_token(str(chunk.content), chunk=generation)
            yield generation


class State(TypedDict, total=False):
    messages: Annotated[list, add_messages]
    summary: str


@tool
def lookup(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@tool
def broken(city: str) -> str:
    """A tool that always fails."""
    raise ValueError(f"no data for {city}")


def build(checkpointer):
    model = ScriptedToolModel(
        messages=iter(
            [
                AIMessage(
                    content="Checking two sources.",
                    tool_calls=[
                        {"name": "lookup", "args": {"city": "Oslo"}, "id": "call_1"},
                        {"name": "broken", "args": {"city": "Oslo"}, "id": "call_2"},
                    ],
                ),
                AIMessage(content="Oslo is sunny."),
            ]
        )
    ).bind_tools([lookup, broken])
    quiet = GenericFakeChatModel(messages=iter([AIMessage(content="short summary")])).with_config(
        tags=["nostream"]
    )

    def agent(state: State) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    def route(state: State) -> str:
        return "tools" if state["messages"][-1].tool_calls else "wrap_up"

    def wrap_up(state: State) -> dict:
        get_stream_writer()({"stage": "wrap_up"})
        dispatch_custom_event("progress", {"done": len(state["messages"])})
        return {"summary": quiet.invoke("summarise").content}

    g = StateGraph(State)
    g.add_node("agent", agent)
    g.add_node("tools", ToolNode([lookup, broken]))
    g.add_node("wrap_up", wrap_up)
    g.add_edge(START, "agent")
    g.add_conditional_edges("agent", route, ["tools", "wrap_up"])
    g.add_edge("tools", "agent")
    g.add_edge("wrap_up", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "agent", "calls": [{"input": {"messages": [("user", "Weather in Oslo?")]}}]},
]
