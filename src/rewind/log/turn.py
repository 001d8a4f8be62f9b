"""The turn a store's write transactions take, group commits first.

One write transaction at a time per store, in the store rather than in the database's busy
handler (which polls with sleeps of up to 100 ms). Waiting group commits go before waiting
writes of other kinds: a server that deletes the threads of a hundred finished stateless
runs, or makes threads for a hundred new ones, has a queue of those, and the appends of the
runs still going (which its streams wait for, since they hand out only what is durable) should
not wait behind all of it. The other writes are not starved either: after a group commit that
overtook them, the first of them goes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["WriteTurn"]


class WriteTurn:
    """An asyncio lock with two queues: :meth:`first` (group commits) before the rest."""

    def __init__(self) -> None:
        self._held = False
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()
        self._overtook = False
        """The turn went to a group commit while other writes waited."""

    def locked(self) -> bool:
        """Whether a transaction has the turn."""
        return self._held

    async def __aenter__(self) -> None:
        await self._acquire(self._rest)

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    @asynccontextmanager
    async def first(self) -> AsyncIterator[None]:
        """The turn, ahead of the other kinds of writes waiting for it."""
        await self._acquire(self._first)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, queue: deque[asyncio.Future[None]]) -> None:
        if not self._held and not self._first and not self._rest:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed the turn as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        # A waiting write goes next after a group commit that went before it: group commits
        # overtake at most one commit's worth, and nothing waits for ever (a lease renewed
        # while a run appends without pause).
        order = (self._rest, self._first) if self._overtook else (self._first, self._rest)
        for queue in order:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._overtook = queue is self._first and bool(self._rest)
                    waiter.set_result(None)  # handed over: the turn stays held
                    return
        self._overtook = False
        self._held = False
