"""Generative UI, as LangGraph's how-to on UI components does it: a node pushes UI messages
(``push_ui_message``; the same id replaces, ``merge=True`` merges props) and deletes one
(``delete_ui_message``); each streams at once as a ``custom`` chunk and is written to the
``ui`` key, whose ``ui_message_reducer`` keeps them by id; the node's ``updates`` chunk lists
each write (a channel written more than once), as LangGraph's does.

START -> weather -> END
"""

from collections.abc import Sequence
from typing import Annotated, TypedDict

from langchain_core.messages import AIMessage
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.ui import (
    AnyUIMessage,
    delete_ui_message,
    push_ui_message,
    ui_message_reducer,
)


class State(TypedDict, total=False):
    messages: Annotated[Sequence, add_messages]
    ui: Annotated[Sequence[AnyUIMessage], ui_message_reducer]


def weather(state: State) -> dict:
    message = AIMessage("Here is the weather.", id="ai-weather")
    push_ui_message("weather", {"city": "sf"}, id="card", message=message)
    push_ui_message("weather", {"temp": 20}, id="card", merge=True)
    push_ui_message("spinner", {}, id="spinner")
    delete_ui_message("spinner")
    push_ui_message("toast", {"text": "streamed only"}, id="toast", state_key=None)
    return {"messages": [message]}


def forget(state: State) -> dict:
    delete_ui_message("nothing-here")
    return {}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("weather", weather)
    g.add_edge(START, "weather")
    return g.compile(checkpointer=checkpointer)


def build_bad_delete(checkpointer):
    g = StateGraph(State)
    g.add_node("forget", forget)
    g.add_edge(START, "forget")
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "push_merge_delete",
        "calls": [
            {
                "input": {"messages": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "custom", "values"]},
            }
        ],
    },
    {"name": "async", "calls": [{"input": {"messages": []}, "api": "ainvoke"}]},
    {"name": "delete_unknown", "build": "build_bad_delete", "calls": [{"input": {}}]},
]

# Under astream_events the sync node runs in LangGraph's worker thread, and where the node's
# on_chain_stream event (its return value) falls among the custom chunks of its pushes varies
# from run to run (four runs of LangGraph: after the first, second, fourth push...); rewind
# gives it when the node returns. The streams are compared exactly.
EVENTS_COMPARABLE = False
