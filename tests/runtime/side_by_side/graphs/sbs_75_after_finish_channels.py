"""The channels that hold more than they show, as state keys: ``LastValueAfterFinish`` (a
value written shows once the run is about to finish: no node but deferred ones would run
next), ``NamedBarrierValue`` (``None`` once every name was written) and
``NamedBarrierValueAfterFinish`` (that, once the run is finishing). Nodes report what they
see; a second run on the thread, an interrupt in between (what they hold survives the
checkpoint), a deferred node, a last step that writes nothing (no ``values`` for what the
finish made readable, and the output lacks it), and a name a barrier does not wait for.

START -> a -> b -> c -> END          (a and b write their names to the barriers)
"""

import operator
from typing import Annotated, Any, TypedDict

from langgraph.channels import LastValueAfterFinish, NamedBarrierValue, NamedBarrierValueAfterFinish
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    late: Annotated[str, LastValueAfterFinish]
    both: Annotated[Any, NamedBarrierValue(str, {"a", "b"})]
    both_late: Annotated[Any, NamedBarrierValueAfterFinish(str, {"a", "b"})]
    ask: bool


def _seen(state: State) -> str:
    return ",".join(f"{k}={state[k]}" for k in ("late", "both", "both_late") if k in state)


def a(state: State) -> dict:
    return {"log": [f"a saw {_seen(state)}"], "late": "from a", "both": "a", "both_late": "a"}


def b(state: State) -> dict:
    if state.get("ask"):
        interrupt("go on?")
    return {"log": [f"b saw {_seen(state)}"], "both": "b", "both_late": "b"}


def c(state: State) -> dict:
    return {"log": [f"c saw {_seen(state)}"]}


def d(state: State) -> dict:
    return {"log": [f"d saw {_seen(state)}"], "late": "from d"}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("c", c)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile(checkpointer=checkpointer)


def build_deferred(checkpointer):  # d runs once a, b and c are done: it sees them finished
    g = StateGraph(State)
    for name, node in (("a", a), ("b", b), ("c", c)):
        g.add_node(name, node)
    g.add_node("d", d, defer=True)
    g.add_edge(START, "a")
    g.add_edge(START, "d")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    return g.compile(checkpointer=checkpointer)


def quiet(state: State) -> None:
    return None


def build_quiet(checkpointer):  # the last step writes nothing: no values for what finished
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("quiet", quiet)
    g.add_edge(START, "a")
    g.add_edge("a", "quiet")
    return g.compile(checkpointer=checkpointer)


def stranger(state: State) -> dict:
    return {"both": "z"}


def build_stranger(checkpointer):
    g = StateGraph(State)
    g.add_node("stranger", stranger)
    g.add_edge(START, "stranger")
    return g.compile(checkpointer=checkpointer)


_MODES = ["values", "updates", "checkpoints"]

SCENARIOS = [
    {
        "name": "one_run",
        "calls": [
            {"input": {"log": []}},
            {"input": {"log": ["again"]}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {
        "name": "interrupted",
        "calls": [
            {"input": {"log": [], "ask": True}},
            {"input": Command(resume="yes"), "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {
        "name": "input_writes_them",
        "calls": [{"input": {"late": "in", "both": "a"}, "api": "stream"}],
    },
    {"name": "deferred", "build": "build_deferred", "calls": [{"input": {"log": []}}]},
    {
        "name": "quiet_last_step",
        "build": "build_quiet",
        "calls": [
            {"input": {"log": []}},
            {"input": {"log": ["again"]}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {"name": "a_stranger", "build": "build_stranger", "calls": [{"input": {"log": []}}]},
]
