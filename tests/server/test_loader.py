"""Loading graphs from ``FILE.py:ATTR`` specs and ``langgraph.json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rewind.runtime.compiled import CompiledStateGraph
from rewind.server import GraphLoadError, load_config, load_graph

SOURCE = """
from typing import TypedDict
from rewind.graph import END, START, StateGraph

class S(TypedDict):
    x: int

builder = StateGraph(S)
builder.add_node("n", lambda s: {"x": s["x"] + 1})
builder.add_edge(START, "n")
builder.add_edge("n", END)
compiled = builder.compile()

def factory():
    return builder

number = 3
"""


@pytest.fixture
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.py"
    path.write_text(SOURCE)
    return path


@pytest.mark.parametrize("attr", ["compiled", "builder", "factory"])
def test_a_spec_names_a_compiled_graph_a_builder_or_a_factory(graph_file: Path, attr: str) -> None:
    graph = load_graph(f"{graph_file}:{attr}")
    assert isinstance(graph, CompiledStateGraph)
    assert graph.invoke({"x": 1}) == {"x": 2}


def test_bad_specs_say_what_is_wrong(graph_file: Path) -> None:
    with pytest.raises(GraphLoadError, match="does not name a graph"):
        load_graph("nocolon")
    with pytest.raises(GraphLoadError, match="no file"):
        load_graph(f"{graph_file.parent}/missing.py:g")
    with pytest.raises(GraphLoadError, match="no attribute 'nope'"):
        load_graph(f"{graph_file}:nope")
    with pytest.raises(GraphLoadError, match="is a int, not a graph"):
        load_graph(f"{graph_file}:number")


def test_langgraph_json_paths_are_relative_to_the_file(graph_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    graphs = {"a": "./g.py:compiled", "b": {"path": "g.py:builder"}}
    config.write_text(json.dumps({"graphs": graphs}))
    assert sorted(load_config(config)) == ["a", "b"]
    config.write_text("{}")
    with pytest.raises(GraphLoadError, match='no "graphs"'):
        load_config(config)


def test_the_entry_point_refuses_a_bad_graph_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rewind.cli", "serve", "--db", str(tmp_path / "x.db"), "-g", "a"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "ID=FILE.py:ATTR" in result.stderr


def test_the_entry_point_serves_graphs_given_as_specs(tmp_path: Path) -> None:
    from langgraph_sdk import get_sync_client

    from tests.server.conftest import APP, start_server

    spec = f"echo={APP / 'graph.py'}:echo_graph"
    server = start_server(tmp_path / "s.db", "--graphs", spec, config=False)
    try:
        client = get_sync_client(url=server.url, api_key=None)
        assert [a["graph_id"] for a in client.assistants.search()] == ["echo"]
        assert client.runs.wait(None, "echo", input={})["messages"][0]["content"] == "echo!"
        client.close()
    finally:
        assert server.stop() == 0
