"""How graphs hand out v3 run streams: which graphs do (compiled graphs, ``@entrypoint`` s,
``Pregel``), what they warn, how a run stream stops early, and that the sync one works from code
that already runs an event loop. Sync v1/v2 event streams stay unimplemented, in both."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any, TypedDict

import pytest
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LgGraph

from rewind.graph import START, StateGraph
from tests.stream_v3.side_by_side import assert_same, run_async

BETA = "ignore::langchain_core._api.LangChainBetaWarning"


class State(TypedDict):
    x: int


def _graph(graph_cls: Any, start: str) -> Any:
    builder = graph_cls(State)
    builder.add_node("a", lambda state: {"x": state["x"] + 1})
    builder.add_edge(start, "a")
    return builder.compile()


def test_sync_v2_is_not_implemented_in_either() -> None:
    with pytest.raises(NotImplementedError, match="astream_events"):
        _graph(StateGraph, START).stream_events({"x": 0}, version="v2")
    with pytest.raises(NotImplementedError, match="astream_events"):
        _graph(LgGraph, LG_START).stream_events({"x": 0}, version="v2")


_WARNINGS_SEEN = """
import asyncio, json, sys, warnings
from typing import TypedDict
from langchain_core._api import LangChainBetaWarning
graph_module = __import__(sys.argv[1] + ".graph", fromlist=["StateGraph"])
class State(TypedDict):
    x: int
builder = graph_module.StateGraph(State)
builder.add_node("a", lambda state: {"x": state["x"] + 1})
builder.add_edge(graph_module.START, "a")
graph = builder.compile()
async def in_async() -> None:
    run = await graph.astream_events({"x": 0}, version="v3")
    assert await run.output() == {"x": 1}
seen = []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for call in ("sync", "sync", "async", "async", "sync"):
        before = len(caught)
        if call == "sync":
            assert graph.stream_events({"x": 0}, version="v3").output == {"x": 1}
        else:
            asyncio.run(in_async())
        seen.append([str(w.message) for w in caught[before:] if w.category is LangChainBetaWarning])
print(json.dumps(seen))
"""


def test_v3_warns_that_it_is_experimental_as_langgraph_does() -> None:
    """Each of LangGraph's ``@beta`` entry points warns once a process (so in a fresh one)."""
    import json
    import subprocess
    import sys

    seen = {
        engine: json.loads(
            subprocess.run(
                [sys.executable, "-c", _WARNINGS_SEEN, engine],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
        )
        for engine in ("langgraph", "rewind")
    }
    assert seen["rewind"] == seen["langgraph"]
    assert seen["rewind"][0] and all(
        "v3 streaming protocol on Pregel" in m for m in seen["rewind"][0]
    )
    assert seen["rewind"][1] == []  # the second sync call: warned already


@pytest.mark.filterwarnings(BETA)
def test_entrypoints_and_pregel_stream_v3_too() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.channels import EphemeralValue, LastValue
        from langgraph.func import entrypoint, task
        from langgraph.pregel import NodeBuilder, Pregel
        from langgraph.stream import UpdatesTransformer

        @task
        def double(x: int) -> int:
            return x * 2

        @entrypoint()
        def main(x: int) -> int:
            return int(double(x).result()) + 1

        flow = main.stream_events(3, version="v3", transformers=[UpdatesTransformer])
        flow_seen = {"updates": list(flow.updates), "output": flow.output}
        node = NodeBuilder().subscribe_only("a").do(lambda x: x + "!").write_to("b")
        app = Pregel(
            nodes={"n": node},
            channels={"a": EphemeralValue(str), "b": LastValue(str)},
            input_channels=["a"],
            output_channels=["b"],
            stream_transformers=[UpdatesTransformer],
        )
        run = app.stream_events({"a": "hi"}, version="v3")
        return {"entrypoint": flow_seen, "pregel": [list(run.updates), run.output]}

    assert_same(reader)


@pytest.mark.filterwarnings(BETA)
def test_leaving_early_stops_the_run() -> None:
    graph = _graph(StateGraph, START)
    with graph.stream_events({"x": 0}, version="v3") as run:
        first = next(iter(run.values))
    assert first == {"x": 0}
    assert run.output == {"x": 0}  # stopped: nothing more was read

    async def main() -> Any:
        async with await graph.astream_events({"x": 0}, version="v3") as arun:
            async for values in arun.values:
                return values
        return None

    assert run_async(main) == {"x": 0}


@pytest.mark.filterwarnings(BETA)
def test_the_sync_run_stream_works_inside_a_running_event_loop() -> None:
    graph = _graph(StateGraph, START)

    async def main() -> Any:
        run = graph.stream_events({"x": 0}, version="v3")
        return [list(run.values), run.output]

    assert asyncio.run(main()) == [[{"x": 0}, {"x": 1}], {"x": 1}]
