"""Webhooks: when a run with a ``webhook`` ends, its JSON is POSTed to that URL.

The body is what LangGraph's server sends: the run (as ``GET .../runs/{run_id}`` shows it) with
its final ``status``, ``run_started_at``, ``run_ended_at``, ``webhook_sent_at``, the thread's
``values`` at the end, and ``error`` when it failed.

* **Signed** when ``REWIND_WEBHOOK_SECRET`` is set: ``X-Rewind-Timestamp`` carries the Unix
  time of the delivery and ``X-Rewind-Signature`` is ``sha256=`` followed by the hex
  HMAC-SHA256, keyed with the secret, of ``"{timestamp}." + body`` (the raw bytes received). A
  receiver recomputes it, compares with :func:`hmac.compare_digest`, and refuses old timestamps
  (replays).
* **Retried** with exponential backoff (0.5 s, 1 s, 2 s, with jitter) on a connection error, a
  timeout, a 429 or a 5xx: at most :data:`ATTEMPTS` attempts within :data:`DEADLINE` seconds,
  then the failure is logged. Redirects are not followed. A delivery never holds up its run nor
  any response: it is a background task.
* **Addresses**: the URL's host is resolved and *every* address it resolves to is checked;
  loopback, private (RFC 1918, unique local, shared 100.64/10), link-local and other
  non-public addresses are refused, at run creation (a 422 naming the reason) and again before
  each attempt, which then connects to the very address it checked (no second lookup to
  rebind). ``REWIND_WEBHOOK_ALLOW_PRIVATE=1`` allows loopback and private addresses (not
  link-local ones, where cloud metadata services live); ``REWIND_WEBHOOK_ALLOW_HOSTS`` lists
  host names and networks (``hooks.internal,10.1.0.0/16,169.254.10.5``) allowed whatever they
  resolve to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import logging
import os
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

__all__ = [
    "ATTEMPTS",
    "DEADLINE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Target",
    "WebhookPolicy",
    "WebhookRefusedError",
    "Webhooks",
    "check_webhook",
    "sign",
    "webhook_body",
]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Rewind-Signature"
"""``sha256=<hex HMAC-SHA256 of "{timestamp}." + body>``, when a secret is configured."""
TIMESTAMP_HEADER = "X-Rewind-Timestamp"
"""The Unix time the delivery was signed at (seconds)."""
ATTEMPTS = 4
"""Deliveries tried at most, per run."""
DEADLINE = 60.0
"""Seconds after the first attempt past which no retry starts."""
BACKOFF = 0.5
"""Seconds before the first retry; doubled for each next one (with jitter)."""
TIMEOUT = 10.0
"""Seconds one attempt may take (connect, send, answer)."""


class WebhookRefusedError(ValueError):
    """A webhook URL the policy refuses (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class WebhookPolicy:
    """Where webhooks may go, and how they are signed."""

    secret: bytes | None = None
    """The HMAC key (``REWIND_WEBHOOK_SECRET``); none: deliveries are not signed."""
    allow_private: bool = False
    """Allow loopback and private addresses (``REWIND_WEBHOOK_ALLOW_PRIVATE=1``)."""
    allow_hosts: frozenset[str] = frozenset()
    """Host names allowed whatever they resolve to (lower case)."""
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default_factory=tuple
    )
    """Addresses allowed whatever their kind."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookPolicy:
        """The policy the environment configures."""
        env = os.environ if env is None else env
        secret = env.get("REWIND_WEBHOOK_SECRET") or None
        hosts: set[str] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in (env.get("REWIND_WEBHOOK_ALLOW_HOSTS") or "").split(","):
            item = item.strip().lower()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.rstrip("."))
        return cls(
            secret=secret.encode() if secret else None,
            allow_private=env.get("REWIND_WEBHOOK_ALLOW_PRIVATE", "").strip().lower()
            in ("1", "true", "yes"),
            allow_hosts=frozenset(hosts),
            allow_networks=tuple(networks),
        )


@dataclass(frozen=True, kw_only=True)
class Target:
    """A webhook URL, checked: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str
    """The address checked, which the delivery connects to."""


async def check_webhook(url: str, policy: WebhookPolicy) -> Target:
    """Resolve ``url``'s host and check every address it resolves to against ``policy``;
    where to deliver. Raises :class:`WebhookRefusedError` naming the reason."""
    if len(url) > 4096:
        raise WebhookRefusedError("Webhook URL too long (4096 characters at most)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefusedError(f"Invalid webhook URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefusedError(
            f"Webhook URL must be absolute and use http or https, not {url!r}"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookRefusedError(f"Invalid webhook hostname in {url!r}")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefusedError(
            f"Webhook host blocked: cannot resolve {host!r} ({exc})"
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if host.lower() not in policy.allow_hosts:
        for address in addresses:
            reason = _refused(ipaddress.ip_address(address.split("%")[0]), policy)
            if reason is not None:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise WebhookRefusedError(
                    f"Webhook host blocked: {shown} is {reason}; set "
                    "REWIND_WEBHOOK_ALLOW_PRIVATE=1 or list it in REWIND_WEBHOOK_ALLOW_HOSTS "
                    "to allow it"
                )
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def _refused(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: WebhookPolicy
) -> str | None:
    """Why ``address`` is refused, or ``None``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in policy.allow_networks):
        return None
    if address.is_loopback:
        return None if policy.allow_private else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if any(address in network for network in _PRIVATE):
        return None if policy.allow_private else "a private address"
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "not a public address"
    return None


_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
"""Private networks (RFC 1918, shared address space, unique local)."""


def webhook_body(
    run: Mapping[str, Any],
    *,
    started_at: datetime | None,
    ended_at: datetime,
    values: Any,
    error: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The JSON a run's webhook receives (LangGraph's), but for ``webhook_sent_at``."""
    body: dict[str, Any] = {
        **run,
        "run_started_at": (started_at or ended_at).isoformat(),
        "run_ended_at": ended_at.isoformat(),
        "values": values,
    }
    if error is not None:
        body["error"] = dict(error)
    return body


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _Retry(Exception):
    """An attempt that may succeed if tried again."""


class Webhooks:
    """Delivers webhooks in the background (see the module's documentation).

    Args:
        policy: Where they may go and how they are signed (the environment's by default).
        attempts: Deliveries tried at most.
        backoff: Seconds before the first retry (doubled for each next one).
        deadline: Seconds after the first attempt past which no retry starts.
        timeout: Seconds one attempt may take.
        sleep: Waits between attempts (a seam for tests).
    """

    def __init__(
        self,
        policy: WebhookPolicy | None = None,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        deadline: float = DEADLINE,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy = policy if policy is not None else WebhookPolicy.from_env()
        self.attempts = attempts
        self.backoff = backoff
        self.deadline = deadline
        self.timeout = timeout
        self._sleep = sleep
        self._tasks: set[asyncio.Task[bool]] = set()

    async def check(self, url: str) -> Target:
        """:func:`check_webhook` under this sender's policy."""
        return await check_webhook(url, self.policy)

    def send(self, url: str, body: Mapping[str, Any]) -> asyncio.Task[bool]:
        """Deliver ``body`` to ``url`` in the background."""
        task = asyncio.get_running_loop().create_task(self.deliver(url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def deliver(self, url: str, body: Mapping[str, Any]) -> bool:
        """POST ``body`` to ``url``, retrying as the module's documentation says; whether it
        was accepted (a 2xx). A final failure is logged, not raised."""
        run_id = body.get("run_id")
        started = time.monotonic()
        problem = "never tried"
        for attempt in range(1, self.attempts + 1):
            try:
                target = await self.check(url)
                payload = {**body, "webhook_sent_at": datetime.now(UTC).isoformat()}
                status = await asyncio.to_thread(self._post, target, orjson.dumps(payload))
            except WebhookRefusedError as exc:
                logger.error("webhook for run %s not sent to %s: %s", run_id, url, exc.reason)
                return False
            except (OSError, http.client.HTTPException, _Retry) as exc:
                problem = str(exc) or type(exc).__name__
            else:
                if 200 <= status < 300:
                    return True
                problem = f"answered {status}"
                if status != 429 and status < 500:
                    break  # the receiver refuses it: trying again would not help
            delay = self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            if attempt == self.attempts or time.monotonic() - started + delay > self.deadline:
                break
            await self._sleep(delay)
        logger.error(
            "webhook for run %s to %s failed after %d attempt(s): %s", run_id, url, attempt, problem
        )
        return False

    def _post(self, target: Target, data: bytes) -> int:
        """One attempt (in a thread): the answer's status."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "rewind-webhook",
            "Content-Length": str(len(data)),
        }
        if self.policy.secret is not None:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self.policy.secret, timestamp, data)
        connection = _connection(target, self.timeout)
        try:
            connection.request("POST", target.path, body=data, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except TimeoutError as exc:
            raise _Retry(f"no answer within {self.timeout} s") from exc
        finally:
            connection.close()

    async def aclose(self, grace: float = 2.0) -> None:
        """Let deliveries in flight finish for ``grace`` seconds, then stop them (logged)."""
        tasks = list(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(BaseException):
                await task
        if late:
            logger.error("%d webhook(s) not delivered: the process is stopping", len(late))


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to ``target``'s checked address (TLS verified against its host name)."""
    if target.scheme == "https":
        return _PinnedTLS(target.host, target.port, target.address, timeout)
    return _Pinned(target.host, target.port, target.address, timeout)


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
