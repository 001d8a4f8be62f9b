"""Graphs the page's browser tests run: a chat model that streams as many tokens as it is told,
as fast as it is told, and a node that waits on an interrupt."""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rewind.graph import START, MessagesState, StateGraph
from rewind.types import RetryPolicy, interrupt


class CountingModel(BaseChatModel):
    """Asked ``"N tokens at R/s"``, streams ``w0 w1 ... w(N-1)`` at R tokens a second (R=0:
    without pause), after ``D`` seconds when it also says ``"after Ds"``; the last chunk
    carries the usage."""

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _plan(self, messages: list[BaseMessage]) -> tuple[int, float]:
        found = re.search(r"(\d+) tokens at (\d+)/s", str(messages[-1].content))
        return (int(found[1]), float(found[2])) if found else (5, 0.0)

    def _pause(self, messages: list[BaseMessage]) -> float:
        found = re.search(r"after ([\d.]+)s", str(messages[-1].content))
        return float(found[1]) if found else 0.0

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        count, _ = self._plan(messages)
        text = "".join(f"w{i} " for i in range(count))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        count, rate = self._plan(messages)
        time.sleep(self._pause(messages))
        started = time.perf_counter()
        for i in range(count):
            if rate:
                time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            piece = AIMessageChunk(content=f"w{i} ")
            if i == count - 1:
                piece.usage_metadata = {
                    "input_tokens": 1,
                    "output_tokens": count,
                    "total_tokens": count + 1,
                }
                piece.response_metadata = {"finish_reason": "stop"}
            chunk = ChatGenerationChunk(message=piece)
            if run_manager is not None:
                run_manager.on_llm_new_token(str(piece.content), chunk=chunk)
            yield chunk


def _talker() -> Any:
    model = CountingModel()

    def talk(state: MessagesState) -> dict[str, Any]:
        # Streamed whatever the run streams (invoke streams only when a stream asks for it).
        reply: Any = None
        for chunk in model.stream(state["messages"]):
            reply = chunk if reply is None else reply + chunk
        return {"messages": [AIMessage(reply.content, usage_metadata=reply.usage_metadata)]}

    graph: StateGraph[Any] = StateGraph(MessagesState)
    graph.add_node("talk", talk)
    graph.add_edge(START, "talk")
    return graph.compile(name="talker")


def _approval() -> Any:
    def ask(state: MessagesState) -> dict[str, Any]:
        answer = interrupt({"question": "approve the transfer?"})
        return {"messages": [AIMessage(f"you said {answer}")]}

    graph: StateGraph[Any] = StateGraph(MessagesState)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    return graph.compile(name="approval")


class Log(TypedDict):
    """The mixed graph's state: what each node said."""

    log: Annotated[list[str], operator.add]


_TRIES = {"flaky": 0}


def _mixed() -> Any:
    """``flaky`` (fails once, then is retried) beside ``sub`` (a subgraph), then ``ask``
    (waits on an interrupt)."""

    def flaky(state: Log) -> dict[str, Any]:
        _TRIES["flaky"] += 1
        if _TRIES["flaky"] == 1:
            raise ConnectionError("flaky failed")
        return {"log": ["flaky ok"]}

    def ask(state: Log) -> dict[str, Any]:
        return {"log": [f"answer {interrupt('ok?')}"]}

    inner: StateGraph[Any] = StateGraph(Log)
    inner.add_node("inner_step", lambda state: {"log": ["inner"]})
    inner.add_edge(START, "inner_step")
    graph: StateGraph[Any] = StateGraph(Log)
    retry = RetryPolicy(max_attempts=3, initial_interval=0.01, jitter=False)
    graph.add_node("flaky", flaky, retry_policy=retry)
    graph.add_node("sub", inner.compile())
    graph.add_node("ask", ask)
    graph.add_edge(START, "flaky")
    graph.add_edge(START, "sub")
    graph.add_edge(["flaky", "sub"], "ask")
    return graph.compile(name="mixed")


talker = _talker()
"""Streams the tokens its question asks for."""
approval = _approval()
"""Waits on an interrupt, then says what it was told."""
mixed = _mixed()
"""A retried failure, a subgraph and an interrupt."""


def mask_tokens(event: Any) -> Any:
    """A redaction hook: a chat token's text is masked before it is stored."""
    payload = event.payload
    if event.type != "chat.token" or not isinstance(payload, dict):
        return payload
    chunk = payload.get("chunk")
    if chunk is not None and getattr(chunk, "content", None):
        chunk = chunk.model_copy(update={"content": "[masked]"})
    return {**payload, "token": "[masked]" if payload.get("token") else "", "chunk": chunk}


def mask_paris(event: Any) -> Any:
    """A redaction hook: the word ``Paris`` is stored as ``PLACE``, wherever it is."""
    from rewind.log.codec import decode, encode

    return decode(encode(event.payload).replace("Paris", "PLACE"))
