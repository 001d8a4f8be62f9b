"""A node that calls a graph whose node asks a chat model, as the streaming how-to's "stream
LLM tokens from a subgraph inside a node" does: ``await answering.ainvoke(...)`` in an async
node, ``answering.invoke`` in a sync one, and ``async for ... in answering.astream(...)``.
Streamed with ``messages``, the run's stream shows the model's tokens with the metadata of the
graph's node: the thread's id, and as ``checkpoint_ns`` the namespace of the node that called
the graph (``langgraph_checkpoint_ns`` is the full one).

answering: START -> answer (a chat model) -> END
parent:    START -> asker -> sync_asker -> streamer -> END
"""

import operator
from typing import Annotated, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph


class Question(TypedDict, total=False):
    topic: str
    answers: Annotated[list[str], operator.add]


def _model(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=text, id=f"ai-{text}")]))


def answer(state: Question) -> dict:
    reply = _model(f"all about {state['topic']}").invoke(state["topic"])
    return {"answers": [reply.content]}


def _answering():
    g = StateGraph(Question)
    g.add_node("answer", answer)
    g.add_edge(START, "answer")
    g.add_edge("answer", END)
    return g.compile()


answering = _answering()


class State(TypedDict, total=False):
    topic: str
    answers: Annotated[list[str], operator.add]


async def asker(state: State) -> dict:
    result = await answering.ainvoke({"topic": state["topic"]})
    return {"answers": result["answers"]}


def sync_asker(state: State) -> dict:
    result = answering.invoke({"topic": "sync"})
    return {"answers": result["answers"]}


async def streamer(state: State) -> dict:
    """Streams the graph's updates (the tokens still reach the run's messages stream)."""
    seen = [repr(chunk) async for chunk in answering.astream({"topic": "streamed"})]
    return {"answers": seen}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("asker", asker)
    g.add_node("sync_asker", sync_asker)
    g.add_node("streamer", streamer)
    g.add_edge(START, "asker")
    g.add_edge("asker", "sync_asker")
    g.add_edge("sync_asker", "streamer")
    g.add_edge("streamer", END)
    return g.compile(checkpointer=checkpointer)


INPUT = {"topic": "pregel", "answers": []}

SCENARIOS = [
    {"name": "invoked", "calls": [{"input": INPUT, "api": "ainvoke"}]},
    {
        "name": "messages",
        "calls": [{"input": INPUT, "api": "astream", "kwargs": {"stream_mode": "messages"}}],
    },
    # (with subgraphs=True: the every-mode pass streams every call so. Not made through
    # astream_events: LangGraph's events interleave its messages chunks as its queue is read)
]
