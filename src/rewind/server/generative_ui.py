"""Generative UI: ``POST /ui/{graph_id}`` answers the HTML that loads a graph's UI components
into a page, as LangGraph's server answers it (``langgraph_api.api.ui``), for the React SDK's
``LoadExternalComponent``: a ``<link>`` per stylesheet and a ``<script>`` per script of the
graph's bundle, the script calling ``__LGUI_<graph>.render(name, "{{shadowRootId}}")`` once
loaded.

LangGraph builds the bundle from the TypeScript that ``langgraph.json``'s ``ui`` names (with
a JavaScript bundler, at ``langgraph dev`` or image build time). rewind builds nothing: ``ui``
names bundles already built. Each graph id maps to one entry or a list of them:

* a ``.js`` or ``.css`` file (relative to ``langgraph.json``);
* a folder: its ``.js`` and ``.css`` files (LangGraph's bundler's output for a graph,
  ``.langgraph_api/ui/public/<graph>/`` after a ``langgraph dev``, is such a folder);
* an ``http(s)://`` URL of a ``.js`` or ``.css`` file served elsewhere, linked as it is.

Local files are served at ``GET /generative-ui/{graph_id}/{file}`` (not under ``/ui``, which
the run page owns), without the API key: a page's ``<script>`` tag sends none. An entry that
names a source file (``.tsx``, ``.ts``, ``.jsx``...) is left out with a warning saying to
build it; one that names nothing there stops the server from starting.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from rewind.loading import GraphLoadError
from rewind.server.loader import read_config
from rewind.server.service import ApiError
from rewind.server.wire import public_url

__all__ = ["ASSETS_PATH", "UiAsset", "UiComponent", "load_ui", "router", "ui_assets"]

router = APIRouter()

logger = logging.getLogger(__name__)

ASSETS_PATH = "/generative-ui"
"""Where the bundles' local files are served (``{ASSETS_PATH}/{graph_id}/{file}``)."""

UiSpec = str | Path | Sequence[str | Path]
"""A graph's ``ui`` entry: a file, a folder or a URL, or a list of them."""

_SOURCES = frozenset({".ts", ".tsx", ".jsx", ".mts", ".cts", ".mjs", ".vue", ".svelte"})


@dataclass(frozen=True, kw_only=True)
class UiAsset:
    """One file of a graph's UI bundle."""

    name: str
    """Its file name, as served."""
    kind: Literal["js", "css"]
    """A script or a stylesheet."""
    path: Path | None = None
    """The local file (``None`` for one served elsewhere)."""
    url: str | None = None
    """Where it is served elsewhere (``None`` for a local file)."""


class UiComponent(BaseModel):
    """A UI component to load: its name, as the graph's ``push_ui_message`` gave it."""

    name: str


def load_ui(config: str | Path) -> dict[str, list[str]]:
    """The ``ui`` entries of a ``langgraph.json`` (none if it has no ``ui``), its relative
    paths made absolute."""
    path = Path(config)
    loaded = read_config(path)
    found = loaded.get("ui") if isinstance(loaded, Mapping) else None
    if found is None:
        return {}
    if not isinstance(found, Mapping):
        raise GraphLoadError(f'{path}: "ui" must map graph ids to UI bundles')
    return {
        str(graph_id): [_absolute(entry, path.parent) for entry in _entries(graph_id, spec)]
        for graph_id, spec in found.items()
    }


def _entries(graph_id: Any, spec: Any) -> list[str | Path]:
    entries = [spec] if isinstance(spec, str | Path) else spec
    if not isinstance(entries, list | tuple) or not all(isinstance(e, str | Path) for e in entries):
        raise GraphLoadError(f"ui.{graph_id}: name a file, a folder or a URL, or a list of them")
    return list(entries)


def _absolute(entry: str | Path, base: Path) -> str:
    return str(entry) if _is_url(entry) else str(base / entry)


def _is_url(entry: str | Path) -> bool:
    return isinstance(entry, str) and entry.startswith(("http://", "https://"))


def ui_assets(ui: Mapping[str, UiSpec], base: Path | None = None) -> dict[str, list[UiAsset]]:
    """Each graph's UI bundle, its files found (relative paths from ``base``, the working
    folder by default); raises :class:`~rewind.loading.GraphLoadError` for an entry that names
    nothing there."""
    base = base or Path.cwd()
    out: dict[str, list[UiAsset]] = {}
    for graph_id, spec in ui.items():
        assets: list[UiAsset] = []
        for entry in _entries(graph_id, spec):
            assets.extend(_assets(graph_id, entry, base))
        names = [a.name for a in assets if a.path is not None]
        if len(names) != len(set(names)):
            raise GraphLoadError(f"ui.{graph_id}: two files share a name: {sorted(names)}")
        if assets:
            out[graph_id] = assets
    return out


def _assets(graph_id: str, entry: str | Path, base: Path) -> list[UiAsset]:
    if _is_url(entry):
        name = urlsplit(str(entry)).path.rsplit("/", 1)[-1]
        kind = _kind(name)
        if kind is None:
            raise GraphLoadError(f"ui.{graph_id}: {entry} is no .js or .css file")
        return [UiAsset(name=name, kind=kind, url=str(entry))]
    path = base / entry
    if path.is_dir():
        found = [
            UiAsset(name=p.name, kind=kind, path=p)
            for p in sorted(path.iterdir())
            if p.is_file() and (kind := _kind(p.name)) is not None
        ]
        if not found:
            raise GraphLoadError(f"ui.{graph_id}: folder {path} holds no .js or .css file")
        return found
    if not path.is_file():
        raise GraphLoadError(f"ui.{graph_id}: {path} does not exist")
    kind = _kind(path.name)
    if kind is not None:
        return [UiAsset(name=path.name, kind=kind, path=path)]
    if path.suffix in _SOURCES:
        logger.warning(
            "ui.%s: %s is source code, which rewind does not bundle: build it into a .js "
            "bundle (and .css) and name those in langgraph.json; graph %s has no UI meanwhile",
            graph_id,
            path,
            graph_id,
        )
        return []
    raise GraphLoadError(f"ui.{graph_id}: {path} is no .js or .css file, nor a folder of them")


def _kind(name: str) -> Literal["js", "css"] | None:
    lowered = name.lower()
    return "js" if lowered.endswith(".js") else "css" if lowered.endswith(".css") else None


def _bundles(request: Request) -> Mapping[str, list[UiAsset]]:
    found: Mapping[str, list[UiAsset]] = getattr(request.app.state, "ui_assets", {})
    return found


@router.post(
    "/ui/{graph_id}",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": UiComponent.model_json_schema()}},
        }
    },
)
async def ui_component(request: Request, graph_id: str) -> Response:
    """The HTML that loads the graph's UI bundle and renders the component ``name`` into a
    shadow root."""
    try:  # (JSON whatever the content type says, as LangGraph's server reads it)
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(422, "Invalid JSON in request body") from None
    assets = _bundles(request).get(graph_id)
    if not assets:
        raise ApiError(404, f"UI not found for graph '{graph_id}'")
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise ApiError(422, "name: the component's name (a string) is required")
    global_name = re.sub(r"[^a-zA-Z0-9]", "_", graph_id)
    tags = []
    for asset in assets:
        url = asset.url or (
            f"{public_url(request)}{ASSETS_PATH}/{quote(graph_id, safe='')}/"
            f"{quote(asset.name, safe='')}"
        )
        src = html.escape(url, quote=True)
        if asset.kind == "css":
            tags.append(f'<link rel="stylesheet" href="{src}" />')
        else:
            shown = html.escape(json.dumps(name), quote=True)
            tags.append(
                f'<script src="{src}" onload=\'__LGUI_{global_name}.render({shown}, '
                f'"{{{{shadowRootId}}}}")\'></script>'
            )
    return Response("\n".join(tags), media_type="text/html")


@router.get(ASSETS_PATH + "/{graph_id}/{name}")
async def ui_asset(request: Request, graph_id: str, name: str) -> Response:
    """A local file of a graph's UI bundle."""
    for asset in _bundles(request).get(graph_id, ()):
        if asset.name == name and asset.path is not None and asset.path.is_file():
            media = "text/javascript" if asset.kind == "js" else "text/css"
            return FileResponse(asset.path, media_type=f"{media}; charset=utf-8")
    raise ApiError(404, f"No file {name!r} in the UI bundle of graph '{graph_id}'")
