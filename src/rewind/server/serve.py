"""Run the API on uvicorn: bind, print the address, shut down gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from rewind.runtime.compiled import CompiledStateGraph
from rewind.server.app import DEFAULT_MAX_BODY_BYTES, create_app
from rewind.server.generative_ui import UiSpec, load_ui
from rewind.server.heap import settle_heap
from rewind.server.loader import load_config, load_graph

__all__ = ["resolve_graphs", "serve"]


def resolve_graphs(
    graphs: Mapping[str, str | CompiledStateGraph] | None = None,
    config: str | Path | None = None,
) -> dict[str, CompiledStateGraph]:
    """The graphs to serve: those of a ``langgraph.json``, then ``graphs`` (id → spec or
    graph), which win on a shared id."""
    out: dict[str, CompiledStateGraph] = dict(load_config(config)) if config else {}
    for graph_id, graph in (graphs or {}).items():
        out[graph_id] = load_graph(graph) if isinstance(graph, str) else graph
    if not out:
        raise ValueError("no graphs given: name them with --graphs ID=FILE.py:ATTR or --config")
    return out


def serve(
    db: str | None,
    *,
    graphs: Mapping[str, str | CompiledStateGraph] | None = None,
    config: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 2024,
    api_key: str | None = None,
    cors_origins: Sequence[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log_level: str = "warning",
    out: TextIO | None = None,
    queue: bool = False,
    log_options: Any = None,
    ui: Mapping[str, UiSpec] | None = None,
    pages: Any = None,
    ready: Any = None,
    freeze_heap: bool = False,
) -> None:
    """Serve the API until SIGINT/SIGTERM (blocking).

    Args:
        db: The database (a path or URL); ``None`` for memory.
        graphs: Graph id → ``FILE.py:ATTR`` spec (or a compiled graph).
        config: A ``langgraph.json`` whose ``graphs`` are served too (and its ``ui``, their
            generative UI bundles, unless ``ui`` is given).
        host: Interface to bind (loopback by default).
        port: Port; ``0`` picks a free one. The bound address is printed.
        api_key: Required from clients on every route but ``/ok`` (``$REWIND_API_KEY`` if
            not given).
        cors_origins: Origins browsers may call from.
        max_body_bytes: Largest request body accepted.
        log_level: uvicorn's log level.
        out: Where the address line goes (stdout by default).
        queue: Only queue runs, for ``rewind worker`` processes on the same database.
        log_options: How the log behaves (``create_app``'s ``log_options``).
        ui: Graph id → its generative UI bundle (``create_app``'s ``ui``).
        pages: Pages served beside the API (``create_app``'s ``pages``).
        ready: Called with the bound address (``http://host:port``) once the socket is bound,
            instead of printing it.
        freeze_heap: Once started, leave what the process holds out of the garbage
            collector's later full collections (:func:`rewind.server.heap.settle_heap`), so
            they do not stall the streams it serves; for a process that only serves (``rewind
            serve`` sets it).
    """
    import uvicorn

    app = create_app(
        db,
        resolve_graphs(graphs, config),
        api_key=api_key,
        cors_origins=cors_origins,
        max_body_bytes=max_body_bytes,
        queue=queue,
        log_options=log_options,
        ui=ui if ui is not None else load_ui(config) if config else None,
        pages=pages,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # from now on a connection waits for the server rather than being refused
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
    address = f"http://{shown}:{bound_port}"
    if ready is not None:
        ready(address)
    else:
        print(f"rewind server listening on {address}", file=out or sys.stdout)
        (out or sys.stdout).flush()
    server = _Server(
        uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=15, lifespan="on")
    )
    server.app_ref = app
    server.freeze_heap = freeze_heap
    server.run(sockets=[sock])


class _Server:
    """uvicorn's server, that cancels the runs in flight as soon as a shutdown begins, so
    their streams end (after recording the cancellation) and connections can close."""

    def __new__(cls, config: Any) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            app_ref: Any = None
            freeze_heap = False

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                if self.freeze_heap and not self.should_exit:
                    settle_heap()

            def handle_exit(self, sig: int, frame: Any) -> None:
                service = getattr(getattr(self.app_ref, "state", None), "service", None)
                if service is not None:
                    try:
                        loop = asyncio.get_running_loop()
                    except RuntimeError:
                        loop = None
                    if loop is not None:
                        loop.create_task(service.runs.shutdown())
                super().handle_exit(sig, frame)

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                # As uvicorn's, but a graceful shutdown exits 0 instead of re-raising the signal.
                if threading.current_thread() is not threading.main_thread():
                    yield
                    return
                signals = (signal.SIGINT, signal.SIGTERM)
                original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
                try:
                    yield
                finally:
                    for sig, handler in original.items():
                        signal.signal(sig, handler)

        return Server(config)
