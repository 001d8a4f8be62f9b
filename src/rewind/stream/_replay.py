"""Replays of v3 run streams: the run stream a live ``stream_events(version="v3")`` client got,
rebuilt from the log alone.

A v3 run stream is made of the run's v2 stream parts (with subgraphs) in the stream modes its
transformers read. A replay makes the same mux, and feeds it the parts :func:`rewind.replay.
areplay` rebuilds from the log in those modes; the run's ``messages`` mode gives the chat
models' recorded content-block events (``chat.event``), as it did live. So every projection
(``values``, ``messages`` and each call's ``ChatModelStream``, ``lifecycle``, ``subgraphs``, the
raw protocol events, the optional transformers' and your own) gives what it gave live, and the
run's end is what the live client saw: its ``output``, ``interrupted`` and ``interrupts``, or
the error the run failed with. It runs no node and calls no model.

    run = await areplay_events(log, run_id, version="v3")
    async for stream in run.messages:
        print(await stream.output)
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from rewind import errors
from rewind.errors import GraphDrained, NotAV3RunError, RecordedRunError
from rewind.events import EventType, RunStatus, fields_of
from rewind.log import EventLog
from rewind.projections.stream import mappers_of, shaper
from rewind.replay import replayed_items
from rewind.stream._run import run_mux
from rewind.stream.run_stream import AsyncGraphRunStream, GraphRunStream

__all__ = ["areplay_events", "replay_events"]

_READY = object()
"""What the parts' stream yields first, once the run is known to have a v3 form."""

Transformers = Sequence[Callable[[tuple[str, ...]], Any]] | None


def replay_events(
    log: EventLog,
    run_id: str,
    *,
    version: str = "v3",
    transformers: Transformers = None,
    start: str | int | None = None,
    graph: Any = None,
) -> GraphRunStream:
    """The run stream ``graph.stream_events(input, config, version="v3")`` gave for run
    ``run_id``, rebuilt from the log: the sync twin of :func:`areplay_events` (read its
    projections as a live run stream's; reading drives the replay).

    Raises:
        ValueError: ``version`` is not ``"v3"``, or ``start`` names no checkpoint of the run.
        NotAV3RunError: the run was not streamed by a v3 run stream.
        UnknownRunError: the log has no such run.
        TypeError: a transformer spec is an instance, or not callable.
    """
    from rewind.runtime.streaming import iterate_sync

    _check_version(version)
    mux, modes = run_mux(graph, transformers, is_async=False)
    parts = iterate_sync(_parts(log, run_id, modes, start=start, graph=graph), on=None)
    next(parts)  # _READY, or the run's refusal now, not at the first read
    return GraphRunStream(parts, mux)


async def areplay_events(
    log: EventLog,
    run_id: str,
    *,
    version: str = "v3",
    transformers: Transformers = None,
    start: str | int | None = None,
    graph: Any = None,
) -> AsyncGraphRunStream:
    """The run stream ``await graph.astream_events(input, config, version="v3")`` gave for run
    ``run_id``, rebuilt from the log alone (as :func:`rewind.replay.areplay` rebuilds a
    ``stream``'s chunks).

    Its projections give what they gave live: ``values``, ``messages`` (a
    ``ChatModelStream`` per model call, with the same text, reasoning and tool-call deltas and
    the same message), ``lifecycle``, ``subgraphs``, the raw protocol events (their ``seq``
    as live; their ``timestamp`` when the run made each event, not when it was read), and
    ``output()``, ``interrupted()`` and ``interrupts()``; a run that failed raises its error
    where the live stream raised it: the exception its task failed with, as recorded; a run's
    own error (``GraphRecursionError``...) made again from its recorded type and message; or,
    when neither can be, a :class:`~rewind.errors.RecordedRunError` with that type and
    message.

    Args:
        log: The log holding the run.
        run_id: The run (of a ``stream_events``/``astream_events(version="v3")`` call).
        version: ``"v3"``, as the live call's.
        transformers: Transformers besides the built-in ones, as the live call's
            ``transformers=`` (classes, or factories given a scope): the optional ones
            (``UpdatesTransformer``, ``ToolCallTransformer``...) and your own. They need not
            be those the live call had: the log holds every stream mode.
        start: A checkpoint id (the replay starts at that checkpoint) or a log position (it
            starts after it), as :func:`~rewind.replay.areplay`'s: the run stream a client
            reading from that point on would get, its events numbered from there.
        graph: The compiled graph that made the run, when its code is at hand: its
            compile-time transformers (``compile(transformers=...)``) join the replay's, and
            states come as its schema's instances, as they did live.

    Raises:
        ValueError: ``version`` is not ``"v3"``, or ``start`` names no checkpoint of the run.
        NotAV3RunError: the run was not streamed by a v3 run stream: its chat models streamed
            tokens, not content-block events, and its messages' content is no content blocks,
            so no v3 client saw it; replay its stream modes with ``areplay`` instead.
        UnknownRunError: the log has no such run.
        TypeError: a transformer spec is an instance, or not callable.
    """
    _check_version(version)
    mux, modes = run_mux(graph, transformers, is_async=True)
    parts = _parts(log, run_id, modes, start=start, graph=graph)
    await anext(parts)  # _READY, or the run's refusal
    return AsyncGraphRunStream(parts, mux)


def _check_version(version: str) -> None:
    if version != "v3":
        raise ValueError(
            f"replay_events/areplay_events replay v3 run streams (version='v3'), not "
            f"version={version!r}; for astream_events' v1/v2 events, replay the run with "
            "areplay(log, run_id, stream_mode='events')"
        )


async def _parts(
    log: EventLog, run_id: str, modes: list[str], *, start: str | int | None, graph: Any
) -> AsyncIterator[Any]:
    """:data:`_READY` once the run is known to be a v3 run (and ``start`` one of its
    checkpoints, if a checkpoint's id); then its v2 stream parts in
    ``modes`` (with subgraphs, each stamped with its event's time); then the error the run
    failed with, raised."""
    started = await log.read(run_id, types=[EventType.RUN_STARTED], limit=1)
    if not started or not fields_of(started[0].payload).get("stream_protocol"):
        if not started:
            await log.get_run(run_id)  # UnknownRunError for no such run
        raise NotAV3RunError(run_id)
    if isinstance(start, str):
        checkpoints = await log.read(run_id, types=[EventType.CHECKPOINT])
        if not any(fields_of(e.payload).get("id") == start for e in checkpoints):
            raise ValueError(f"run {run_id} has no checkpoint {start!r}")
    yield _READY
    schemas = getattr(getattr(graph, "builder", None), "schemas", None)
    mappers = mappers_of(schemas.state, schemas.output) if schemas is not None else None
    shaped = shaper(shape="list", subgraphs=True, version="v2", mappers=mappers)
    async for event, mode, ns, chunk in replayed_items(
        log, run_id, modes, subgraphs=True, start=start
    ):
        part = shaped(mode, ns, chunk)
        part["timestamp"] = int(event.ts.timestamp() * 1000)
        yield part
    failure = await _failure(log, run_id)
    if failure is not None:
        raise failure


async def _failure(log: EventLog, run_id: str) -> BaseException | None:
    """What the live stream raised at the run's end: the error it failed with, or the drain
    that stopped it; ``None`` for a run that ended otherwise (or has not ended)."""
    ended = await log.read(run_id, types=[EventType.RUN_ENDED], limit=1)
    if not ended:
        return None
    payload = fields_of(ended[0].payload)
    if payload.get("drained") is not None:
        return GraphDrained(payload["drained"])
    if payload.get("status") != RunStatus.ERROR:
        return None
    error = fields_of(payload.get("error"))
    kind, message = error.get("type"), error.get("message")
    for event in reversed(await log.read(run_id, types=[EventType.TASK_FAILED])):
        raised = fields_of(event.payload).get("error")
        if isinstance(raised, BaseException) and (type(raised).__name__, str(raised)) == (
            kind,
            message,
        ):
            return raised
    return _rebuilt(kind, message) or RecordedRunError(run_id, kind, message)


def _rebuilt(kind: Any, message: Any) -> BaseException | None:
    """An error of the run itself, not of a task (``GraphRecursionError``,
    ``InvalidUpdateError``...): a builtin's or rewind's error class made with its message."""
    found = (getattr(errors, kind, None) or getattr(builtins, kind, None)) if kind else None
    if not (isinstance(found, type) and issubclass(found, Exception)):
        return None
    try:
        made = found(message)
    except Exception:  # a class made with other arguments: not rebuilt
        return None
    return made if str(made) == message else None
