"""Graph lifecycle callbacks (``GraphCallbackHandler``): the same program on LangGraph and on
rewind tells its handler the same pauses and resumes (status, namespace, interrupts, and which
checkpoint of the thread's history, counted from the newest)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import langgraph.callbacks
import langgraph.checkpoint.memory
import langgraph.graph
import langgraph.types
import pytest

import rewind.callbacks
import rewind.checkpoint.memory
import rewind.graph
import rewind.types


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _told(engine: str, compile_kwargs: dict[str, Any], calls: list[Any]) -> list[tuple[Any, ...]]:
    lg = engine == "langgraph"
    callbacks = langgraph.callbacks if lg else rewind.callbacks
    graph_mod = langgraph.graph if lg else rewind.graph
    types = langgraph.types if lg else rewind.types
    saver = (langgraph.checkpoint.memory if lg else rewind.checkpoint.memory).InMemorySaver()
    seen: list[tuple[Any, ...]] = []

    class Handler(callbacks.GraphCallbackHandler):  # type: ignore[name-defined,misc]
        def on_interrupt(self, event: Any) -> None:
            seen.append(("interrupt", event))

        def on_resume(self, event: Any) -> None:
            seen.append(("resume", event))

    def ask(state: State) -> dict[str, Any]:
        return {"log": [types.interrupt("sure?")]}

    g = graph_mod.StateGraph(State)
    g.add_node("a", lambda state: {"log": ["a"]})
    g.add_node("ask", ask)
    g.add_edge(graph_mod.START, "a")
    g.add_edge("a", "ask")
    graph = g.compile(checkpointer=saver, **compile_kwargs)
    config = {"configurable": {"thread_id": "t"}, "callbacks": [Handler()]}
    for make in calls:
        graph.invoke(make(types), config)
    history = [s.config["configurable"]["checkpoint_id"] for s in graph.get_state_history(config)]
    return [
        (
            kind,
            e.status,
            e.checkpoint_ns,
            history.index(e.checkpoint_id),
            [i.value for i in getattr(e, "interrupts", ())],
            e.run_id is not None,
        )
        for kind, e in seen
    ]


START_: Callable[[Any], Any] = lambda types: {"log": []}  # noqa: E731
RESUME: Callable[[Any], Any] = lambda types: types.Command(resume="yes")  # noqa: E731
CONTINUE: Callable[[Any], Any] = lambda types: None  # noqa: E731


@pytest.mark.parametrize(
    ("compile_kwargs", "calls"),
    [
        ({}, [START_, RESUME]),
        ({"interrupt_before": ["ask"]}, [START_, CONTINUE, RESUME]),
        ({"interrupt_after": ["a"]}, [START_, CONTINUE, RESUME]),
    ],
    ids=["node_interrupt", "interrupt_before", "interrupt_after"],
)
def test_handlers_are_told_what_langgraphs_are(
    compile_kwargs: dict[str, Any], calls: list[Any]
) -> None:
    reference = _told("langgraph", compile_kwargs, calls)
    assert reference  # the program pauses and resumes
    assert _told("rewind", compile_kwargs, calls) == reference
