"""``stream``/``astream``: the run's events, as they are appended, through the projections.

The run appends its events; a tap feeds each one to the projections of the modes asked for, and
their chunks go to the caller as they are produced. The chunks are shaped as LangGraph shapes
them: one mode gives bare chunks, a list gives ``(mode, chunk)``, a tuple gives bare chunks of
every mode, ``subgraphs=True`` puts the namespace first, and ``version="v2"`` gives typed parts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from rewind.projections.stream import (
    Item,
    Projector,
    RunFacts,
    parse_stream_mode,
    shape_chunk,
    tokens_needed,
)
from rewind.runtime.loops import _background_loop, _run_on

if TYPE_CHECKING:
    from rewind.events import NewEvent
    from rewind.projections.state import CheckpointView
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.pregel import RunLoop

__all__ = ["iterate_sync", "stream_run"]


async def stream_run(
    graph: CompiledStateGraph,
    input: Any,
    config: dict[str, Any] | None,
    *,
    stream_mode: Any,
    subgraphs: bool,
    version: str,
    print_mode: Any,
    events_stream_mode: Any = "updates",
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """Run ``graph`` and yield its shaped chunks as the run produces them."""
    modes, shape = parse_stream_mode(stream_mode)
    printed = [print_mode] if isinstance(print_mode, str) else list(print_mode or ())
    items: deque[Item] = deque()
    wake = asyncio.Event()
    projectors: list[Projector] = []

    def watch(loop: RunLoop, head: CheckpointView | None, resuming: bool) -> None:
        # The projector is made from the run's own run.started event, as a replay makes it:
        # what the log says of the run is all a live stream knows too.
        loop.log.stream_tokens = tokens_needed([*modes, *printed])
        loop.log.resumes.append(resumed)

        def tap(event: NewEvent) -> None:
            if not projectors:
                facts = dataclasses.replace(
                    RunFacts.from_started(event.payload), run_id=loop.run_id
                )
                projectors.append(
                    Projector(
                        [*modes, *printed],
                        facts,
                        head.values if head else None,
                        events_stream_mode=events_stream_mode,
                        subgraphs=subgraphs,
                    )
                )
                if head is not None and resuming:
                    resumed("", head)
            found = projectors[0].feed(event)
            if found:
                items.extend(found)
                wake.set()

        loop.log.taps.append(tap)

    def resumed(ns: str, head: CheckpointView) -> None:
        items.extend(projectors[0].resumed(ns, head))
        wake.set()

    def out(item: Item) -> Any:
        return _emit(item, modes, printed, shape, subgraphs, version)

    run = asyncio.ensure_future(graph.ainvoke(input, config, _watch=watch, **kwargs))
    run.add_done_callback(lambda _: wake.set())
    try:
        while True:
            # Every chunk the run made so far, then (when it made none) wait for more or its end.
            while items:
                shaped = out(items.popleft())
                if shaped is not _SKIP:
                    yield shaped
            if run.done():
                run.result()  # the run's own exception, if it failed
                return
            wake.clear()
            if not items:
                await wake.wait()
    finally:
        if not run.done():
            run.cancel()


_SKIP = object()


def _emit(
    item: Item, modes: list[str], printed: list[str], shape: str, subgraphs: bool, version: str
) -> Any:
    mode, ns, chunk = item
    if ns and not subgraphs:
        return _SKIP
    if mode in printed:
        print(f"[{mode}] {chunk}", file=sys.stdout)
    if mode not in modes:
        return _SKIP
    return shape_chunk(mode, ns, chunk, shape=shape, subgraphs=subgraphs, version=version)


def iterate_sync(
    stream: AsyncIterator[Any], *, on: asyncio.AbstractEventLoop | None
) -> Iterator[Any]:
    """Iterate an async stream from sync code, on rewind's background loop (or ``on``)."""
    items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    async def pump() -> None:
        try:
            async for item in stream:
                items.put(("item", item))
        except BaseException as exc:
            items.put(("error", exc))
        else:
            items.put(("done", None))

    loop = on or _background_loop()
    future = asyncio.run_coroutine_threadsafe(pump(), loop) if on is None else None
    if on is not None:  # a graph streamed from inside a sync node of a running graph
        import threading

        threading.Thread(target=_run_on, args=(loop, pump()), daemon=True).start()
    while True:
        kind, value = items.get()
        if kind == "item":
            yield value
        elif kind == "error":
            raise value
        else:
            if future is not None:
                future.result()
            return
