"""The web page that audits and replays runs, served under ``/ui`` beside the API.

``rewind ui`` opens it on 127.0.0.1; ``rewind serve`` serves it too. The page is plain HTML,
CSS and JavaScript modules shipped in this package (``static/``): no build step, nothing
fetched from a network. It reads the log through the JSON API of :mod:`.routes`, follows a live
run and the runs list over SSE (:mod:`.feed`), and forks or resumes runs through
:mod:`.actions`. :mod:`.security` guards it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from rewind.ui.security import COOKIE, UiGuard, UiSecurity, hosts, is_ui_path

__all__ = ["UiSettings", "create_ui_app", "install_ui", "ui_pages"]

STATIC = resources.files("rewind.ui") / "static"


@dataclass(frozen=True, kw_only=True)
class UiSettings:
    """What the page is configured with."""

    trace_url: str | None = None
    """A link to a run's trace in a tracing backend, ``{trace_id}`` standing for its id."""
    redaction: str | None = None
    """The name of the log's redaction hook, if any (the page applies the hook itself to every
    payload it shows, and the runs it starts are recorded through it)."""
    hide_content: bool = False
    """Show message texts, tokens and tool arguments as ``[redacted]`` (structure kept)."""
    graph_names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Graph id per name its runs record (a graph recorded outside the server keeps its
    own name; the server names it by its id)."""


class SignIn(BaseModel):
    """The API key, given once to start a session."""

    api_key: str


def ui_pages(
    *,
    allowed_hosts: Iterable[str] = (),
    trace_url: str | None = None,
    graphs: Mapping[str, Any] | None = None,
    redaction: str | None = None,
    hide_content: bool = False,
) -> Callable[[FastAPI, str | None], Callable[[str], bool]]:
    """The ``pages`` argument of :func:`rewind.server.create_app` that serves the page
    (``graphs``: the compiled graphs served, id → graph, whose own names runs recorded
    elsewhere carry; ``hide_content``: see :attr:`UiSettings.hide_content`)."""
    chosen = tuple(allowed_hosts)
    names = {str(g.name): gid for gid, g in (graphs or {}).items() if getattr(g, "name", None)}

    def pages(app: FastAPI, api_key: str | None) -> Callable[[str], bool]:
        install_ui(
            app,
            api_key=api_key,
            allowed_hosts=chosen,
            trace_url=trace_url,
            graph_names=names,
            redaction=redaction,
            hide_content=hide_content,
        )
        return is_ui_path

    return pages


def create_ui_app(
    db: Any,
    graphs: Mapping[str, Any],
    *,
    allowed_hosts: Iterable[str] = (),
    trace_url: str | None = None,
    hide_content: bool = False,
    **options: Any,
) -> FastAPI:
    """The API app (:func:`rewind.server.create_app`) with the page under ``/ui``."""
    from rewind.server import create_app

    pages = ui_pages(
        allowed_hosts=allowed_hosts, trace_url=trace_url, graphs=graphs, hide_content=hide_content
    )
    return create_app(db, graphs, pages=pages, **options)


def install_ui(
    app: FastAPI,
    *,
    api_key: str | None,
    allowed_hosts: Iterable[str] = (),
    trace_url: str | None = None,
    graph_names: Mapping[str, str] | None = None,
    redaction: str | None = None,
    hide_content: bool = False,
) -> None:
    """Serve the page and its API under ``/ui`` in ``app`` (the API app, whose ``service``
    it reads the log and starts runs through)."""
    from rewind.ui.actions import router as actions_router
    from rewind.ui.feed import router as feed_router
    from rewind.ui.routes import router as api_router

    security = UiSecurity(api_key=api_key or None, allowed_hosts=hosts(allowed_hosts))
    app.state.ui = UiSettings(
        trace_url=trace_url,
        redaction=redaction,
        hide_content=hide_content,
        graph_names=dict(graph_names or {}),
    )
    app.state.ui_security = security
    app.include_router(feed_router)  # (before /runs/{run_id})
    app.include_router(api_router)
    app.include_router(actions_router)
    _pages(app, security)
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="ui-static")
    app.add_middleware(UiGuard, security=security)


def _pages(app: FastAPI, security: UiSecurity) -> None:
    index = str(STATIC / "index.html")

    async def page() -> Response:
        return FileResponse(index, headers=_PAGE_HEADERS)

    for path in ("/ui", "/ui/"):
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/ui/run/{run_id}", page, methods=["GET"], include_in_schema=False)

    async def session(request: Request) -> Response:
        """Whether the page is signed in, and its CSRF token (a session starts here when no
        API key is configured)."""
        sid = security.session_of(request.cookies.get(COOKIE))
        if sid is not None:
            return JSONResponse({"signed_in": True, "csrf": security.csrf_token(sid)})
        if security.api_key is not None:
            return JSONResponse({"signed_in": False, "needs_key": True})
        return _signed_in(security)

    async def sign_in(body: SignIn) -> Response:
        """Start a session with the API key."""
        if not security.key_ok(body.api_key):
            return JSONResponse({"detail": "Wrong API key"}, status_code=401)
        return _signed_in(security)

    app.add_api_route("/ui/api/session", session, methods=["GET"], include_in_schema=False)
    app.add_api_route("/ui/api/session", sign_in, methods=["POST"], include_in_schema=False)


def _signed_in(security: UiSecurity) -> Response:
    cookie = security.new_session()
    sid = security.session_of(cookie)
    assert sid is not None
    response = JSONResponse({"signed_in": True, "csrf": security.csrf_token(sid)})
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", path="/ui")
    return response


_PAGE_HEADERS: dict[str, Any] = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
