"""``StreamChannel``: one projection of a run stream, read by one consumer as the run goes.

Reading it drives the run: when its buffer is empty, the cursor asks the run stream's pump for
one more event (no background thread or task). A named channel also puts every item into the
run's main event log, as a protocol event of that name (``custom:<name>`` unless its
transformer is a native one).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from rewind.stream._mux import StreamMux

__all__ = ["StreamChannel"]

T = TypeVar("T")


class StreamChannel(Generic[T]):
    """A single-consumer queue of a run stream's items (``tee``/``atee`` for more readers).

    Items are kept only once a consumer subscribed (the first ``iter``/``aiter``), and only
    until it reads them. The mux binds the channel to the sync or the async lane (the other
    way of iterating it then raises ``TypeError``) and closes or fails it when the run ends.
    """

    def __init__(self, name: str | None = None, *, maxlen: int | None = None) -> None:
        """Args:
        name: the protocol method its items are logged under (``None``: not logged).
        maxlen: accepted as LangGraph accepts it; the caller-driven pump bounds the buffer.

        Raises:
            ValueError: ``maxlen`` is not a positive int.
        """
        if maxlen is not None and maxlen <= 0:
            raise ValueError("StreamChannel maxlen must be a positive int or None")
        self.name = name
        self._maxlen = maxlen
        self._items: deque[tuple[int, T]] = deque()
        self._closed = False
        self._error: BaseException | None = None
        self._is_async: bool | None = None
        self._subscribed = False
        self._request_more: Callable[[], bool] | None = None
        self._arequest_more: Callable[[], Awaitable[bool]] | None = None
        self._wire_fn: Callable[[T], None] | None = None
        self._mux: StreamMux | None = None

    def _bind_mux(self, mux: StreamMux) -> None:
        self._mux = mux

    def _bind(self, *, is_async: bool) -> None:
        if self._is_async is not None:
            raise RuntimeError("StreamChannel is already bound")
        self._is_async = is_async

    def _wire(self, fn: Callable[[T], None]) -> None:
        self._wire_fn = fn

    def push(self, item: T) -> None:
        """Add an item (kept only for a subscriber; logged, when the channel is named).

        Raises:
            RuntimeError: The channel is closed and read.
        """
        if self._subscribed:
            if self._closed:
                raise RuntimeError("Cannot push to a closed StreamChannel")
            stamp = self._mux._next_push_seq() if self._mux is not None else 0
            self._items.append((stamp, item))
        if self._wire_fn is not None:
            self._wire_fn(item)

    def close(self) -> None:
        """No more items: a reader stops once it has read the rest."""
        self._closed = True

    def fail(self, err: BaseException) -> None:
        """No more items: a reader raises ``err`` once it has read the rest."""
        self._error = err
        self._closed = True

    def _subscribe(self, *, is_async: bool) -> None:
        if self._is_async is None:
            raise TypeError(
                "StreamChannel has not been bound yet. "
                "Register the transformer with a StreamMux first."
            )
        if self._is_async != is_async:
            raise TypeError(
                "This StreamChannel is bound to async mode — use 'async for' instead."
                if self._is_async
                else "This StreamChannel is bound to sync mode — use 'for' instead."
            )
        if self._subscribed:
            fan_out = ".atee(n)" if is_async else ".tee(n)"
            raise RuntimeError(
                f"StreamChannel already has a subscriber; use {fan_out} for fan-out."
            )
        self._subscribed = True

    def __iter__(self) -> Iterator[T]:
        """Subscribe (once) and read the items, driving the run while none is buffered."""
        self._subscribe(is_async=False)
        return self._sync_cursor()

    def _sync_cursor(self) -> Iterator[T]:
        while True:
            if self._items:
                yield self._items.popleft()[1]
            elif self._closed:
                if self._error is not None:
                    raise self._error
                return
            elif self._request_more is None or (
                not self._request_more() and not self._items and not self._closed
            ):
                return

    def __aiter__(self) -> AsyncIterator[T]:
        """Subscribe (once) and read the items, driving the run while none is buffered."""
        self._subscribe(is_async=True)
        return self._async_cursor()

    async def _async_cursor(self) -> AsyncIterator[T]:
        while True:
            if self._items:
                yield self._items.popleft()[1]
            elif self._closed:
                if self._error is not None:
                    raise self._error
                return
            elif self._arequest_more is None or (
                not await self._arequest_more() and not self._items and not self._closed
            ):
                return

    def tee(self, n: int = 2) -> tuple[Iterator[T], ...]:
        """Subscribe and read the items ``n`` times over, each reader at its own pace.

        Raises:
            ValueError: ``n`` < 1.
        """
        if n < 1:
            raise ValueError("tee() requires n >= 1")
        source = iter(self)
        buffers: list[deque[T]] = [deque() for _ in range(n)]
        done = [False]

        def branch(buffer: deque[T]) -> Iterator[T]:
            while True:
                if buffer:
                    yield buffer.popleft()
                    continue
                if done[0]:
                    return
                try:
                    item = next(source)
                except StopIteration:
                    done[0] = True
                    return
                for other in buffers:
                    other.append(item)

        return tuple(branch(b) for b in buffers)

    def atee(self, n: int = 2) -> tuple[AsyncIterator[T], ...]:
        """:meth:`tee` for the async lane (one reader pulls at a time, for all).

        Raises:
            ValueError: ``n`` < 1.
        """
        if n < 1:
            raise ValueError("atee() requires n >= 1")
        source = aiter(self)
        buffers: list[deque[T]] = [deque() for _ in range(n)]
        state: dict[str, BaseException | bool | None] = {"done": False, "error": None}
        lock = asyncio.Lock()

        async def branch(buffer: deque[T]) -> AsyncIterator[T]:
            while True:
                if buffer:
                    yield buffer.popleft()
                    continue
                if state["done"]:
                    error = state["error"]
                    if isinstance(error, BaseException):
                        raise error
                    return
                async with lock:
                    if buffer or state["done"]:
                        continue
                    try:
                        item = await anext(source)
                    except StopAsyncIteration:
                        state["done"] = True
                        continue
                    except Exception as e:
                        state["done"], state["error"] = True, e
                        continue
                    for other in buffers:
                        other.append(item)

        return tuple(branch(b) for b in buffers)
