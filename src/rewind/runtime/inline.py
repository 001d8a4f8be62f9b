"""Sync nodes run on the loop's own thread, as LangGraph runs them in the caller's thread.

A graph run from the sync API (``invoke``, ``stream``) runs on rewind's background loop. A step
with one task whose node is a plain function runs that function right there, in a greenlet of
the loop's thread, instead of handing it to a worker thread and back (two thread wake-ups, more
than a small node's whole cost). Inside it, the function sees what it would see in LangGraph's
sync runner: no running event loop (``asyncio.run`` works), its task's context variables, and a
graph it invokes or streams synchronously runs inside the caller's run, as from a worker thread:
the greenlet hands the nested run's coroutine to the loop (:func:`await_inline`), which runs it
and switches back with the outcome. Events the function causes (tokens, custom writes) are
recorded at once, on the loop's thread (:func:`inline_on`).

Steps with several tasks keep running each in a worker thread, so they still run in parallel.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet  # type: ignore[import-untyped]

__all__ = ["NOT_RUN", "NodeGreenlet", "await_inline", "inline_busy", "inline_on", "run_inline"]

T = TypeVar("T")


class NodeGreenlet(greenlet):  # type: ignore[misc]
    """The greenlet a sync node runs in, on the thread of ``loop``."""

    loop: asyncio.AbstractEventLoop
    inbox: Any = None
    """What other threads hand to ``loop`` (set by the first event the node records)."""


class _Await:
    """Asked of the loop by a node's greenlet: make and await this, and switch back."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self.make = make


def inline_on(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this code runs in a sync node run inline on ``loop``'s thread."""
    current = getcurrent()
    return isinstance(current, NodeGreenlet) and current.loop is loop


NOT_RUN: Any = object()
"""What :func:`run_inline` returns when its ``allowed`` check says no."""


async def run_inline(
    ctx: contextvars.Context,
    fn: Callable[..., T],
    *args: Any,
    allowed: Callable[[], bool] = lambda: True,
    **kwargs: Any,
) -> T:
    """Call ``fn(*args, **kwargs)`` in ``ctx`` on this loop's thread, with no running loop
    visible to it, serving the coroutines it hands over (:func:`await_inline`). ``allowed``
    is asked once the loop counts as busy (so a caller that starts meanwhile sees it busy):
    when it says no, nothing runs and :data:`NOT_RUN` is returned."""
    loop = asyncio.get_running_loop()
    _busy.add(loop)
    if not allowed():
        _busy.discard(loop)
        return NOT_RUN  # type: ignore[no-any-return]
    node = NodeGreenlet(lambda: ctx.run(fn, *args, **kwargs))
    node.loop = loop
    asked = _switch(loop, node.switch)
    while not node.dead:
        if not isinstance(asked, _Await):  # pragma: no cover - only await_inline switches back
            raise RuntimeError("a sync node's greenlet switched back without a request")
        try:
            outcome = await asked.make()
        except BaseException as exc:  # handed to the node, as the call it made raised it
            asked = _switch(loop, node.throw, exc)
        else:
            asked = _switch(loop, node.switch, outcome)
    return asked  # type: ignore[no-any-return]


def _switch(loop: asyncio.AbstractEventLoop, to: Callable[..., Any], *args: Any) -> Any:
    # The node's code sees no running loop, as in a thread of its own.
    asyncio.events._set_running_loop(None)
    _busy.add(loop)
    try:
        return to(*args)
    finally:
        _busy.discard(loop)
        asyncio.events._set_running_loop(loop)


_busy: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
"""Loops whose thread is running a sync node's code right now."""


def inline_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop``'s thread is running a sync node's code now (it serves nothing else
    until the node returns or hands it a coroutine)."""
    return loop in _busy


def await_inline(make: Callable[[], Awaitable[T]]) -> T:
    """From a sync node run inline: have the loop await what ``make()`` gives (it is called
    on the loop, with the loop running), and return its result or raise its exception."""
    current = getcurrent()
    if not isinstance(current, NodeGreenlet):  # pragma: no cover - callers check inline_on
        raise RuntimeError("await_inline is only for sync nodes run inline")
    parent = current.parent
    assert parent is not None
    return parent.switch(_Await(make))  # type: ignore[no-any-return]
