"""How the page is guarded, as a local admin page is: the Host header, a session, CSRF.

* **Host.** A request for the page names this server by an IP address, ``localhost``, or a
  name the server was told to answer to: a page on another site whose name was rebound to
  127.0.0.1 (DNS rebinding) sends its own name and is refused.
* **Session.** With an API key configured, the page asks for it once and keeps a session
  cookie (HttpOnly, SameSite=Strict), which the page's requests and its SSE streams carry.
  Without one, opening the page starts a session.
* **CSRF.** A request that changes something carries the session's CSRF token in
  ``x-csrf-token`` (the page reads it from the session endpoint), and an ``Origin``, when the
  browser sends one, must be the page's own.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "UiSecurity",
    "UiGuard",
    "is_ui_path",
]

COOKIE = "rewind_ui_session"
"""The session cookie's name."""
CSRF_HEADER = "x-csrf-token"
"""The header a state-changing request carries the CSRF token in."""

_PAGE_PREFIXES = ("/ui/api/", "/ui/static/", "/ui/run/")
_OPEN = ("/ui", "/ui/", "/ui/api/session")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_ui_path(path: str) -> bool:
    """Whether ``path`` is the page's (its HTML, assets and API), which :class:`UiGuard`
    guards; ``POST /ui/{graph_id}`` (LangGraph's generative UI) is the API's, not the page's."""
    return path in ("/ui", "/ui/") or path.startswith(_PAGE_PREFIXES)


@dataclass(kw_only=True)
class UiSecurity:
    """The page's keys: the API key (if any), the secret sessions are signed with, and the
    host names the page answers to."""

    api_key: str | None = None
    """The key that signs a session in (``None``: every visitor gets a session)."""
    allowed_hosts: frozenset[str] = frozenset()
    """Host names (besides IP addresses and ``localhost``) the page answers to."""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs session ids (a fresh one per process: a restart signs everyone out)."""

    def new_session(self) -> str:
        """A signed session cookie value."""
        sid = secrets.token_urlsafe(18)
        return f"{sid}.{self._sign('session', sid)}"

    def session_of(self, value: str | None) -> str | None:
        """The session id a cookie value holds, if its signature is ours."""
        if not value or "." not in value:
            return None
        sid, _, signature = value.partition(".")
        return sid if hmac.compare_digest(signature, self._sign("session", sid)) else None

    def csrf_token(self, sid: str) -> str:
        """The CSRF token of a session."""
        return self._sign("csrf", sid)

    def key_ok(self, given: str | None) -> bool:
        """Whether ``given`` is the API key."""
        return (
            self.api_key is not None
            and given is not None
            and hmac.compare_digest(given.encode(), self.api_key.encode())
        )

    def host_ok(self, host: str | None) -> bool:
        """Whether a Host header names this server by a name the page answers to."""
        if not host:
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if name == "localhost" or name in self.allowed_hosts:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self.secret, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


class UiGuard:
    """ASGI middleware guarding the page's paths (:func:`is_ui_path`); other paths pass."""

    def __init__(self, app: ASGIApp, *, security: UiSecurity) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(HTTPConnection(scope))
        if refusal is not None:
            status, detail = refusal
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, conn: HTTPConnection) -> tuple[int, str] | None:
        security = self.security
        path, method = conn.url.path, conn.scope["method"]
        if not security.host_ok(conn.headers.get("host")):
            return 421, (
                f"Host {conn.headers.get('host')!r} is not one this page answers to: open it by "
                "its IP address or localhost (or start the server with --allowed-host NAME)"
            )
        if method not in _SAFE_METHODS:
            origin = conn.headers.get("origin")
            if origin is not None and not _same_origin(origin, conn):
                return 403, f"Origin {origin!r} may not change anything here (CSRF)"
        if path in _OPEN or path.startswith(("/ui/static/", "/ui/run/")):
            return None  # the page itself and its assets: it signs in from there
        sid = security.session_of(conn.cookies.get(COOKIE))
        if sid is None:
            return 401, "Not signed in: open /ui and sign in with the server's API key"
        if method not in _SAFE_METHODS:
            token = conn.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(token, security.csrf_token(sid)):
                return 403, f"Missing or wrong CSRF token: send the session's in {CSRF_HEADER}"
        return None


def _same_origin(origin: str, conn: HTTPConnection) -> bool:
    host = conn.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def hosts(names: Iterable[str]) -> frozenset[str]:
    """Host names as :attr:`UiSecurity.allowed_hosts` keeps them."""
    return frozenset(n.strip().lower() for n in names if n.strip())
