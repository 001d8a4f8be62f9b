"""The saver protocol: a named place whose event log serves a graph's runs.

A :class:`Saver` is LangGraph's :class:`~rewind.checkpoint.base.BaseCheckpointSaver`: its read
side (``get_tuple``, ``list``, ``get``) answers from the event log, and ``delete_thread``,
``prune`` and ``copy_thread`` (and their async forms) work on it; its write side is the
runtime's (a run appends events), so ``put`` and ``put_writes`` raise.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rewind.checkpoint import reads
from rewind.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from rewind.checkpoint.serde.base import SerializerProtocol
from rewind.checkpoint.serde.encrypted import EncryptedSerializer
from rewind.events import NewEvent
from rewind.log import EventLog, LogOptions, open_log
from rewind.runtime.loops import LogPerLoop, exited, run_sync
from rewind.thread_copy import copy_thread_runs

__all__ = ["Saver"]

Config = Mapping[str, Any]


class Saver(BaseCheckpointSaver[str]):
    """An event log at ``path`` (a SQLite file, or a PostgreSQL URL), kept open per event
    loop between runs.

    ``serde`` is kept as :attr:`serde` (LangGraph's savers store checkpoints through it; the
    log stores payloads through its own codec, :mod:`rewind.log.codec`). An
    :class:`~rewind.checkpoint.serde.encrypted.EncryptedSerializer` is refused: the log does
    not encrypt what it stores.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Callable[[NewEvent], Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        if isinstance(serde, EncryptedSerializer):
            raise ValueError(
                f"{type(self).__name__}(serde=EncryptedSerializer(...)): rewind's event log "
                "does not encrypt what it stores, so the payloads would be kept in clear. "
                "Keep the database on an encrypted disk (or a PostgreSQL server with "
                "encryption at rest), and use redact= to keep secret fields out of the log."
            )
        super().__init__(serde=serde)
        self.path = Path(path)
        """The database file (for a PostgreSQL saver: see :attr:`target`)."""
        self.target: str | Path = self.path
        """Where the log is: the file, or a PostgreSQL saver's URL."""
        self.redact = redact
        """Rewrites payloads before they are appended (see :class:`LogOptions`)."""
        self._logs = LogPerLoop(self.open_log)

    async def open_log(self) -> EventLog:
        """Open a new event log on the file (the caller closes it)."""
        return await open_log(self.target, options=LogOptions(redact=self.redact))

    async def log(self) -> EventLog:
        """The event log this saver keeps open for the running event loop."""
        return await self._logs.get()

    def setup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        run_sync(self.asetup())

    async def asetup(self) -> None:
        """Create (or migrate) the database now rather than at the first run."""
        await self.log()

    async def aclose(self) -> None:
        """Flush and close the log of the running loop."""
        await self._logs.aclose()

    def close(self) -> None:
        """Flush and close the log the sync API uses (at exit, Python's exit hook already
        did: a saver left open closes with the program)."""
        if exited():
            return
        run_sync(self.aclose())

    # --- LangGraph's read side ----------------------------------------------------------------

    async def aget_tuple(self, config: Config) -> CheckpointTuple | None:
        """The checkpoint ``config`` names: its thread's newest without a ``checkpoint_id``
        (``None`` if there is none; subgraph namespaces are not listed)."""
        await (log := await self.log()).flush()
        return await reads.get_tuple(log, config)

    def get_tuple(self, config: Config) -> CheckpointTuple | None:
        """The checkpoint ``config`` names (see :meth:`aget_tuple`)."""
        return run_sync(self.aget_tuple(config))

    async def alist(
        self,
        config: Config | None,
        *,
        filter: dict[str, Any] | None = None,
        before: Config | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints, newest first: of ``config``'s thread (every thread without one), whose
        metadata has ``filter``'s pairs, written before ``before``'s, at most ``limit``."""
        await (log := await self.log()).flush()
        async for found in reads.list_tuples(
            log, config, filter=filter, before=before, limit=limit
        ):
            yield found

    def list(
        self,
        config: Config | None,
        *,
        filter: dict[str, Any] | None = None,
        before: Config | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints, newest first (see :meth:`alist`)."""

        async def collect() -> Any:
            listed = self.alist(config, filter=filter, before=before, limit=limit)
            return [found async for found in listed]

        found: Sequence[CheckpointTuple] = run_sync(collect())
        return iter(found)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a thread's runs and everything they logged."""
        await (await self.log()).delete_thread(str(thread_id))

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread's runs and everything they logged."""
        run_sync(self.adelete_thread(thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``keep_latest``: delete each thread's runs but its newest (with the runs it
        continues from); ``delete``: delete the threads."""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}: 'keep_latest' or 'delete'")
        log = await self.log()
        for thread_id in thread_ids:
            if strategy == "delete":
                await log.delete_thread(str(thread_id))
            else:
                await log.prune_thread(str(thread_id), keep_last=1)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """See :meth:`aprune`."""
        run_sync(self.aprune(thread_ids, strategy=strategy))

    # --- the write side is the runtime's --------------------------------------------------------

    def _not_written_here(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__}.{method}: rewind's savers are written by the runs "
            "themselves (every step is an event of the log), not checkpoint by checkpoint. "
            "Change a thread's state with graph.update_state(config, values), or run the graph."
        )

    def put(self, config: Config, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        """Refused: see :meth:`aput`."""
        raise self._not_written_here("put")

    async def aput(self, config: Config, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        """Refused: a rewind saver's checkpoints are written by its runs."""
        raise self._not_written_here("aput")

    def put_writes(
        self, config: Config, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """Refused: see :meth:`aput`."""
        raise self._not_written_here("put_writes")

    async def aput_writes(
        self, config: Config, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """Refused: see :meth:`aput`."""
        raise self._not_written_here("aput_writes")

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's history to a new thread: each finished run of ``source_thread_id``
        appended again under ``target_thread_id`` (same checkpoint ids, new run ids).

        Raises:
            ValueError: the target thread has runs already (copy into a new thread id).
        """
        log = await self.log()
        await log.flush()
        if await log.list_runs(thread_id=str(target_thread_id), limit=1):
            raise ValueError(
                f"copy_thread: thread {target_thread_id!r} has runs already; copy into a new "
                "thread id (or delete_thread it first)"
            )
        await copy_thread_runs(log, str(source_thread_id), str(target_thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """See :meth:`acopy_thread`."""
        run_sync(self.acopy_thread(source_thread_id, target_thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Refused: see :meth:`adelete_for_runs`."""
        raise self._not_deleted_by_run("delete_for_runs")

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Refused: a run of rewind's log is deleted with its thread (``delete_thread``) or
        by retention (``prune``), which keep what retained runs descend from."""
        raise self._not_deleted_by_run("adelete_for_runs")

    def _not_deleted_by_run(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__}.{method}: rewind deletes a thread's runs together "
            "(delete_thread) or by retention (prune, rewind db prune), so that no kept run "
            "loses the runs it continues from"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.target)!r})"
