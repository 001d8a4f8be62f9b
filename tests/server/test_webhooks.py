"""Webhooks: a run's end POSTed to a real HTTP receiver on loopback, signed, retried against a
receiver that fails first, refused for private addresses; from a ``rewind serve`` process,
through the official SDK (a ``rewind worker``'s: ``test_run_options.py``)."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from rewind.server.webhooks import WebhookPolicy, Webhooks
from tests.server.conftest import APP, Server, start_server

SECRET = "webhook-secret-of-the-tests"
ALLOWING = {"REWIND_WEBHOOK_ALLOW_PRIVATE": "1", "REWIND_WEBHOOK_SECRET": SECRET}
"""A server whose webhooks may reach the tests' own loopback receiver, signed."""
MESSAGE = {"messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Delivery:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A real HTTP server on loopback that records what it is POSTed; it answers the first
    ``fail_first`` requests with ``status``, then 200."""

    def __init__(self, *, fail_first: int = 0, status: int = 503) -> None:
        self.received: list[Delivery] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._changed:
                    receiver.received.append(
                        Delivery(dict(self.headers.items()), body, time.monotonic())
                    )
                    failing = len(receiver.received) <= fail_first
                    receiver._changed.notify_all()
                self.send_response(status if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, within: float = 20.0) -> list[Delivery]:
        """The first ``count`` deliveries, once they came."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, within):
                raise AssertionError(f"{len(self.received)} webhook(s) came, not {count}")
            return list(self.received[:count])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture(scope="module")
def hook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(tmp_path_factory.mktemp("webhooks") / "rewind.db", env=ALLOWING)
    yield started
    started.stop()


def verified(delivery: Delivery) -> dict[str, Any]:
    """The delivery's JSON, once its signature is checked as the README tells receivers to."""
    timestamp = delivery.headers["X-Rewind-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + delivery.body, "sha256")
    assert hmac.compare_digest(
        delivery.headers["X-Rewind-Signature"], f"sha256={expected.hexdigest()}"
    )
    assert abs(time.time() - int(timestamp)) < 60
    body: dict[str, Any] = delivery.json()
    return body


async def test_a_run_s_end_is_posted_to_its_webhook_signed(
    hook_server: Server, receiver: Receiver, connect: Callable[[str], Any]
) -> None:
    client = connect(hook_server.url)
    thread = await client.threads.create()
    output = await client.runs.wait(
        thread["thread_id"], "echo", input=MESSAGE, webhook=receiver.url, metadata={"n": 1}
    )
    (delivery,) = await asyncio.to_thread(receiver.wait_for, 1)
    body = verified(delivery)
    assert delivery.headers["Content-Type"] == "application/json"
    assert body["thread_id"] == thread["thread_id"]
    assert body["status"] == "success"
    assert body["values"] == output
    assert body["values"]["messages"][-1]["content"] == "echo!"
    assert body["metadata"]["n"] == 1
    assert body["kwargs"]["webhook"] == receiver.url
    assert "error" not in body
    run = await client.runs.get(thread["thread_id"], body["run_id"])
    assert {k: body[k] for k in ("run_id", "assistant_id", "created_at")} == {
        k: run[k] for k in ("run_id", "assistant_id", "created_at")
    }
    moments = [datetime.fromisoformat(body[k]) for k in ("run_started_at", "run_ended_at")]
    assert moments[0] <= moments[1] <= datetime.fromisoformat(body["webhook_sent_at"])


async def test_a_failed_run_s_webhook_carries_its_error(
    hook_server: Server, receiver: Receiver, connect: Callable[[str], Any]
) -> None:
    client = connect(hook_server.url)
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"], "boom", input={"x": 1}, webhook=receiver.url
    )
    await client.runs.join(thread["thread_id"], run["run_id"])
    (delivery,) = await asyncio.to_thread(receiver.wait_for, 1)
    body = verified(delivery)
    assert body["run_id"] == run["run_id"]
    assert body["status"] == "error"
    assert body["error"] == {"error": "ValueError", "message": "kaboom"}


async def test_a_receiver_that_fails_first_gets_it_on_a_retry(
    hook_server: Server, connect: Callable[[str], Any]
) -> None:
    receiver = Receiver(fail_first=2, status=503)
    try:
        client = connect(hook_server.url)
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "echo", input=MESSAGE, webhook=receiver.url)
        deliveries = await asyncio.to_thread(receiver.wait_for, 3)
        await asyncio.sleep(1.0)  # accepted on the third: no fourth
        assert len(receiver.received) == 3
    finally:
        receiver.close()
    bodies = [verified(d) for d in deliveries]
    assert len({b["run_id"] for b in bodies}) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(deliveries)]
    assert gaps[0] >= 0.35 and gaps[1] >= 0.75  # backoff 0.5 s then 1 s, jitter ±20 %


async def test_private_addresses_are_refused_at_run_creation(
    server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(server.url)
    thread = await client.threads.create()
    refused = {
        "http://127.0.0.1:9/hook": "loopback",
        "http://localhost:9/hook": "loopback",
        "http://[::1]:9/hook": "loopback",
        "http://[::ffff:127.0.0.1]:9/hook": "loopback",
        "http://10.1.2.3/hook": "private",
        "http://192.168.0.7/hook": "private",
        "http://169.254.169.254/latest/meta-data": "link-local",
        "ftp://example.com/hook": "http or https",
        "/threads": "absolute",
    }
    for url, reason in refused.items():
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.create(thread["thread_id"], "echo", input=MESSAGE, webhook=url)
        assert caught.value.response.status_code == 422, url
        assert reason in caught.value.response.json()["detail"], url
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await client.runs.wait(None, "echo", input=MESSAGE, webhook="http://10.0.0.1/")
    assert caught.value.response.status_code == 422
    assert await client.runs.list(thread["thread_id"]) == []  # refused before anything began


async def test_link_local_stays_refused_when_private_addresses_are_allowed(
    hook_server: Server, connect: Callable[[str], Any]
) -> None:
    client = connect(hook_server.url)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await client.runs.wait(None, "echo", input=MESSAGE, webhook="http://169.254.169.254/")
    assert caught.value.response.status_code == 422
    assert "link-local" in caught.value.response.json()["detail"]


# --- the sender on its own ------------------------------------------------------------------


async def test_a_delivery_that_keeps_failing_stops_after_its_attempts_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = Receiver(fail_first=100, status=500)
    hooks = Webhooks(WebhookPolicy(allow_private=True), attempts=3, backoff=0.01)
    try:
        with caplog.at_level(logging.ERROR, logger="rewind.server.webhooks"):
            assert await hooks.deliver(receiver.url, {"run_id": "r-1"}) is False
    finally:
        receiver.close()
    assert len(receiver.received) == 3
    assert "webhook for run r-1" in caplog.text and "failed after 3 attempt(s)" in caplog.text
    assert "answered 500" in caplog.text


async def test_a_client_error_is_not_retried_and_the_deadline_bounds_retries() -> None:
    refusing = Receiver(fail_first=100, status=400)
    failing = Receiver(fail_first=100, status=503)
    try:
        hooks = Webhooks(WebhookPolicy(allow_private=True), attempts=3, backoff=0.01)
        assert await hooks.deliver(refusing.url, {"run_id": "r-2"}) is False
        bounded = Webhooks(
            WebhookPolicy(allow_private=True), attempts=10, backoff=0.2, deadline=0.5
        )
        started = time.monotonic()
        assert await bounded.deliver(failing.url, {"run_id": "r-3"}) is False
        assert time.monotonic() - started < 1.5
    finally:
        refusing.close()
        failing.close()
    assert len(refusing.received) == 1
    assert len(failing.received) == 2  # 0.2 s, then 0.4 s more would pass the 0.5 s deadline


async def test_a_refused_connection_is_retried_then_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once this block ends: nothing listens there
    hooks = Webhooks(WebhookPolicy(allow_private=True), attempts=2, backoff=0.01)
    with caplog.at_level(logging.ERROR, logger="rewind.server.webhooks"):
        assert await hooks.deliver(f"http://127.0.0.1:{port}/", {"run_id": "r-4"}) is False
    assert "failed after 2 attempt(s)" in caplog.text


async def test_the_allow_list_names_hosts_and_networks() -> None:
    policy = WebhookPolicy.from_env({"REWIND_WEBHOOK_ALLOW_HOSTS": "localhost, 10.9.0.0/16"})
    hooks = Webhooks(policy)
    assert (await hooks.check("http://localhost:8000/x")).address == "127.0.0.1"
    assert (await hooks.check("http://10.9.8.7/x")).address == "10.9.8.7"
    for url in ("http://127.0.0.1/x", "http://10.8.0.1/x"):
        with pytest.raises(ValueError, match="Webhook host blocked"):
            await hooks.check(url)


# --- with --queue ----------------------------------------------------------------------------


class Worker:
    """A ``rewind worker`` process on ``db`` (a file or a URL), its output in ``out``."""

    def __init__(self, db: str | Path, env: dict[str, str], out: Path) -> None:
        self.out = out
        with out.open("w") as fh:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rewind.cli",
                    "worker",
                    "--db",
                    str(db),
                    "--config",
                    str(APP / "langgraph.json"),
                    "--poll",
                    "0.1",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, **env},
            )
        deadline = time.monotonic() + 30
        while "working on" not in out.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the worker did not start: {out.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (it drains), then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
