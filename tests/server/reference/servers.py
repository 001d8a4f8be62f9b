"""The two servers side by side: LangGraph's ``langgraph dev`` (its in-memory runtime) and
``rewind serve`` over a fresh SQLite file, each serving :mod:`graphs` from a folder of its own.

LangGraph's server lives in a virtualenv of its own, made on first use and reused after
(``.venv-langgraph-api`` beside the checkout, or where ``REWIND_LANGGRAPH_API_VENV`` says).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx

from tests.server.conftest import start_server
from tests.server.reference import graphs

ROOT = Path(__file__).resolve().parents[3]
VENV = Path(os.environ.get("REWIND_LANGGRAPH_API_VENV") or ROOT / ".venv-langgraph-api")
PACKAGES = ("langgraph-cli[inmem]==0.4.40", "langgraph==1.2.22")
"""LangGraph's server as the reference (langgraph-api 0.16.7), on the LangGraph rewind's
parity tests run (and, see :func:`langgraph_command`, on this process's langchain-core)."""
STARTUP = 120.0  # seconds LangGraph's server may take to start (a deadline, not a measurement)
QUIET = {
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "NO_PROXY": "127.0.0.1,localhost",
}
"""LangGraph's server with its analytics, tracing and version check off."""
SECRETS = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_API_KEY")


@dataclass
class Running:
    """A server process, where it listens and where it logs."""

    url: str
    process: subprocess.Popen[bytes] | subprocess.Popen[str]
    log: Path

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def langgraph_command() -> Path:
    """The ``langgraph`` command, installed into :data:`VENV` first if it is not there yet.

    The virtualenv also gets the langchain-core this process runs, so that both servers
    serialise messages with the same one (its version shows in the messages' metadata)."""
    binary = VENV / "bin" / "langgraph"
    python = str(VENV / "bin" / "python")
    core = f"langchain-core=={version('langchain-core')}"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", *PACKAGES, core], check=True, timeout=780
        )
    elif installed(python, "langchain-core") != version("langchain-core"):
        subprocess.run([python, "-m", "pip", "install", "-q", core], check=True, timeout=300)
    return binary


def installed(python: str, package: str) -> str:
    """The version of ``package`` in the virtualenv of ``python``."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class App:
    """What a server serves: a graph module's source (importing rewind) and the
    ``langgraph.json`` ``graphs`` naming its graphs."""

    source: str
    graphs: dict[str, str]

    def for_langgraph(self) -> str:
        """The source importing LangGraph where it imports rewind."""
        return self.source.replace("from rewind.", "from langgraph.")


def reference_app() -> App:
    """The graphs of :mod:`graphs`."""
    return App(source=Path(graphs.__file__).read_text(), graphs=graphs.GRAPHS)


def app_folder(folder: Path, source: str, names: dict[str, str] | None = None) -> Path:
    """``folder`` with the graph module and a ``langgraph.json`` naming its graphs
    (:mod:`graphs`' by default)."""
    folder.mkdir(parents=True)
    (folder / "graphs.py").write_text(source)
    config = folder / "langgraph.json"
    names = graphs.GRAPHS if names is None else names
    config.write_text(json.dumps({"dependencies": ["."], "graphs": names}, indent=2))
    return config


def start_langgraph(
    folder: Path, app: App | None = None, env: dict[str, str] | None = None
) -> Running:
    """``langgraph dev`` on a free loopback port, run from the graphs' folder in ``folder``
    (it reads the config's paths from there), serving ``app`` (:mod:`graphs` by default)
    with ``env`` added to its environment; returns once ``/ok`` answers."""
    binary = langgraph_command()
    app = app or reference_app()
    config = app_folder(folder / "app", app.for_langgraph(), app.graphs)
    port = free_port()
    env = {**os.environ, **QUIET, **(env or {})}
    for name in SECRETS:
        env.pop(name, None)
    log = folder / "langgraph.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(binary),
                "dev",
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-browser",
                "--no-reload",
            ],
            cwd=config.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Running(url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + STARTUP
    while True:
        try:
            if httpx.get(f"{running.url}/ok", timeout=2).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"langgraph dev did not start:\n{log.read_text()}")
        time.sleep(0.2)


def start_rewind(
    folder: Path, app: App | None = None, env: dict[str, str] | None = None
) -> Running:
    """``rewind serve`` on a free loopback port over a fresh SQLite file in ``folder``,
    serving ``app`` (:mod:`graphs` by default) with ``env`` added to its environment."""
    app = app or reference_app()
    config = app_folder(folder / "app", app.source, app.graphs)
    server = start_server(folder / "rewind.db", "--config", str(config), config=False, env=env)
    return Running(url=server.url, process=server.process, log=server.db.with_suffix(".log"))


def tail(running: Running, lines: int = 40) -> str:
    """The last lines a server logged, for a failure's message."""
    if not running.log.exists():
        return ""
    return "\n".join(running.log.read_text(errors="replace").splitlines()[-lines:])
