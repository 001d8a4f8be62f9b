"""A subgraph with input and output schemas of its own, used as a node (LangGraph's how-to on
subgraphs with different state schemas): the parent sees only the subgraph's output keys, in
its updates and state, and with ``subgraphs=True`` the subgraph's own ``values`` show its
output keys only. Under ``astream_events`` LangGraph streams the subgraph node, so its output
is its last ``values`` chunk, its whole state, and so are its own streams; the parent takes
the keys of its schema from it. A node that invokes the subgraph itself gets its output keys
under ``astream_events`` too (``called``).

parent: START -> prepare -> child (subgraph) -> finish -> END
child:  START -> think -> answer -> END; state {question, notes, answer}; input {question};
        output {answer}
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class ChildIn(TypedDict):
    question: str


class ChildOut(TypedDict):
    answer: str


class ChildState(TypedDict, total=False):
    question: str
    notes: Annotated[list[str], operator.add]
    answer: str


class Parent(TypedDict, total=False):
    question: str
    answer: str
    log: Annotated[list[str], operator.add]


def think(state: ChildState) -> dict:
    return {"notes": [f"about {state['question']}"]}


def answer(state: ChildState) -> dict:
    return {"answer": f"{state['question']}: {len(state['notes'])} note(s)"}


def child():
    g = StateGraph(ChildState, input_schema=ChildIn, output_schema=ChildOut)
    g.add_node("think", think)
    g.add_node("answer", answer)
    g.add_edge(START, "think")
    g.add_edge("think", "answer")
    g.add_edge("answer", END)
    return g.compile()


def prepare(state: Parent) -> dict:
    return {"question": state["question"].strip(), "log": ["prepare"]}


def finish(state: Parent) -> dict:
    return {"log": [f"finish:{state['answer']}"]}


def build(checkpointer):
    g = StateGraph(Parent)
    g.add_node("prepare", prepare)
    g.add_node("child", child())
    g.add_node("finish", finish)
    g.add_edge(START, "prepare")
    g.add_edge("prepare", "child")
    g.add_edge("child", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)


class Called(TypedDict, total=False):
    question: str
    got: list[str]


def build_called(checkpointer):
    subgraph = child()

    def ask(state: Called) -> dict:
        return {"got": sorted(subgraph.invoke({"question": state["question"]}))}

    g = StateGraph(Called)
    g.add_node("ask", ask)
    g.add_edge(START, "ask")
    g.add_edge("ask", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "invoked", "calls": [{"input": {"question": " why? ", "log": []}}]},
    {"name": "called", "build": "build_called", "calls": [{"input": {"question": "who?"}}]},
    {
        "name": "streamed_with_subgraphs",
        "calls": [
            {
                "input": {"question": " how? ", "log": []},
                "api": "stream",
                "kwargs": {"stream_mode": ["values", "updates"], "subgraphs": True},
            }
        ],
    },
]
