"""Runs that hold a person's e-mail address in every kind of event, recorded for the redaction
tests: a tool-calling chat agent (streamed tokens, tool calls), and a graph with a subgraph,
custom writes and events, a retried failure and an interrupt answered by a second run."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.callbacks import adispatch_custom_event
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind.cli.demo import build as build_agent
from rewind.cli.target import bind
from rewind.config import get_stream_writer
from rewind.graph import END, START, MessagesState, StateGraph
from rewind.log import EventLog
from rewind.types import Command, RetryPolicy, interrupt

EMAIL = "ann@example.com"
"""The value the tests erase."""
AGENT, FLOW = "agent-thread", "flow-thread"
"""The threads the two graphs run on."""
MODES = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug"]
"""Every stream mode but ``events`` (replayed apart)."""


class Flow(MessagesState):
    contact: str
    notes: Annotated[list[str], operator.add]


def build_flow(reply: str = f"Writing to {EMAIL} now") -> Any:
    """The graph of :data:`FLOW`: prepare, a subgraph that streams a model's ``reply``, a
    node that fails once (its error names the contact) and a question to the user."""
    model = GenericFakeChatModel(messages=iter([AIMessage(reply)] * 20))

    async def think(state: Flow) -> dict[str, Any]:
        get_stream_writer()({"progress": f"thinking about {state['contact']}"})
        await adispatch_custom_event("looked_up", {"who": state["contact"]})
        reply = await model.ainvoke(state["messages"])
        return {"messages": [reply], "notes": [f"wrote to {state['contact']}"]}

    inner = StateGraph(Flow)
    inner.add_node("think", think)
    inner.add_edge(START, "think")
    inner.add_edge("think", END)

    def prepare(state: Flow) -> dict[str, Any]:
        get_stream_writer()({"contact": state["contact"]})
        return {"notes": [f"contact {state['contact']}"]}

    failures: list[str] = []

    def flaky(state: Flow) -> dict[str, Any]:
        if not failures:
            failures.append("once")
            raise ConnectionError(f"mail server refused {state['contact']}")
        return {"notes": ["sent"]}

    def ask(state: Flow) -> dict[str, Any]:
        answer = interrupt({"question": f"send the copy to {state['contact']}?"})
        return {"notes": [f"answer: {answer}"]}

    outer = StateGraph(Flow)
    outer.add_node("prepare", prepare)
    outer.add_node("inner", inner.compile())
    outer.add_node("flaky", flaky, retry_policy=RetryPolicy(max_attempts=2, initial_interval=0))
    outer.add_node("ask", ask)
    outer.add_edge(START, "prepare")
    outer.add_edge("prepare", "inner")
    outer.add_edge("inner", "flaky")
    outer.add_edge("flaky", "ask")
    outer.add_edge("ask", END)
    return outer.compile(name="flow")


async def record_runs(log: EventLog) -> None:
    """Record the agent's run and the flow's two runs (asked, then answered) in ``log``."""
    agent = bind(build_agent(), log)
    question = f"I am {EMAIL}. What's the weather in Paris, and what is 17 times 23?"
    config = {"configurable": {"thread_id": AGENT}}
    async for _ in agent.astream(
        {"messages": [{"role": "user", "content": question}]}, config, stream_mode="messages"
    ):
        pass
    flow = bind(build_flow(), log)
    config = {"configurable": {"thread_id": FLOW}}
    start = {"messages": [("user", f"mail {EMAIL}")], "contact": EMAIL}
    async for _ in flow.astream(start, config, stream_mode=["messages", "custom"]):
        pass
    async for _ in flow.astream(Command(resume=f"yes, to {EMAIL}"), config, stream_mode="values"):
        pass
    await log.flush()
