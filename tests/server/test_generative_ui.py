"""Generative UI: ``POST /ui/{graph_id}`` answers the HTML that loads a graph's prebuilt UI
bundle (named by ``langgraph.json``'s ``ui``), as LangGraph's server answers it; the bundle's
files are served beside, without the API key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from rewind.loading import GraphLoadError
from rewind.server.generative_ui import load_ui, ui_assets
from tests.server.conftest import start_server
from tests.server.protocols import serving

CDN = "https://cdn.example.com/ui/widgets.js"


def bundle(folder: Path) -> Path:
    """A prebuilt bundle: a script and a stylesheet in ``folder/dist``."""
    dist = folder / "dist"
    dist.mkdir(parents=True)
    (dist / "index.js").write_text("window.__LGUI_chat = {render() {}};")
    (dist / "style.css").write_text("div { color: red }")
    (dist / "README.md").write_text("not served")
    return dist


async def test_a_component_loads_the_graphs_bundle(tmp_path: Path) -> None:
    dist = bundle(tmp_path)
    ui = {"chat": str(dist), "ask": [str(dist / "index.js"), CDN]}
    async with serving(tmp_path, ui=ui) as http:
        answer = await http.post("/ui/chat", json={"name": 'card "big"'})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.text.splitlines() == [
            '<script src="http://app/generative-ui/chat/index.js" onload=\'__LGUI_chat.render('
            '&quot;card \\&quot;big\\&quot;&quot;, "{{shadowRootId}}")\'></script>',
            '<link rel="stylesheet" href="http://app/generative-ui/chat/style.css" />',
        ]
        script = await http.get("/generative-ui/chat/index.js")
        assert script.status_code == 200 and script.text.startswith("window.__LGUI_chat")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await http.get("/generative-ui/chat/style.css")).text == "div { color: red }"
        listed = (await http.post("/ui/ask", json={"name": "card"})).text.splitlines()
        assert listed[0].startswith('<script src="http://app/generative-ui/ask/index.js"')
        assert listed[1].startswith(f'<script src="{CDN}" onload=\'__LGUI_ask.render(')


async def test_unknown_graphs_files_and_bodies_are_refused(tmp_path: Path) -> None:
    dist = bundle(tmp_path)
    async with serving(tmp_path, ui={"chat": str(dist)}) as http:
        missing = await http.post("/ui/ask", json={"name": "card"})
        assert missing.status_code == 404
        assert missing.json() == {"detail": "UI not found for graph 'ask'"}
        for path in ("/generative-ui/chat/README.md", "/generative-ui/ask/index.js"):
            assert (await http.get(path)).status_code == 404
        bad = await http.post("/ui/chat", content=b"{nope")
        assert (bad.status_code, bad.json()) == (422, {"detail": "Invalid JSON in request body"})
        nameless = await http.post("/ui/chat", json={})
        assert nameless.status_code == 422 and "name" in nameless.json()["detail"]


async def test_a_graph_id_is_made_a_javascript_name_and_quoted_in_urls(tmp_path: Path) -> None:
    dist = bundle(tmp_path)
    async with serving(tmp_path, ui={"my graph-1": str(dist / "index.js")}) as http:
        answer = await http.post("/ui/my graph-1", json={"name": "c"})
        assert 'src="http://app/generative-ui/my%20graph-1/index.js"' in answer.text
        assert "__LGUI_my_graph_1.render(" in answer.text
        assert (await http.get("/generative-ui/my graph-1/index.js")).status_code == 200


async def test_bundles_are_open_the_component_route_is_not(tmp_path: Path) -> None:
    dist = bundle(tmp_path)
    async with serving(tmp_path, ui={"chat": str(dist)}, api_key="s3cret") as http:
        assert (await http.post("/ui/chat", json={"name": "c"})).status_code == 401
        keyed = await http.post("/ui/chat", json={"name": "c"}, headers={"x-api-key": "s3cret"})
        assert keyed.status_code == 200
        assert (await http.get("/generative-ui/chat/index.js")).status_code == 200


def test_langgraph_json_names_the_bundles(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dist = bundle(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ui.tsx").write_text("export default {};")
    config = tmp_path / "langgraph.json"
    ui = {"chat": "./dist", "ask": ["./dist/index.js", CDN], "tokens": "./src/ui.tsx"}
    config.write_text(json.dumps({"graphs": {}, "ui": ui}))
    loaded = load_ui(config)
    assert loaded["chat"] == [str(tmp_path / "dist")]
    with caplog.at_level(logging.WARNING):
        assets = ui_assets(loaded)
    assert [(a.name, a.kind) for a in assets["chat"]] == [("index.js", "js"), ("style.css", "css")]
    assert assets["ask"][0].path == dist / "index.js" and assets["ask"][1].url == CDN
    assert "tokens" not in assets  # source code: rewind bundles nothing
    assert "rewind does not bundle" in caplog.text
    for wrong in ({"chat": "./nothing.js"}, {"chat": "./src"}, {"chat": 5}, {"chat": CDN + ".map"}):
        config.write_text(json.dumps({"graphs": {}, "ui": wrong}))
        with pytest.raises(GraphLoadError):
            ui_assets(load_ui(config))
    config.write_text(json.dumps({"graphs": {}}))
    assert load_ui(config) == {}


def test_rewind_serve_serves_the_bundles_langgraph_json_names(tmp_path: Path) -> None:
    bundle(tmp_path)
    app = Path(__file__).parent / "app"
    config = tmp_path / "langgraph.json"
    graphs = {"echo": str(app / "graph.py") + ":echo_graph"}
    config.write_text(json.dumps({"graphs": graphs, "ui": {"echo": "./dist/index.js"}}))
    server = start_server(tmp_path / "ui.db", "--config", str(config), config=False)
    try:
        answer = httpx.post(f"{server.url}/ui/echo", json={"name": "card"})
        assert answer.status_code == 200 and "/generative-ui/echo/index.js" in answer.text
        assert httpx.get(f"{server.url}/generative-ui/echo/index.js").status_code == 200
    finally:
        server.stop()
