"""ToolNode tools that take the store (``InjectedStore``), as in LangGraph's memory how-to.

A model's tool calls (a fixed ``AIMessage`` written by the first node) run through a
``ToolNode`` whose tools save and look up user preferences in the store; the tools' answers come
back as ``ToolMessage``s. The ``namespace`` comes from the tool's injected config.
"""

from typing import Annotated

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import InjectedStore, ToolNode
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


@tool
def save_preference(
    topic: str, choice: str, config: RunnableConfig, store: Annotated[BaseStore, InjectedStore()]
) -> str:
    """Remember the user's choice for a topic."""
    user = config["configurable"]["user"]
    store.put(("prefs", user), topic, {"choice": choice})
    return f"saved {topic}={choice}"


@tool
def lookup_preference(
    topic: str, config: RunnableConfig, store: Annotated[BaseStore, InjectedStore()]
) -> str:
    """Look up the user's choice for a topic."""
    item = store.get(("prefs", config["configurable"]["user"]), topic)
    return item.value["choice"] if item else "unknown"


def model(state: MessagesState) -> dict:
    text = state["messages"][-1].content
    topic, _, choice = text.partition("=")
    # One call per turn: a ToolNode runs a turn's calls concurrently (a save and a lookup
    # of the same key would race).
    if choice:
        calls = [{"name": "save_preference", "args": {"topic": topic, "choice": choice}}]
    else:
        calls = [{"name": "lookup_preference", "args": {"topic": topic}}]
    calls[0]["id"] = f"call-{len(state['messages'])}"
    message = AIMessage(content="", tool_calls=calls, id=f"ai-{len(state['messages'])}")
    return {"messages": [message]}


def build(checkpointer):
    g = StateGraph(MessagesState)
    g.add_node("model", model)
    g.add_node("tools", ToolNode([save_preference, lookup_preference]))
    g.add_edge(START, "model")
    g.add_edge("model", "tools")
    g.add_edge("tools", END)
    return g.compile(checkpointer=checkpointer, store=InMemoryStore())


SCENARIOS = [
    {
        "name": "save_then_lookup",
        "config": {"configurable": {"user": "ann"}},
        "calls": [
            {"input": {"messages": [("user", "drink=tea")]}},
            {"input": {"messages": [("user", "drink")]}},
            {"input": {"messages": [("user", "color")]}},
        ],
    },
]
