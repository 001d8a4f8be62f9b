"""``stream``/``astream``: the run's events, as they are appended, through the projections.

The run appends its events; a tap feeds each one to the projections of the modes asked for, and
their chunks go to the caller as they are produced. The chunks are shaped as LangGraph shapes
them: one mode gives bare chunks, a list gives ``(mode, chunk)``, a tuple gives bare chunks of
every mode, ``subgraphs=True`` puts the namespace first, and ``version="v2"`` gives typed parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import queue
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rewind.events import EventType
from rewind.projections.messages import MessagesMode
from rewind.projections.modes import of_subgraph
from rewind.projections.stream import (
    Item,
    Mappers,
    Projector,
    RunFacts,
    mappers_of,
    parse_stream_mode,
    shape_chunk,
    shaper,
    tokens_needed,
)
from rewind.runtime.forwarding import with_forwarding
from rewind.runtime.inline import await_inline, inline_busy, inline_on
from rewind.runtime.loops import _background_loop, _loop_thread, _run_on, caller
from rewind.runtime.nested_streams import watch_nested
from rewind.runtime.runlog import ChunkTap

if TYPE_CHECKING:
    from rewind.events import NewEvent
    from rewind.projections.state import CheckpointView
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.pregel import RunLoop

__all__ = ["event_wanted", "iterate_sync", "stream_run"]

_CHAT_TOKEN = EventType.CHAT_TOKEN.value
STREAM_MESSAGES_V2 = "__pregel_stream_messages_v2"
"""The ``configurable`` key (LangGraph's) asking a stream for chat models' protocol events."""


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
    events_subgraphs: bool = False,
    deliver: Deliver | None = None,
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """Run ``graph`` and yield its shaped chunks as the run produces them (or, with
    ``deliver``, hand each to it as it is made, and yield none). ``events_stream_mode`` and
    ``events_subgraphs``: how the graph's own stream in the ``events`` mode is made."""
    modes, shape = parse_stream_mode(stream_mode)
    printed = [print_mode] if isinstance(print_mode, str) else list(print_mode or ())
    items: deque[Item] = deque()
    wake = asyncio.Event()
    projectors: list[Projector] = []
    closers: list[Callable[[], None]] = []
    out = _output(modes, printed, shape, subgraphs, version, v2_mappers(graph, version))
    # As LangGraph's: a v2 stream whose config asks for it (its v3 run streams do) gets chat
    # models' content-block events in the messages mode, not their tokens.
    protocol = (
        version == "v2"
        and "messages" in modes
        and bool(((config or {}).get("configurable") or {}).get(STREAM_MESSAGES_V2))
    )

    def watch(loop: RunLoop, head: CheckpointView | None, resuming: bool) -> None:
        if loop.ns:  # a graph a node streams itself: its own stream, of its events
            closers.append(
                watch_nested(
                    loop,
                    [*modes, *printed],
                    handed,
                    subgraphs=subgraphs or events_subgraphs,
                    events_stream_mode=events_stream_mode,
                    messages_protocol=protocol,
                )
            )
            return
        # The projector is made from the run's own run.started event, as a replay makes it:
        # what the log says of the run is all a live stream knows too.
        loop.log.stream_tokens = tokens_needed([*modes, *printed])
        loop.log.stream_protocol = protocol
        loop.log.stream_nodes = "events" in modes or "events" in printed
        loop.log.stream_subgraphs = subgraphs or events_subgraphs
        loop.log.resumes.append(resumed)
        # As LangGraph's: a RemoteGraph run in a task forwards its chunks (in the events mode,
        # those of the graph's own stream: astream_events(subgraphs=True)).
        if subgraphs or events_subgraphs:
            own = parse_stream_mode(events_stream_mode)[0] if events_subgraphs else []
            loop.config = with_forwarding(loop.config, [*modes, *printed, *own])
        feed: Callable[[NewEvent], list[Item]] | None = None
        token_tap: Callable[[NewEvent], None] | None = None

        def tap(event: NewEvent) -> None:
            nonlocal feed, token_tap
            if token_tap is not None and event.type == _CHAT_TOKEN:  # (most events are)
                token_tap(event)
                return
            if feed is None:
                facts = dataclasses.replace(
                    RunFacts.from_started(event.payload), run_id=loop.run_id
                )
                projectors.append(
                    Projector(
                        [*modes, *printed],
                        facts,
                        head.values if head else None,
                        events_stream_mode=events_stream_mode,
                        subgraphs=subgraphs or events_subgraphs,
                        messages_protocol=protocol,
                    )
                )
                feed = projectors[0].feed
                token_tap, chunk_tap = _token_tap(projectors[0], handed, bare_deliver)
                if token_tap is not None:
                    loop.log.set_token_tap(index, token_tap, chunk_tap)
                elif projectors[0].ignores_tokens:
                    loop.log.set_token_tap(index, tap, _ignored)
                if head is not None and resuming:
                    resumed("", head, bool(event.payload.get("fork")))
            found = feed(event)
            if found:
                handed(found)

        index = loop.log.add_tap(tap)

    def resumed(ns: str, head: CheckpointView, fork: bool = False) -> None:
        handed(projectors[0].resumed(ns, head, fork=fork))

    def handed_each(found: list[Item]) -> None:
        if deliver is None:
            items.extend(found)
            wake.set()
            return
        for item in found:
            shaped = out(item)
            if shaped is not _SKIP:
                deliver(shaped)

    bare = deliver is not None and _bare(printed, shape, subgraphs, version)
    bare_deliver = deliver if bare else None
    handed: Callable[[list[Item]], None] = (
        _delivering_bare(bare_deliver) if bare_deliver is not None else handed_each
    )

    run = asyncio.ensure_future(graph.ainvoke(input, config, _watch=watch, **kwargs))
    run.add_done_callback(lambda _: wake.set())
    for_closers = closers  # a nested stream stops with its run (see watch_nested)
    run.add_done_callback(lambda _: [close() for close in for_closers])
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


def _bare(printed: list[str], shape: str, subgraphs: bool, version: str) -> bool:
    """Whether the caller gets bare chunks (one mode, v1), of the root graph only, and none
    is printed: the common stream."""
    return not printed and shape == "single" and not subgraphs and version != "v2"


def _token_tap(
    projector: Projector, handed: Callable[[list[Item]], None], bare: Deliver | None
) -> tuple[Callable[[NewEvent], None] | None, ChunkTap | None]:
    """What a live stream does with a ``chat.token`` event when only the messages mode reads
    tokens (``None``: the projector's ``feed``): the mode's own delivery to a stream of bare
    chunks, else its items handed on; and, for the bare stream, the same with a token given as
    its chunk (see :meth:`RunLog.record_chunk <rewind.runtime.runlog.RunLog.record_chunk>`)."""
    token_feed = projector.token_feed
    if token_feed is None:
        return None, None
    messages = projector.projections.get("messages")
    if bare is not None and isinstance(messages, MessagesMode):
        return messages.delivering(bare), messages.delivering_chunks(bare)

    def tap(event: NewEvent) -> None:
        found = token_feed(event)
        if found:
            handed(found)

    return tap, None


def _ignored(call: str, chunk: Any, ns: str | None) -> None:
    """A stream none of whose modes reads tokens takes a token given as its chunk: nothing."""


def _delivering_bare(deliver: Deliver) -> Callable[[list[Item]], None]:
    """Hands a bare stream's items to ``deliver`` (:func:`_output` and the loop over the
    items in one call: it runs once per token)."""

    def handed(found: list[Item]) -> None:
        for _mode, ns, chunk in found:
            # (A plain tuple is a subgraph's when not empty: of_subgraph without its call.)
            if not (ns if type(ns) is tuple else of_subgraph(ns)):
                deliver(chunk)

    return handed


def v2_mappers(graph: Any, version: str) -> Mappers | None:
    """How ``graph``'s v2 parts carry its state: as its schemas' instances, where they are
    pydantic models or dataclasses (LangGraph 1.2's v2 streams); ``None`` for v1."""
    schemas = getattr(getattr(graph, "builder", None), "schemas", None)
    if version != "v2" or schemas is None:
        return None
    return mappers_of(schemas.state, schemas.output)


def _output(
    modes: list[str],
    printed: list[str],
    shape: str,
    subgraphs: bool,
    version: str,
    mappers: Mappers | None = None,
) -> Callable[[Item], Any]:
    """What the caller gets of an item (:data:`_SKIP` for none), its choices made once per
    stream: it runs once per chunk (per token, in the ``messages`` mode)."""
    if printed:
        return lambda item: _emit(item, modes, printed, shape, subgraphs, version, mappers)
    # Without printed modes, every item is of a mode asked for (the projector makes no other).
    shaped = shaper(shape=shape, subgraphs=subgraphs, version=version, mappers=mappers)
    if subgraphs:
        return lambda item: shaped(*item)
    bare = _bare(printed, shape, subgraphs, version)

    def out(item: Item) -> Any:
        mode, ns, chunk = item
        # (A plain tuple is a subgraph's when not empty: of_subgraph without its call.)
        if ns if type(ns) is tuple else of_subgraph(ns):
            return _SKIP
        return chunk if bare else shaped(mode, ns, chunk)

    return out


def _emit(
    item: Item,
    modes: list[str],
    printed: list[str],
    shape: str,
    subgraphs: bool,
    version: str,
    mappers: Mappers | None,
) -> Any:
    mode, ns, chunk = item
    if not subgraphs and of_subgraph(ns):
        return _SKIP
    if mode in printed:
        print(f"[{mode}] {chunk}", file=sys.stdout)
    if mode not in modes:
        return _SKIP
    return shape_chunk(
        mode, ns, chunk, shape=shape, subgraphs=subgraphs, version=version, mappers=mappers
    )


Deliver = Callable[[Any], None]
"""Hands a shaped chunk to a sync consumer, from the loop's thread (thread-safe)."""


def iterate_sync(
    stream: AsyncIterator[Any] | Callable[[Deliver | None], AsyncIterator[Any]],
    *,
    on: asyncio.AbstractEventLoop | None,
) -> Iterator[Any]:
    """Iterate an async stream from sync code, on rewind's background loop (or ``on``).

    ``stream`` may be made by a function given a :data:`Deliver`: the stream then hands its
    chunks over as the run makes them, even while a sync node runs on the loop's thread (see
    :mod:`rewind.runtime.inline`), and yields none itself."""
    if on is not None and inline_on(on):
        # Streamed from a sync node run on the loop's thread: each chunk awaited there.
        made = stream(None) if callable(stream) else stream
        yield from _awaited(made)
        return
    # The chunks themselves, then an _End: the queue's own put delivers (once per token).
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    put = items.put
    made = stream(put) if callable(stream) else stream

    async def pump() -> None:
        try:
            async for item in made:
                put(item)
        except BaseException as exc:
            put(_End(exc))
        else:
            put(_End(None))

    with contextlib.ExitStack() as stack:
        future = None
        if on is not None:  # a graph streamed from inside a sync node of a running graph
            # (in the node's context: it runs inside the node's run, as an async node's does)
            ctx = contextvars.copy_context()
            threading.Thread(target=ctx.run, args=(_run_on, on, pump()), daemon=True).start()
        else:
            loop = _background_loop()
            stack.enter_context(caller())
            if inline_busy(loop) or threading.current_thread() is _loop_thread():
                # The loop runs a sync node now (maybe waiting for this stream): a loop of
                # this stream's own, in a thread of its own.
                threading.Thread(target=asyncio.run, args=(pump(),), daemon=True).start()
            else:
                future = asyncio.run_coroutine_threadsafe(pump(), loop)
        get = items.get
        while True:
            value = get()
            if type(value) is not _End:
                yield value
            elif value.error is not None:
                raise value.error
            else:
                if future is not None:
                    future.result()
                return


class _End:
    """The last item of a sync stream's queue: the stream ended (with ``error``, if it
    failed). No chunk is one."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def _awaited(stream: AsyncIterator[Any]) -> Iterator[Any]:
    # In the node's context: the streamed graph runs inside the node's run, as a graph the
    # node streams itself (its own stream yields its chunks).
    ctx = contextvars.copy_context()
    iterator = aiter(stream)
    while True:
        try:
            item = await_inline(lambda: _next_in(ctx, iterator))
        except StopAsyncIteration:
            return
        yield item


def _next_in(ctx: contextvars.Context, iterator: AsyncIterator[Any]) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(_anext(iterator), context=ctx)


async def _anext(iterator: AsyncIterator[Any]) -> Any:
    return await anext(iterator)


def event_wanted(
    event: dict[str, Any],
    include_names: Sequence[str] | None,
    include_types: Sequence[str] | None,
    include_tags: Sequence[str] | None,
    exclude_names: Sequence[str] | None,
    exclude_types: Sequence[str] | None,
    exclude_tags: Sequence[str] | None,
) -> bool:
    """LangChain's event filter: included by any include rule (or none given), excluded by
    any exclude rule."""
    kind = event["event"].split("_")[1] if event["event"].count("_") >= 2 else ""
    if event["event"].startswith("on_chat_model"):
        kind = "chat_model"
    tags = set(event.get("tags") or [])
    included = not (include_names or include_types or include_tags) or (
        event["name"] in (include_names or ())
        or kind in (include_types or ())
        or bool(tags & set(include_tags or ()))
    )
    excluded = (
        event["name"] in (exclude_names or ())
        or kind in (exclude_types or ())
        or bool(tags & set(exclude_tags or ()))
    )
    return included and not excluded
