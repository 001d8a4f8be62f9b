"""Catch-up-then-live subscriptions over the log, with no gap and no duplicate.

A subscriber reads stored events after its position, then takes events as this process commits
them. Each commit says which span of positions it covers (``prev_head`` to ``new_head``); a
subscriber takes a commit only if it starts where the subscriber's own coverage ends, so anything
it did not see (another process's commit, a burst it could not buffer) sends it back to reading
the store. The buffer is bounded: a consumer that falls behind costs a re-read, never memory, and
never blocks an append. Other processes' commits are noticed through the backend's
``next_head``: polling the log head (SQLite), or a notification each commit sends
(PostgreSQL's ``LISTEN``/``NOTIFY``: nothing is read while the log is idle).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from rewind.errors import LogClosedError
from rewind.events import EventType, StoredEvent

__all__ = ["Page", "SubscriptionHub"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One read of the store for a subscriber."""

    events: list[StoredEvent]
    """Matching events after the position asked for, in order."""
    covered: int
    """Every matching event up to this position is in ``events`` (or none exists)."""
    run_over: bool = False
    """For a run subscription: the run has ended and its last event is at or before ``covered``."""


@dataclass(kw_only=True, eq=False)
class _Subscriber:
    run_id: str | None
    thread_id: str | None
    head: int
    cursor: int
    buffer: deque[StoredEvent] = field(default_factory=deque)
    needs_read: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, event: StoredEvent) -> bool:
        if self.run_id is not None:
            return event.run_id == self.run_id
        if self.thread_id is not None:
            return event.thread_id == self.thread_id
        return True


ReadPage = Callable[[str | None, str | None, int, int], Awaitable[Page]]
NextHead = Callable[[], Awaitable[int]]
"""Waits until other processes may have committed, and returns the log's head position."""


class SubscriptionHub:
    """Fans committed events out to this process's subscribers."""

    def __init__(
        self,
        read_page: ReadPage,
        next_head: NextHead | None,
        *,
        buffer_size: int,
        page_size: int,
        poll_interval: float,
    ) -> None:
        self._read_page = read_page
        self._next_head = next_head
        self._buffer_size = buffer_size
        self._page_size = page_size
        self._poll_interval = poll_interval
        self._subscribers: set[_Subscriber] = set()
        self._known_head = 0
        self._poller: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def active(self) -> bool:
        """Whether anyone is subscribed (commits skip decoding for subscribers otherwise)."""
        return bool(self._subscribers)

    def publish(self, prev_head: int, new_head: int, events: list[StoredEvent]) -> None:
        """Offer one commit (positions ``prev_head+1 .. new_head``) to every subscriber."""
        self._known_head = max(self._known_head, new_head)
        for sub in self._subscribers:
            if sub.needs_read or sub.head >= new_head:
                continue
            if sub.head != prev_head:  # something committed elsewhere came in between
                sub.buffer.clear()  # re-read it all, in order, from what was yielded
                sub.head = sub.cursor
                sub.needs_read = True
                sub.wake.set()
                continue
            taken = [e for e in events if sub.matches(e)]
            if len(sub.buffer) + len(taken) > self._buffer_size:
                sub.buffer.clear()  # fell behind: drop the buffer, re-read from the store
                sub.head = sub.cursor
                sub.needs_read = True
            else:
                sub.buffer.extend(taken)
                sub.head = new_head
            sub.wake.set()

    async def subscribe(
        self, *, run_id: str | None, thread_id: str | None, after_position: int
    ) -> AsyncIterator[StoredEvent]:
        """Yield matching events after ``after_position``, then live ones, in log order."""
        sub = _Subscriber(
            run_id=run_id, thread_id=thread_id, head=after_position, cursor=after_position
        )
        self._subscribers.add(sub)
        self._ensure_poller()
        try:
            while True:
                if self._closed:
                    raise LogClosedError("the store was closed while this subscription was open")
                if sub.needs_read:
                    page = await self._read_page(run_id, thread_id, sub.cursor, self._page_size)
                    for event in page.events:
                        sub.cursor = event.position
                        yield event
                        if run_id is not None and event.type == EventType.RUN_ENDED:
                            return
                    if page.run_over:
                        return
                    if len(page.events) < self._page_size:
                        sub.cursor = max(sub.cursor, page.covered)
                        sub.head = sub.cursor
                        sub.needs_read = False
                        self._known_head = max(self._known_head, page.covered)
                    continue
                if sub.buffer:
                    event = sub.buffer.popleft()
                    sub.cursor = event.position
                    if not sub.buffer and not sub.needs_read:
                        sub.cursor = sub.head
                    yield event
                    if run_id is not None and event.type == EventType.RUN_ENDED:
                        return
                    continue
                if sub.head < self._known_head:
                    sub.needs_read = True
                    continue
                sub.wake.clear()
                await sub.wake.wait()
        finally:
            self._subscribers.discard(sub)

    def _ensure_poller(self) -> None:
        if self._next_head is None or (self._poller is not None and not self._poller.done()):
            return
        self._poller = asyncio.get_running_loop().create_task(self._poll(), name="rewind-poll")

    async def _poll(self) -> None:
        assert self._next_head is not None
        while self._subscribers:
            try:
                head = await self._next_head()
            except asyncio.CancelledError:
                raise
            except Exception:  # a transient error (a lost connection): try again shortly
                await asyncio.sleep(self._poll_interval)
                continue
            self._known_head = max(self._known_head, head)
            # Every idle subscriber behind the head has something to read, whoever raised the
            # known head first (another subscriber's read may have seen it already).
            for sub in self._subscribers:
                if not sub.buffer and sub.head < head:
                    sub.wake.set()

    async def close(self) -> None:
        """Stop the poller; open subscriptions raise ``LogClosedError`` at their next step."""
        self._closed = True
        for sub in self._subscribers:
            sub.wake.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
