"""Property: for random graphs and random stream modes, the replay equals the live stream."""

from __future__ import annotations

import asyncio
import operator
import tempfile
from pathlib import Path
from typing import Annotated, Any, TypedDict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind import areplay, open_log
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph
from rewind.log.codec import encode
from rewind.types import Send

MODES = ["values", "updates", "messages", "custom", "tasks", "checkpoints", "debug", "events"]


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    count: int


def _node(name: str, *, custom: bool, chat: bool) -> Any:
    def run(state: State) -> dict[str, Any]:
        if custom:
            get_stream_writer()({"node": name})
        if chat:
            model = GenericFakeChatModel(messages=iter([AIMessage(f"{name} says hi")]))
            model.invoke("hello")
        return {"log": [name]}

    run.__name__ = name
    return run


def _subgraph() -> Any:
    g = StateGraph(State)
    g.add_node("inner", _node("inner", custom=True, chat=False))
    g.add_edge(START, "inner")
    return g.compile()


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=2, max_value=5))
    return {
        "n": n,
        "custom": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "chat": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "fan_out": draw(st.booleans()),
        "join": draw(st.booleans()),
        "loop": draw(st.integers(min_value=0, max_value=2)),
        "subgraph": draw(st.booleans()),
        "modes": draw(st.lists(st.sampled_from(MODES), min_size=1, max_size=4, unique=True)),
        "subgraphs": draw(st.booleans()),
    }


def build(spec: dict[str, Any], saver: Any) -> Any:
    g = StateGraph(State)
    names = [f"n{i}" for i in range(spec["n"])]
    for i, name in enumerate(names):
        g.add_node(name, _node(name, custom=spec["custom"][i], chat=spec["chat"][i]))
    g.add_edge(START, names[0])
    previous = names[0]
    if spec["fan_out"]:  # n0 sends to every other node at once

        def fan(state: State) -> list[Send]:
            return [Send(name, {"log": []}) for name in names[1:]]

        g.add_conditional_edges(names[0], fan, names[1:])
        if spec["join"] and len(names) > 2:
            g.add_node("join", _node("join", custom=False, chat=False))
            g.add_edge(names[1:], "join")
        return g.compile(checkpointer=saver)
    for name in names[1:]:
        g.add_edge(previous, name)
        previous = name
    if spec["subgraph"]:
        g.add_node("sub", _subgraph())
        g.add_edge(previous, "sub")
        previous = "sub"
    if spec["loop"]:
        limit = spec["loop"]

        def again(state: State) -> str:
            return names[0] if state["log"].count(names[0]) <= limit else END

        g.add_conditional_edges(previous, again, [names[0], END])
    else:
        g.add_edge(previous, END)
    return g.compile(checkpointer=saver)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=graphs())
def test_replay_of_a_random_graph_equals_its_live_stream(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.db"
        kwargs = {"stream_mode": spec["modes"], "subgraphs": spec["subgraphs"]}
        with SqliteSaver.from_conn_string(str(path)) as saver:
            live = list(
                build(spec, saver).stream(
                    {"log": []}, {"configurable": {"thread_id": "t"}}, **kwargs
                )
            )

        async def replayed() -> list[Any]:
            store = await open_log(path)
            try:
                (run,) = await store.list_runs(thread_id="t")
                return [c async for c in areplay(store, run.run_id, **kwargs)]
            finally:
                await store.aclose()

        assert [encode(c) for c in asyncio.run(replayed())] == [encode(c) for c in live]
