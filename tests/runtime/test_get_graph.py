"""``graph.get_graph()`` side by side with LangGraph's: the same graphs built with both
engines draw the same JSON (object ids aside), Mermaid and ASCII (``get_subgraphs``, which
finds the subgraphs ``xray`` draws: ``test_get_subgraphs.py``)."""

from __future__ import annotations

import dataclasses
import importlib
import operator
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel
from typing_extensions import TypedDict as TypedDictExt


class State(TypedDict):
    """Every test graph's state."""

    log: Annotated[list[str], operator.add]


def _engine(name: str) -> tuple[ModuleType, ModuleType, ModuleType]:
    graph = importlib.import_module(f"{name}.graph")
    types = importlib.import_module(f"{name}.types")
    func = importlib.import_module(f"{name}.func")
    return graph, types, func


def _node(name: str) -> Callable[[State], dict[str, Any]]:
    def node(state: State) -> dict[str, Any]:
        return {"log": [name]}

    node.__name__ = name
    return node


def linear(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_sequence([_node("one"), _node("two"), _node("three")])
    b.add_edge(g.START, "one")
    return b.compile()


def path_map(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    for n in ("a", "b", "c"):
        b.add_node(n, _node(n))
    b.add_edge(g.START, "a")
    b.add_conditional_edges("a", lambda s: "yes", {"yes": "b", "no": "c", "stop": g.END})
    b.add_edge("b", g.END)
    b.add_edge("c", "b")
    return b.compile(interrupt_before=["c"], interrupt_after=["b", "c"])


def path_list(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    for n in ("a", "b", "c"):
        b.add_node(n, _node(n))
    b.add_conditional_edges(g.START, lambda s: "a", ["a", "b"])
    b.add_edge("a", "c")
    b.add_edge("b", "c")
    return b.compile(name="listed")


def route(state: State) -> Literal["b", "c", "__end__"]:
    """A router whose return annotation names its destinations."""
    return "b"


def literal(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    for n in ("a", "b", "c"):
        b.add_node(n, _node(n), metadata={"kind": n})
    b.add_edge(g.START, "a")
    b.add_conditional_edges("a", route)
    b.add_edge("b", "a")
    b.add_edge("c", g.END)
    return b.compile()


def commands(engine: str) -> Any:
    g, t, _ = _engine(engine)

    def go(state: State) -> t.Command[Literal["left", "right"]]:  # type: ignore[name-defined]
        return t.Command(goto="left")

    def left(state: State) -> t.Command[Literal["right", "__end__"]]:  # type: ignore[name-defined]
        return t.Command(goto=g.END)

    b = g.StateGraph(State)
    b.add_node("go", go)
    b.add_node("left", left)
    b.add_node("right", _node("right"))
    b.add_edge(g.START, "go")
    return b.compile()


def join(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    for n in ("a", "b", "c", "d", "last"):
        b.add_node(n, _node(n), defer=n == "last")
    b.add_edge(g.START, "a")
    b.add_edge("a", "b")
    b.add_edge("a", "c")
    b.add_edge(["b", "c"], "d")
    b.add_edge("d", "last")
    b.add_edge("last", g.END)
    return b.compile()


def fan_out(engine: str) -> Any:
    g, t, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_node("plan", _node("plan"))
    b.add_node("work", _node("work"))
    b.add_node("sum", _node("sum"))
    b.add_edge(g.START, "plan")
    b.add_conditional_edges("plan", lambda s: [t.Send("work", s) for _ in range(2)], ["work"])
    b.add_edge("work", "sum")
    return b.compile()


def fan_out_unmapped(engine: str) -> Any:
    g, t, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_node("plan", _node("plan"))
    b.add_node("work", _node("work"))
    b.add_edge(g.START, "plan")
    b.add_conditional_edges("plan", lambda s: [t.Send("work", s)])
    b.add_edge("work", g.END)
    return b.compile()


def _inner(engine: str, *, deeper: bool) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_node("i1", _node("i1"))
    if deeper:
        deepest = g.StateGraph(State)
        deepest.add_node("z", _node("z"))
        deepest.add_edge(g.START, "z")
        b.add_node("i2", deepest.compile())
    else:
        b.add_node("i2", _node("i2"))
    b.add_edge(g.START, "i1")
    b.add_conditional_edges("i1", lambda s: "i2", ["i2", g.END])
    return b.compile()


def nested(engine: str, *, deeper: bool = True) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_node("before", _node("before"))
    b.add_node("sub", _inner(engine, deeper=deeper))
    b.add_node("after", _node("after"))
    b.add_edge(g.START, "before")
    b.add_edge("before", "sub")
    b.add_edge("sub", "after")
    return b.compile()


def entrypoint(engine: str) -> Any:
    _, _, f = _engine(engine)

    @f.entrypoint()
    def workflow(value: int) -> int:
        return value

    return workflow


GRAPHS = [linear, path_map, path_list, literal, commands, join, fan_out, fan_out_unmapped]
GRAPHS += [nested, entrypoint]
CYCLIC = {literal}


def _normal(value: Any) -> Any:
    """The JSON with the runnables' class paths left out (each engine's own)."""
    if isinstance(value, dict):
        return {
            k: "<id>" if k == "id" and isinstance(v, list) else _normal(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _drawings(make: Callable[[str], Any], **kw: Any) -> dict[str, tuple[Any, str, str]]:
    out = {}
    for engine in ("langgraph", "rewind"):
        drawn = make(engine).get_graph(**kw)
        out[engine] = (_normal(drawn.to_json()), drawn.draw_mermaid(), drawn.draw_ascii())
    return out


@pytest.mark.parametrize("make", GRAPHS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("xray", [False, True, 1])
def test_drawing_is_langgraphs(make: Callable[[str], Any], xray: bool | int) -> None:
    drawn = _drawings(make, xray=xray)
    assert drawn["rewind"][0] == drawn["langgraph"][0]
    assert drawn["rewind"][1] == drawn["langgraph"][1]
    if make in CYCLIC:  # grandalf lays a cycle out differently from one draw to the next
        assert _marks_dropped(drawn["rewind"][2]) == _marks_dropped(drawn["langgraph"][2])
    else:
        assert drawn["rewind"][2] == drawn["langgraph"][2]


def _marks_dropped(ascii: str) -> str:
    """The ASCII drawing without its edges' marks (``*`` plain, ``.`` conditional, which
    grandalf may swap on a cycle's edges; the JSON and Mermaid comparisons check them)."""
    return ascii.replace("*", "#").replace(".", "#")


async def test_aget_graph_is_get_graph() -> None:
    graph = nested("rewind")
    drawn = await graph.aget_graph(xray=True)
    assert drawn.draw_mermaid() == graph.get_graph(xray=True).draw_mermaid()


class Typed(TypedDictExt):
    """A TypedDict input (typing_extensions': pydantic's schemas need it on Python 3.11)."""

    question: str


class ExtState(TypedDictExt):
    """A TypedDict state, with optional keys."""

    log: Annotated[list[str], operator.add]
    note: NotRequired[str]


@dataclasses.dataclass
class Context:
    """A dataclass context."""

    user: str
    tries: int = 3


@dataclasses.dataclass
class DataState:
    """A dataclass state, with defaults."""

    text: str
    count: int = 0
    note: str | None = None
    items: Annotated[list[str], operator.add] = dataclasses.field(default_factory=list)


class Model(BaseModel):
    """A pydantic output."""

    answer: str = ""


def _schemas(engine: str, state: Any, **kw: Any) -> list[Any]:
    g, _, _ = _engine(engine)
    b = g.StateGraph(state, **kw)
    b.add_node("a", lambda s: {})
    b.add_edge(g.START, "a")
    graph = b.compile(name="schemas")
    compiled = b.compile()
    return [
        graph.get_input_jsonschema(),
        graph.get_output_jsonschema(),
        compiled.get_input_jsonschema(),
        compiled.get_output_jsonschema(),
        graph.get_context_jsonschema(),
    ]


@pytest.mark.parametrize(
    ("state", "kw"),
    [
        (ExtState, {}),
        (DataState, {"context_schema": Context}),
        (ExtState, {"input_schema": Typed, "output_schema": Model, "context_schema": Typed}),
        (DataState, {"output_schema": Model}),
    ],
    ids=["typeddict", "dataclass", "typed-io", "dataclass-model"],
)
def test_jsonschemas_are_langgraphs(state: Any, kw: dict[str, Any]) -> None:
    assert _schemas("rewind", state, **kw) == _schemas("langgraph", state, **kw)


def destinations(engine: str) -> Any:
    g, t, _ = _engine(engine)
    b = g.StateGraph(State)
    b.add_node("a", lambda s: t.Command(goto="b"), destinations={"b": "go b", "c": "go c"})
    b.add_node("b", _node("b"), destinations=("c", g.END))
    b.add_node("c", _node("c"))
    b.add_edge(g.START, "a")
    return b.compile(interrupt_before="*")


def program(engine: str) -> Any:
    p = importlib.import_module(f"{engine}.pregel")
    ch = importlib.import_module(f"{engine}.channels")
    first = p.NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    second = p.NodeBuilder().subscribe_only("b").do(lambda x: x + x).write_to("c", "d")
    third = p.NodeBuilder().subscribe_to("c", "d").do(lambda x: x).write_to("out")
    channels = {k: ch.EphemeralValue(str) for k in ("a", "b", "c", "d")}
    channels["out"] = ch.LastValue(str)
    return p.Pregel(
        nodes={"first": first, "second": second, "third": third},
        channels=channels,
        input_channels="a",
        output_channels="out",
    )


def sends(engine: str) -> Any:
    """A program whose writers send ``Send`` packets: a task of their node the next step, drawn
    as a conditional edge from each node of the step that sent it (one to a node the program
    lacks is dropped, with LangGraph's warning)."""
    p = importlib.import_module(f"{engine}.pregel")
    ch = importlib.import_module(f"{engine}.channels")
    t = importlib.import_module(f"{engine}.types")
    split = (
        p.NodeBuilder()
        .subscribe_only("text")
        .do(lambda x: x)
        .write_to(t.Send("worker", "a"), t.Send("worker", "b"), t.Send("nobody", 1), "log")
    )
    worker = p.NodeBuilder().do(lambda part: [part]).write_to("done")
    join = p.NodeBuilder().subscribe_only("done").do(lambda d: d).write_to("out")
    notes = p.NodeBuilder().subscribe_only("log").do(lambda d: d).write_to(t.Send("join", 2))
    return p.Pregel(
        nodes={"split": split, "worker": worker, "join": join, "notes": notes},
        channels={
            "text": ch.LastValue(str),
            "log": ch.EphemeralValue(str),
            "done": ch.Topic(str),
            "out": ch.Topic(str),
        },
        input_channels="text",
        output_channels=["done", "out"],
    )


GRAPHS += [destinations, program, sends]


def called(engine: str) -> Any:
    """A subgraph a node's function invokes (found for ``xray`` as LangGraph finds it)."""
    g, _, _ = _engine(engine)
    inner = _inner(engine, deeper=False)

    def call(state: State) -> Any:
        return inner.invoke(state)

    b = g.StateGraph(State)
    b.add_node("call", call)
    b.add_node("done", _node("done"))
    b.add_edge(g.START, "call")
    b.add_edge("call", "done")
    return b.compile()


class _ToolModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def react_agent(engine: str) -> Any:
    prebuilt = importlib.import_module(f"{engine}.prebuilt")
    model = _ToolModel(messages=iter([AIMessage("hi")]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in both
        return prebuilt.create_react_agent(model, [add])


def lambda_called(engine: str) -> Any:
    """A subgraph a node's ``RunnableLambda`` invokes (found among its ``deps``)."""
    g, _, _ = _engine(engine)
    inner = _inner(engine, deeper=False)

    def call(state: State) -> Any:
        return inner.invoke(state)

    b = g.StateGraph(State)
    b.add_node("call", RunnableLambda(call))
    b.add_edge(g.START, "call")
    return b.compile()


GRAPHS += [called, lambda_called, react_agent]
CYCLIC.add(react_agent)


def _models(graph: Any) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # config_schema is deprecated in both
        return [
            graph.get_input_schema().model_json_schema(),
            graph.get_output_schema().model_json_schema(),
            graph.input_schema.model_json_schema(),
            graph.output_schema.model_json_schema(),
            graph.get_input_jsonschema(),
            graph.get_output_jsonschema(),
            graph.get_context_jsonschema(),
            graph.config_schema().model_json_schema(),
            graph.get_config_jsonschema(),
        ]


def _typed(engine: str, **kw: Any) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(ExtState, **kw)
    b.add_node("a", lambda s: {})
    b.add_edge(g.START, "a")
    return b.compile()


def _root(engine: str) -> Any:
    g, _, _ = _engine(engine)
    b = g.StateGraph(Annotated[list[str], operator.add])
    b.add_node("a", lambda s: [])
    b.add_edge(g.START, "a")
    return b.compile()


def _functional(engine: str) -> Any:
    _, _, f = _engine(engine)

    @f.entrypoint(context_schema=Context)
    def workflow(value: int) -> int:
        return value

    return workflow


SCHEMA_GRAPHS: dict[str, Callable[[str], Any]] = {
    "typed": _typed,
    "typed-context": lambda e: _typed(e, context_schema=Context, output_schema=Model),
    "root": _root,
    "program": program,
    "entrypoint": _functional,
}


@pytest.mark.parametrize("name", list(SCHEMA_GRAPHS))
def test_schema_models_are_langgraphs(name: str) -> None:
    make = SCHEMA_GRAPHS[name]
    assert _models(make("rewind")) == _models(make("langgraph"))


def test_deprecated_config_schema_warns() -> None:
    graph = _typed("rewind", context_schema=Context)
    from rewind.warnings import LangGraphDeprecatedSinceV10

    with pytest.warns(LangGraphDeprecatedSinceV10):
        graph.get_config_jsonschema()
