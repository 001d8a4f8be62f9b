"""Where a run of a graph compiled without a checkpointer is logged: in memory.

Such a run's events feed its live stream (the stream's projections are fed as events are
appended) and are dropped when it ends: LangGraph keeps nothing of such a run either, and no
reader can name it afterwards. They are kept as the runtime made them, in a list per run, with
the append contract's order check; nothing is encoded, hashed or committed, so an invoke costs
what running the graph costs (a database, even in memory, costs more than a small graph).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewind.errors import ConcurrencyError
from rewind.events import NewEvent

__all__ = ["ScratchLog"]


class ScratchLog:
    """The in-memory log of runs without a checkpointer (one per run)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[NewEvent]] = {}
        """Each run's events, in order."""

    def append_nowait(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int,
        durability: Any = None,
        head: Any = None,
    ) -> None:
        """Append ``events`` to the run (created by its first append).

        Raises:
            ConcurrencyError: ``expected_seq`` is not the run's next seq.
        """
        log = self.runs.setdefault(run_id, [])
        if expected_seq != len(log):
            raise ConcurrencyError(run_id, expected_seq, len(log))
        log.extend(events)

    def append_token(
        self, run_id: str, event: NewEvent, expected_seq: int, key: object = None
    ) -> None:
        """Append one ``chat.token`` event (:meth:`append_nowait` of one)."""
        log = self.runs.setdefault(run_id, [])
        if expected_seq != len(log):
            raise ConcurrencyError(run_id, expected_seq, len(log))
        log.append(event)

    def sync_steps(self, run_id: str) -> None:
        """Nothing to group: every event is kept at once, in memory."""

    takes_chunks = False
    """A token kept in memory is kept as its event (see :meth:`append_chunk`)."""

    def append_chunk(
        self, run_id: str, expected_seq: int, key: object, token: Any, chunk: Any
    ) -> bool:
        """Never: a token kept in memory is kept as its event (see :meth:`append_token`)."""
        return False

    async def append(
        self,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int,
        durability: Any = None,
        new_run: bool = False,
        head: Any = None,
    ) -> None:
        """As :meth:`append_nowait` (nothing to wait for in memory)."""
        self.append_nowait(run_id, events, expected_seq=expected_seq)

    async def flush(self, run_id: str | None = None) -> None:
        """Nothing to flush: every append is complete when it returns."""

    async def delete_thread(self, thread_id: str, *, vacuum: bool = False) -> int:
        """Drop the run's events (a run without a checkpointer is its own thread)."""
        return len(self.runs.pop(thread_id, ()))
