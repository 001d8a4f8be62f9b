"""Everything a user can read back from the fixture's threads, as one JSON-ready document.

``make_fixture.py`` computes it with the release that wrote the fixture (``expected.json``);
the test computes it again with the current code on a migrated copy and compares item by item.
Both import this module, so it keeps to the API both releases share.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rewind import areplay
from rewind.checkpoint.sqlite import SqliteSaver
from tests.log.old_databases.graphs import build
from tests.runtime.side_by_side.harness import ser

__all__ = ["ALL_MODES", "SUBGRAPH_THREADS", "THREADS", "config_of", "document"]

THREADS = ("routes", "approval", "nested", "edits", "mapreduce", "retries", "chat")
"""The fixture's threads; each one's graph is ``graphs.build(thread, ...)``."""

SUBGRAPH_THREADS = frozenset({"nested"})
"""Threads whose views are also read with ``subgraphs=True``."""

ALL_MODES = ("values", "updates", "messages", "custom", "tasks", "checkpoints", "debug", "events")
"""Every stream mode a run is replayed in, one at a time and all at once."""


def config_of(thread: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    """The config addressing ``thread`` (at ``checkpoint_id``, if given)."""
    configurable = {"thread_id": thread}
    if checkpoint_id is not None:  # as LangGraph's configs carry it
        configurable.update(checkpoint_ns="", checkpoint_id=checkpoint_id)
    return {"configurable": configurable}


def _json(value: Any) -> Any:
    """``value`` rendered as JSON text would read back (tuples become lists)."""
    return json.loads(json.dumps(ser(value), ensure_ascii=False))


async def _replays(store: Any, run_id: str, *, subgraphs: bool) -> dict[str, Any]:
    modes: list[Any] = [*ALL_MODES, list(ALL_MODES)]
    out: dict[str, Any] = {}
    for mode in modes:
        name = "all" if isinstance(mode, list) else mode
        chunks = [c async for c in areplay(store, run_id, stream_mode=mode, subgraphs=subgraphs)]
        out[name] = _json(chunks)
    return out


async def document(saver: SqliteSaver, threads: Iterable[str] = THREADS) -> dict[str, Any]:
    """Every view of ``threads`` (by default all), keyed ``<thread>/<what>`` (runs numbered
    from 0, oldest first).

    Per run: its record, its event types counted, and its replay in every stream mode (and
    with ``subgraphs=True`` for :data:`SUBGRAPH_THREADS`). Per thread: ``get_state``, the full
    ``get_state_history``, and ``get_state`` at every checkpoint of that history.
    """
    store = await saver.log()
    doc: dict[str, Any] = {}
    for thread in threads:
        graph = build(thread, saver)
        nested = thread in SUBGRAPH_THREADS
        runs = await store.list_runs(thread_id=thread, oldest_first=True)
        for i, run in enumerate(runs):
            key = f"{thread}/run{i}"
            doc[f"{key}/record"] = _json(run)
            events = await store.read(run.run_id)
            doc[f"{key}/event_types"] = dict(sorted(Counter(e.type for e in events).items()))
            for name, chunks in (await _replays(store, run.run_id, subgraphs=False)).items():
                doc[f"{key}/replay/{name}"] = chunks
            if nested:
                replays = await _replays(store, run.run_id, subgraphs=True)
                for name, chunks in replays.items():
                    doc[f"{key}/replay_subgraphs/{name}"] = chunks
        doc[f"{thread}/get_state"] = _json(await graph.aget_state(config_of(thread)))
        if nested:
            state = await graph.aget_state(config_of(thread), subgraphs=True)
            doc[f"{thread}/get_state_subgraphs"] = _json(state)
        history = [s async for s in graph.aget_state_history(config_of(thread))]
        doc[f"{thread}/history"] = _json(history)
        for snapshot in history:
            checkpoint_id = snapshot.config["configurable"]["checkpoint_id"]
            at = config_of(thread, checkpoint_id)
            doc[f"{thread}/get_state@{checkpoint_id}"] = _json(await graph.aget_state(at))
            if nested:
                state = await graph.aget_state(at, subgraphs=True)
                doc[f"{thread}/get_state_subgraphs@{checkpoint_id}"] = _json(state)
    return doc
