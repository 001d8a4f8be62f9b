"""``graph.get_subgraphs()`` side by side with LangGraph's: the same graphs built with both
engines list the same ``(namespace, subgraph)`` pairs, in the same order, for every
``namespace`` filter, with and without ``recurse``.

Each subgraph is compiled with a name of its own, so a pair is compared as its namespace and
the name of the graph found there.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableLambda


class State(TypedDict):
    """Every test graph's state."""

    log: Annotated[list[str], operator.add]


def _step(name: str) -> Callable[[State], dict[str, Any]]:
    def step(state: State) -> dict[str, Any]:
        return {"log": [name]}

    step.__name__ = name
    return step


def _graph(engine: str, name: str, nodes: dict[str, Any], **kw: Any) -> Any:
    """A chain of ``nodes`` (each a function or a graph), compiled as ``name``."""
    g = importlib.import_module(f"{engine}.graph")
    b = g.StateGraph(State)
    previous = g.START
    for node, action in nodes.items():
        b.add_node(node, action)
        b.add_edge(previous, node)
        previous = node
    return b.compile(name=name, **kw)


def tree(engine: str) -> Any:
    """Subgraphs as nodes, two levels deep, one called by a node's function, one by a
    ``RunnableLambda``'s, and one compiled with ``checkpointer=False`` (not a subgraph)."""
    deepest = _graph(engine, "deepest", {"z": _step("z")})
    inner = _graph(engine, "inner", {"i1": _step("i1"), "deep": deepest, "i2": _step("i2")})
    called = _graph(engine, "called", {"c": _step("c")})
    quiet = _graph(engine, "quiet", {"q": _step("q")}, checkpointer=False)
    chained = _graph(engine, "chained", {"s": _step("s")})

    def call(state: State) -> Any:
        return called.invoke(state)

    def chain(state: State) -> Any:
        return chained.invoke(state)

    return _graph(
        engine,
        "tree",
        {
            "before": _step("before"),
            "sub": inner,
            "call": call,
            "quiet": quiet,
            "seq": RunnableLambda(chain),
            "sub2": _graph(engine, "other", {"o": _step("o")}),
        },
    )


def program(engine: str) -> Any:
    """A low-level program whose node runs a graph."""
    p = importlib.import_module(f"{engine}.pregel")
    ch = importlib.import_module(f"{engine}.channels")
    inner = _graph(engine, "inner", {"deep": _graph(engine, "deepest", {"z": _step("z")})})
    first = p.NodeBuilder().subscribe_only("a").do(inner).write_to("b")
    second = p.NodeBuilder().subscribe_only("b").do(lambda x: x).write_to("c")
    return p.Pregel(
        nodes={"first": first, "second": second},
        channels={k: ch.LastValue(object) for k in ("a", "b", "c")},
        input_channels="a",
        output_channels="c",
    )


def entrypoint(engine: str) -> Any:
    """An entrypoint whose function invokes a graph it refers to."""
    f = importlib.import_module(f"{engine}.func")
    inner = _graph(engine, "inner", {"i1": _step("i1")})

    @f.entrypoint()
    def workflow(value: dict[str, Any]) -> Any:
        return inner.invoke(value)

    return workflow


def plain(engine: str) -> Any:
    """No subgraph at all."""
    return _graph(engine, "plain", {"a": _step("a"), "b": _step("b")})


GRAPHS = [tree, program, entrypoint, plain]
NAMESPACES = [
    None,
    "sub",
    "sub|deep",
    "sub|deep|z",
    "sub|i1",
    "call",
    "seq",
    "quiet",
    "before",
    "su",
    "sub|",
    "first",
    "first|deep",
    "workflow",
    "missing",
]


def _listed(pairs: Any) -> list[tuple[str, str]]:
    return [(name, graph.get_name()) for name, graph in pairs]


@pytest.mark.parametrize("make", GRAPHS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("recurse", [False, True])
@pytest.mark.parametrize("namespace", NAMESPACES)
def test_subgraphs_are_langgraphs(
    make: Callable[[str], Any], recurse: bool, namespace: str | None
) -> None:
    listed = {
        engine: _listed(make(engine).get_subgraphs(namespace=namespace, recurse=recurse))
        for engine in ("langgraph", "rewind")
    }
    assert listed["rewind"] == listed["langgraph"]


@pytest.mark.parametrize("make", GRAPHS, ids=lambda f: f.__name__)
async def test_aget_subgraphs_is_get_subgraphs(make: Callable[[str], Any]) -> None:
    graph = make("rewind")
    found = [(n, g) async for n, g in graph.aget_subgraphs(recurse=True)]
    assert found == list(graph.get_subgraphs(recurse=True))
    assert _listed(found) == [
        (n, g.get_name()) async for n, g in make("langgraph").aget_subgraphs(recurse=True)
    ]


def test_subgraphs_are_the_graphs_added() -> None:
    inner = _graph("rewind", "inner", {"i1": _step("i1")})
    graph = _graph("rewind", "outer", {"sub": inner})
    assert list(graph.get_subgraphs()) == [("sub", inner)]


def test_remote_graph_is_a_subgraph_not_recursed() -> None:
    """A ``RemoteGraph`` node is a subgraph (as LangGraph's, a ``PregelProtocol``); nothing
    is asked of its server."""
    from rewind.remote import RemoteGraph

    remote = RemoteGraph("agent", url="http://127.0.0.1:9")
    graph = _graph("rewind", "outer", {"remote": remote})
    assert list(graph.get_subgraphs(recurse=True)) == [("remote", remote)]
