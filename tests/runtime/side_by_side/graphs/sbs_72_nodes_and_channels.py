"""A compiled graph's ``nodes`` and ``channels``, as users inspect them: ``list(graph.nodes)``,
``"x" in graph.nodes``, a node's triggers and the keys it reads, ``graph.channels[key]``'s
kind, the branch channel of a deferred node, a join's barrier, managed values, the keys of
input, output and node input schemas; an entrypoint's, a ``Pregel`` program's. A node
reports what it sees of its own graph.

START -> a, b (parallel) -> join(a, b) -> tail(deferred) -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.channels import EphemeralValue, LastValue
from langgraph.func import entrypoint
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.managed import RemainingSteps
from langgraph.pregel import NodeBuilder, Pregel

BUILT: dict = {}
"""The graph being run (in a dict: a node naming a compiled graph would count as running it
as a subgraph, in LangGraph's eyes)."""


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


class State(TypedDict, total=False):
    question: str
    answer: str
    log: Annotated[list[str], operator.add]
    remaining: RemainingSteps


class Private(TypedDict):
    secret: str


def _structure(graph) -> dict:
    nodes = graph.nodes
    return {
        "nodes": list(nodes),
        "has_a": "a" in nodes,
        "has_nope": "nope" in nodes,
        "triggers": {name: list(node.triggers) for name, node in nodes.items()},
        "reads": {name: node.channels for name, node in nodes.items()},
        "channels": {k: type(v).__name__ for k, v in graph.channels.items()},
        "log_operator": getattr(graph.channels.get("log"), "operator", None) is operator.add,
    }


def a(state: State) -> dict:
    return {"log": ["a"], "secret": "s"}


def b(state: Private) -> dict:
    return {"log": ["b"]}


def join(state: State) -> dict:
    return {"log": ["join"]}


def tail(state: State) -> dict:
    return {"answer": str(_structure(BUILT["graph"])), "log": ["tail"]}


def build(checkpointer):
    g = StateGraph(State, input_schema=In, output_schema=Out)
    g.add_node("a", a)
    g.add_node("b", b, input_schema=Private)
    g.add_node("join", join)
    g.add_node("tail", tail, defer=True)
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(["a", "b"], "join")
    g.add_edge("join", "tail")
    g.add_edge("tail", END)
    BUILT["graph"] = g.compile(checkpointer=checkpointer)
    return BUILT["graph"]


def chat(state: MessagesState) -> dict:
    return {"messages": [("ai", str(_structure(BUILT["graph"])))]}


def build_messages(checkpointer):
    g = StateGraph(MessagesState)
    g.add_node("chat", chat)
    g.add_edge(START, "chat")
    BUILT["graph"] = g.compile(checkpointer=checkpointer)
    return BUILT["graph"]


def build_entrypoint(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    def flow(question: str) -> str:
        return str(_structure(BUILT["graph"]))

    BUILT["graph"] = flow
    return flow


def build_program(checkpointer):
    node = NodeBuilder().subscribe_only("a").do(lambda x: str(_structure(BUILT["graph"])))
    BUILT["graph"] = Pregel(
        nodes={"report": node.write_to("b")},
        channels={"a": EphemeralValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels="b",
        checkpointer=checkpointer,
    )
    return BUILT["graph"]


SCENARIOS = [
    {"name": "state_graph", "calls": [{"input": {"question": "q"}}]},
    {"name": "messages", "build": "build_messages", "calls": [{"input": {"messages": "hi"}}]},
    {"name": "entrypoint", "build": "build_entrypoint", "calls": [{"input": "q"}]},
    {"name": "program", "build": "build_program", "calls": [{"input": {"a": "q"}}]},
]

# a and b run in parallel: LangGraph's events of their runs come in the order its threads
# finish (the graph's other comparisons are exact).
EVENTS_COMPARABLE = False
