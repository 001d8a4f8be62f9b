"""The HTTP server: LangGraph's Platform API over the log, with resumable SSE streams.

``create_app`` builds the ASGI app; ``serve`` runs it on uvicorn (the ``rewind serve`` command).
"""

from __future__ import annotations

from rewind.server.app import create_app
from rewind.server.loader import GraphLoadError, load_config, load_graph
from rewind.server.serve import serve

__all__ = ["GraphLoadError", "create_app", "load_config", "load_graph", "serve"]
