"""The graph ``rewind demo`` runs: a tool-calling chat agent whose model needs no key.

The model is scripted and offline: asked a question, it calls the tools it needs, then answers
from what they returned, streaming its answer token by token as a real chat model would. The
graph is an ordinary StateGraph, so every verb works on it too::

    rewind run rewind.cli.demo:graph --input '{"messages": [{"role": "user", "content": "Hi"}]}'
    rewind fork RUN --checkpoint ID --graph rewind.cli.demo:graph
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool

from rewind.graph import END, START, MessagesState, StateGraph
from rewind.prebuilt import ToolNode, tools_condition

__all__ = ["QUESTION", "ScriptedChatModel", "build", "builder", "graph", "tools"]

QUESTION = "What's the weather in Paris, and what is 17 times 23?"
"""What the demo asks the agent."""

_WEATHER = {"paris": "18°C and sunny", "london": "12°C with light rain", "tokyo": "22°C, clear"}


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return _WEATHER.get(city.strip().lower(), "15°C, overcast")


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


tools = [get_weather, multiply]
"""The tools the agent may call."""


class ScriptedChatModel(BaseChatModel):
    """An offline chat model that plays a tool-calling agent's part.

    On a user question it calls ``get_weather`` for a city it recognises and ``multiply`` for
    an ``A times B`` it finds; once the tools have answered, it writes a reply from their
    results. Replies stream word by word; tool calls stream as tool-call chunks. The last chunk
    carries the finish reason and a usage a provider would report (counted in words here).
    """

    model_name: str = "scripted-agent-1"
    """The name runs record for the model."""
    token_delay: float = 0.0
    """Seconds to wait before each streamed token, to look like a model at work."""

    @property
    def _llm_type(self) -> str:
        return "rewind-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        """The model knows its tools already; binding returns it unchanged."""
        return self

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        reply = self._answer(messages)
        sent = sum(len(str(m.content).split()) for m in messages)
        written = len(str(reply.content).split()) + len(reply.tool_calls)
        reply.response_metadata = {
            "model_name": self.model_name,
            "finish_reason": "tool_calls" if reply.tool_calls else "stop",
        }
        reply.usage_metadata = {
            "input_tokens": sent,
            "output_tokens": written,
            "total_tokens": sent + written,
        }
        return reply

    def _answer(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1] if messages else HumanMessage("")
        if isinstance(last, ToolMessage):
            results = []
            for message in reversed(messages):
                if not isinstance(message, ToolMessage):
                    break
                results.append(f"{message.name} says {message.content}")
            text = "Here is what I found: " + "; ".join(reversed(results)) + "."
            return AIMessage(text)
        question = str(last.content)
        calls: list[tuple[str, dict[str, Any]]] = []
        for city in _WEATHER:
            if city in question.lower():
                calls.append(("get_weather", {"city": city.title()}))
        product = re.search(r"(\d+)\s*(?:times|x|\*)\s*(\d+)", question)
        if product:
            calls.append(("multiply", {"a": int(product[1]), "b": int(product[2])}))
        if not calls:
            return AIMessage(
                "I can look up the weather in Paris, London or Tokyo and multiply numbers: "
                "ask me about one of those."
            )
        return AIMessage(
            "",
            tool_calls=[
                {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}
                for name, args in calls
            ],
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        pieces: list[AIMessageChunk] = [
            AIMessageChunk(content=word)
            for word in re.split(r"(?<=\s)", str(reply.content))
            if word
        ]
        for index, call in enumerate(reply.tool_calls):
            pieces.append(
                AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call["name"],
                            args=json.dumps(call["args"]),
                            id=call["id"],
                            index=index,
                        )
                    ],
                )
            )
        for i, piece in enumerate(pieces):
            time.sleep(self.token_delay)
            if i == len(pieces) - 1:
                piece.chunk_position = "last"
                piece.response_metadata = reply.response_metadata
                piece.usage_metadata = reply.usage_metadata
            chunk = ChatGenerationChunk(message=piece)
            if run_manager is not None:
                run_manager.on_llm_new_token(str(piece.content), chunk=chunk)
            yield chunk


def build(*, token_delay: float = 0.0) -> Any:
    """The demo agent: ``agent`` calls the model, ``tools`` runs its tool calls, until it
    answers. ``token_delay`` slows the model's tokens down so a reader sees them stream."""
    return builder(token_delay=token_delay).compile(name="demo-agent")


def builder(*, token_delay: float = 0.0) -> StateGraph[Any]:
    """The demo agent's graph, not compiled (to compile with a checkpointer of one's own)."""
    model = ScriptedChatModel(token_delay=token_delay).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph: StateGraph[Any] = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", cast(Any, ToolNode(tools)))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph


graph = build()
"""The compiled demo agent (no checkpointer: ``rewind`` records it where ``--db`` says)."""
