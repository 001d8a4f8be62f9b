"""The graphs the telemetry tests run: each shape the span model must get right.

Each scenario runs on a saver (a real SQLite file) and returns the ids of the runs it made.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from opentelemetry.sdk.trace import TracerProvider

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.types import Command, RetryPolicy, Send, interrupt


class State(TypedDict, total=False):
    hits: Annotated[list[str], operator.add]


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


Scenario = Callable[[AsyncSqliteSaver], Awaitable[list[str]]]


def chain(g: StateGraph[Any], *nodes: str) -> StateGraph[Any]:
    """Edges START -> each of ``nodes`` in turn -> END."""
    for before, after in zip((START, *nodes), (*nodes, END), strict=True):
        g.add_edge(before, after)
    return g


async def _runs(saver: AsyncSqliteSaver, thread_id: str) -> list[str]:
    store = await saver.log()
    return [r.run_id for r in await store.list_runs(thread_id=thread_id, oldest_first=True)]


async def _invoke(builder: StateGraph[Any], saver: AsyncSqliteSaver, thread: str) -> list[str]:
    graph = builder.compile(checkpointer=saver)
    await graph.ainvoke({"hits": []}, {"configurable": {"thread_id": thread}})
    return await _runs(saver, thread)


async def async_nodes(saver: AsyncSqliteSaver) -> list[str]:
    """START -> a -> b -> END, both ``async def``."""

    async def a(state: State) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"hits": ["a"]}

    async def b(state: State) -> dict[str, Any]:
        return {"hits": ["b"]}

    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    return await _invoke(chain(g, "a", "b"), saver, "async")


async def sync_nodes(saver: AsyncSqliteSaver) -> list[str]:
    """START -> a -> b -> END, plain ``def`` nodes (run in worker threads)."""
    g = StateGraph(State)
    g.add_node("a", lambda state: {"hits": ["a"]})
    g.add_node("b", lambda state: {"hits": ["b"]})
    return await _invoke(chain(g, "a", "b"), saver, "sync")


async def parallel(saver: AsyncSqliteSaver) -> list[str]:
    """START -> p0, p1, p2 (one super-step) -> join -> END."""
    g = StateGraph(State)
    names = ["p0", "p1", "p2"]
    for name in names:
        g.add_node(name, lambda state, name=name: {"hits": [name]})
        g.add_edge(START, name)
    g.add_node("join", lambda state: {"hits": ["join"]})
    g.add_edge(names, "join")
    g.add_edge("join", END)
    return await _invoke(g, saver, "parallel")


async def send_fanout(saver: AsyncSqliteSaver) -> list[str]:
    """START -> plan, which sends four ``work`` tasks (Send), -> END."""
    g = StateGraph(State)
    g.add_node("plan", lambda state: {"hits": ["plan"]})
    g.add_node("work", lambda arg: {"hits": [f"work{arg['i']}"]})
    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", lambda state: [Send("work", {"i": i}) for i in range(4)])
    g.add_edge("work", END)
    return await _invoke(g, saver, "send")


async def big_state(saver: AsyncSqliteSaver) -> list[str]:
    """One node writes a 10,000-character value."""
    g = StateGraph(State)
    g.add_node("big", lambda state: {"hits": ["x" * 10_000]})
    return await _invoke(chain(g, "big"), saver, "big")


def inner_graph() -> Any:
    inner = StateGraph(State)
    inner.add_node("inner_a", lambda state: {"hits": ["inner_a"]})
    inner.add_node("inner_b", lambda state: {"hits": ["inner_b"]})
    return chain(inner, "inner_a", "inner_b").compile()


async def subgraphs(saver: AsyncSqliteSaver) -> list[str]:
    """A compiled subgraph as a node (``sub``), and one invoked inside a node (``calls``)."""
    sub = inner_graph()
    called = inner_graph()

    async def calls(state: State) -> dict[str, Any]:
        out = await called.ainvoke({"hits": []})
        return {"hits": out["hits"]}

    g = StateGraph(State)
    g.add_node("sub", sub)
    g.add_node("calls", calls)
    return await _invoke(chain(g, "sub", "calls"), saver, "subgraphs")


async def interrupt_resume(saver: AsyncSqliteSaver) -> list[str]:
    """``ask`` interrupts; a second run resumes it with ``Command(resume=...)``."""

    def ask(state: State) -> dict[str, Any]:
        return {"hits": [str(interrupt("proceed?"))]}

    g = StateGraph(State)
    g.add_node("before", lambda state: {"hits": ["before"]})
    g.add_node("ask", ask)
    graph = chain(g, "before", "ask").compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "hitl"}}
    await graph.ainvoke({"hits": []}, config)
    await graph.ainvoke(Command(resume="yes"), config)
    return await _runs(saver, "hitl")


async def errors_retries(saver: AsyncSqliteSaver) -> list[str]:
    """``flaky`` fails twice then succeeds (retry policy); a second run's ``broken`` fails."""
    attempts = {"n": 0}

    def flaky(state: State) -> dict[str, Any]:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ConnectionError(f"flaky attempt {attempts['n']}")
        return {"hits": ["flaky"]}

    def broken(state: State) -> dict[str, Any]:
        raise RuntimeError("broken for good")

    g = StateGraph(State)
    g.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.001, jitter=False))
    runs = await _invoke(chain(g, "flaky"), saver, "retries")
    bad = StateGraph(State)
    bad.add_node("broken", broken)
    try:
        await (
            chain(bad, "broken")
            .compile(checkpointer=saver)
            .ainvoke({"hits": []}, {"configurable": {"thread_id": "broken"}})
        )
    except RuntimeError:
        pass
    else:  # pragma: no cover - the scenario's point
        raise AssertionError("the broken graph did not fail")
    return runs + await _runs(saver, "broken")


async def chat_and_tool(saver: AsyncSqliteSaver) -> list[str]:
    """A node calls a chat model (usage, cached tokens, finish reason) and a tool."""
    reply = AIMessage(
        content="four",
        id="resp-42",
        response_metadata={"model_name": "fake-model-1", "finish_reason": "stop"},
        usage_metadata={
            "input_tokens": 12,
            "output_tokens": 3,
            "total_tokens": 15,
            "input_token_details": {"cache_read": 8},
        },
    )
    model = GenericFakeChatModel(messages=iter([reply]))

    async def agent(state: State) -> dict[str, Any]:
        answer = await model.ainvoke("what is 2 + 2?")
        total = await add.ainvoke({"a": 2, "b": 2})
        return {"hits": [str(answer.content), str(total)]}

    g = StateGraph(State)
    g.add_node("agent", agent)
    return await _invoke(chain(g, "agent"), saver, "chat")


def user_spans(provider: TracerProvider) -> Scenario:
    """Nodes (one async, one sync in a thread) open their own spans with ``provider``."""
    tracer = provider.get_tracer("user-code")

    async def async_node(state: State) -> dict[str, Any]:
        with tracer.start_as_current_span("user.async"), tracer.start_as_current_span("user.deep"):
            await asyncio.sleep(0)
        return {"hits": ["async"]}

    def sync_node(state: State) -> dict[str, Any]:
        with tracer.start_as_current_span("user.sync"):
            pass
        return {"hits": ["sync"]}

    async def scenario(saver: AsyncSqliteSaver) -> list[str]:
        g = StateGraph(State)
        g.add_node("async_node", async_node)
        g.add_node("sync_node", sync_node)
        return await _invoke(chain(g, "async_node", "sync_node"), saver, "user")

    return scenario


SCENARIOS: dict[str, Scenario] = {
    "async_nodes": async_nodes,
    "sync_nodes": sync_nodes,
    "parallel": parallel,
    "send_fanout": send_fanout,
    "subgraphs": subgraphs,
    "interrupt_resume": interrupt_resume,
    "errors_retries": errors_retries,
    "chat_and_tool": chat_and_tool,
}
