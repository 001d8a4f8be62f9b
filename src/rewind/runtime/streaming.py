"""``stream``/``astream``: the run's events, as they are appended, through the projections.

The run appends its events; a tap feeds each one to the projections of the modes asked for, and
their chunks go to the caller as they are produced. The chunks are shaped as LangGraph shapes
them: one mode gives bare chunks, a list gives ``(mode, chunk)``, a tuple gives bare chunks of
every mode, ``subgraphs=True`` puts the namespace first, and ``version="v2"`` gives typed parts.
"""

from __future__ import annotations

import asyncio
import queue
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from rewind.projections.modes import (
    CheckpointsMode,
    CustomMode,
    DebugMode,
    MessagesMode,
    Projection,
    TasksMode,
    ToolsMode,
    UpdatesMode,
    ValuesMode,
    _Fold,
    _interrupt_dicts,
)
from rewind.runtime.loops import _background_loop, _run_on

if TYPE_CHECKING:
    from rewind.events import NewEvent
    from rewind.projections.state import CheckpointView
    from rewind.runtime.compiled import CompiledStateGraph
    from rewind.runtime.pregel import RunLoop

__all__ = ["iterate_sync", "stream_run"]

SUPPORTED = ("values", "updates", "custom", "tasks", "checkpoints", "debug", "messages", "tools")
_ORDER = ["messages", "tools", "updates", "values", "custom", "tasks", "checkpoints", "debug"]
"""The order in which the modes' chunks of one event reach the caller (LangGraph's)."""


def _modes(stream_mode: Any) -> tuple[list[str], str]:
    """The modes asked for and how chunks are shaped: ``single``, ``list`` or ``tuple``."""
    if isinstance(stream_mode, str):
        modes, shape = [stream_mode], "single"
    elif isinstance(stream_mode, list):
        modes, shape = list(stream_mode), "list"
    else:
        modes, shape = list(stream_mode), "tuple"
    modes = sorted(modes, key=_ORDER.index) if set(modes) <= set(_ORDER) else modes
    for mode in modes:
        if mode not in SUPPORTED:
            raise ValueError(
                f"stream mode {mode!r} is not supported yet; rewind streams {list(SUPPORTED)}"
            )
    return modes, shape


def _shape(
    mode: str, ns: tuple[str, ...], chunk: Any, *, shape: str, subgraphs: bool, version: str
) -> Any:
    if version == "v2":
        part: dict[str, Any] = {"type": mode, "ns": ns, "data": chunk}
        if mode == "values":
            data = dict(chunk)
            part["interrupts"] = tuple(data.pop("__interrupt__", ()))
            part["data"] = data
        return part
    if shape == "list":
        return (ns, mode, chunk) if subgraphs else (mode, chunk)
    return (ns, chunk) if subgraphs else chunk


async def stream_run(
    graph: CompiledStateGraph,
    input: Any,
    config: dict[str, Any] | None,
    *,
    stream_mode: Any,
    subgraphs: bool,
    version: str,
    print_mode: Any,
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """Run ``graph`` and yield its shaped chunks as the run produces them."""
    modes, shape = _modes(stream_mode)
    printed = [print_mode] if isinstance(print_mode, str) else list(print_mode or ())
    chunks: asyncio.Queue[tuple[str, tuple[str, ...], Any]] = asyncio.Queue()
    projections: dict[str, Projection] = {}
    order = list(graph.builder.channels)

    folds: list[_Fold] = []
    checkpoints: list[CheckpointsMode] = []

    def watch(loop: RunLoop, head: CheckpointView | None, resuming: bool) -> None:
        initial = head.values if head else None
        values = ValuesMode(initial=initial, key_order=order)
        fold = _Fold(initial, order)
        folds.append(fold)
        tasks = TasksMode(fold)
        saved = CheckpointsMode(
            fold,
            thread_id=loop.thread_id,
            enabled=graph.checkpointer is not None,
            parentless=loop.log.durability == "exit",
        )
        checkpoints.append(saved)
        made: dict[str, Projection] = {
            "values": values,
            "updates": UpdatesMode(),
            "custom": CustomMode(),
            "tasks": tasks,
            "checkpoints": saved,
            "debug": DebugMode(tasks, saved),
            "tools": ToolsMode(),
            "messages": MessagesMode(
                fold,
                thread_id=loop.thread_id,
                metadata=dict((config or {}).get("metadata") or {}),
                tags=(config or {}).get("tags"),
            ),
        }
        if {"messages", "tools"} & (set(modes) | set(printed)):  # as LangGraph's handlers do
            loop.log.stream_tokens = True
        for mode in _ORDER:
            if mode in modes or mode in printed:
                projections[mode] = made[mode]
        loop.log.taps.append(tap)
        loop.log.resumes.append(resumed)
        if head is not None and resuming:
            resumed("", head)

    def resumed(ns: str, head: CheckpointView) -> None:
        key = tuple(ns.split("|")) if ns else ()
        folds[0].values[key] = dict(head.values)
        values = projections.get("values")
        if isinstance(values, ValuesMode):
            for k, chunk in values.resumed(ns, head.values):
                chunks.put_nowait(("values", k, chunk))
        if {"checkpoints", "debug"} & set(projections) and checkpoints[0]._enabled:
            chunk = checkpoints[0].payload(
                _described(head), ns, folds[0].state(key), _left_by_tasks(head)
            )
            if "checkpoints" in projections:
                chunks.put_nowait(("checkpoints", key, chunk))
            if "debug" in projections:
                chunks.put_nowait(
                    (
                        "debug",
                        key,
                        {
                            "step": head.step,
                            "timestamp": head.ts.isoformat(),
                            "type": "checkpoint",
                            "payload": chunk,
                        },
                    )
                )

    def tap(event: NewEvent) -> None:
        for fold in folds:
            fold.feed(event)
        for mode, projection in projections.items():
            for ns, chunk in projection.feed(event):
                chunks.put_nowait((mode, ns, chunk))

    run = asyncio.ensure_future(graph.ainvoke(input, config, _watch=watch, **kwargs))
    try:
        while True:
            getter = asyncio.ensure_future(chunks.get())
            done, _ = await asyncio.wait({getter, run}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                while not chunks.empty():
                    item = _emit(chunks.get_nowait(), modes, printed, shape, subgraphs, version)
                    if item is not _SKIP:
                        yield item
                run.result()  # the run's own exception, if it failed
                return
            item = _emit(getter.result(), modes, printed, shape, subgraphs, version)
            if item is not _SKIP:
                yield item
    finally:
        if not run.done():
            run.cancel()


_SKIP = object()


def _described(head: CheckpointView) -> dict[str, Any]:
    return {
        "id": head.id,
        "parent_id": head.parent_id,
        "step": head.step,
        "source": head.source,
        "next": head.next,
        "metadata": head.metadata,
    }


def _left_by_tasks(head: CheckpointView) -> dict[str, dict[str, Any]]:
    """What the tasks of a checkpoint being resumed left there: results, errors, interrupts."""
    out: dict[str, dict[str, Any]] = {}
    for task in head.next:
        task_id = task["id"]
        entry: dict[str, Any] = {}
        if task_id in head.results:
            entry["result"] = head.results[task_id]
        if task_id in head.errors:
            entry["error"] = head.errors[task_id]
        else:
            entry["interrupts"] = _interrupt_dicts(head.interrupts.get(task_id))
        out[task_id] = entry
    return out


def _emit(
    item: tuple[str, tuple[str, ...], Any],
    modes: list[str],
    printed: list[str],
    shape: str,
    subgraphs: bool,
    version: str,
) -> Any:
    mode, ns, chunk = item
    if ns and not subgraphs:
        return _SKIP
    if mode in printed:
        print(f"[{mode}] {chunk}", file=sys.stdout)
    if mode not in modes:
        return _SKIP
    return _shape(mode, ns, chunk, shape=shape, subgraphs=subgraphs, version=version)


def iterate_sync(
    stream: AsyncIterator[Any], *, on: asyncio.AbstractEventLoop | None
) -> Iterator[Any]:
    """Iterate an async stream from sync code, on rewind's background loop (or ``on``)."""
    items: queue.Queue[tuple[str, Any]] = queue.Queue()

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
