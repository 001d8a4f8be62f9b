"""A real ``rewind serve`` on a random loopback port, for the SDK to talk to."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

APP = Path(__file__).parent / "app"


@dataclass
class Server:
    """A server process and where it listens."""

    url: str
    db: Path
    process: subprocess.Popen[str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Stop the process; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(
    db: Path, *extra: str, env: dict[str, str] | None = None, config: bool = True
) -> Server:
    """Start a server on a free loopback port; returns once ``/ok`` answers."""
    log = db.with_suffix(".log")
    out = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rewind.cli",  # the ``rewind`` console script
            "serve",
            "--db",
            str(db),
            *(["--config", str(APP / "langgraph.json")] if config else []),
            "--port",
            "0",
            *extra,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "LANGGRAPH_API_KEY": "", **(env or {})},
    )
    out.close()
    deadline = time.monotonic() + 20
    match = None
    while match is None:
        match = re.search(r"http://[\d.]+:\d+", log.read_text())
        if match is None and (process.poll() is not None or time.monotonic() > deadline):
            process.kill()
            process.wait()
            raise RuntimeError(f"the server did not start: {log.read_text()}")
        time.sleep(0.02)
    server = Server(url=match.group(0), db=db, process=process)
    while True:
        try:
            if httpx.get(f"{server.url}/ok", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop(signal.SIGKILL)
            raise RuntimeError("the server never answered /ok")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the session's SDK tests."""
    db = tmp_path_factory.mktemp("server") / "rewind.db"
    started = start_server(db)
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _no_sdk_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def client(server: Server) -> AsyncIterator[Any]:
    """The official SDK's async client of the module's ``server``."""
    client = get_client(url=server.url, api_key=None)
    yield client
    await client.aclose()


@pytest.fixture
def sync_client(server: Server) -> Iterator[Any]:
    """The official SDK's sync client of the module's ``server``."""
    client = get_sync_client(url=server.url, api_key=None)
    yield client
    client.close()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[[str], Any]]:
    """Official SDK clients on a server's URL, closed when the test ends."""
    made: list[Any] = []

    def connect(url: str) -> Any:
        made.append(get_client(url=url, api_key=None))
        return made[-1]

    yield connect
    for client in made:
        await client.aclose()
