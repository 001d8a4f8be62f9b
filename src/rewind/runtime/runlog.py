"""The log a run appends to, as its loop sees it: the event log, the run's next seq, and the
live consumers each appended event is handed to (a subgraph's loop shares its parent's).

The recorder's events (a chat model's tokens above all) go through here one at a time, so
these few lines are the runtime's hot path.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewind.events import NewEvent

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.scratch import ScratchLog

__all__ = ["ChunkTap", "RunLog"]

ChunkTap = Callable[[str, Any, "str | None"], None]
"""What a live consumer does with a token given as its chunk: (model call's run id, chunk,
namespace) -- the fields of its ``chat.token`` event a consumer of chunks reads."""

_log = logging.getLogger("rewind.runtime")


@dataclass(kw_only=True, slots=True)
class RunLog:
    """The log a run appends to; a subgraph's loop shares its parent's."""

    event_log: EventLog | ScratchLog
    run_id: str
    durability: str
    seq: int = 0
    taps: list[Callable[[NewEvent], None]] = dataclasses.field(default_factory=list)
    """Live consumers (stream projections): each appended event, in order, as it is appended
    (added with :meth:`add_tap`)."""
    token_taps: list[Callable[[NewEvent], None]] = dataclasses.field(default_factory=list)
    """What each of :attr:`taps` does with a ``chat.token`` event: the tap, or a handler of
    tokens it named (one call fewer per token)."""
    chunk_taps: list[ChunkTap] | None = dataclasses.field(default_factory=list)
    """What each of :attr:`taps` does with a token of a model call given as its chunk (see
    :meth:`record_chunk`); ``None`` while one of them needs the token's event."""
    resumes: list[Callable[[str, Any], None]] = dataclasses.field(default_factory=list)
    """Told when a (sub)graph namespace resumes from a checkpoint (namespace, checkpoint)."""
    stream_tokens: bool = False
    """Make chat models stream (and so record every token) even when invoked, as LangGraph
    does while a ``messages`` stream is open."""
    stream_protocol: bool = False
    """Make chat models stream content-block protocol events (``chat.event``) instead of
    tokens, as LangGraph does under ``stream_events(version="v3")``: their results then
    take the shape LangChain's event path gives them (content blocks)."""
    stream_nodes: bool = False
    """Run a node that is a LangChain runnable by streaming it, each step's output streamed into
    the next, as LangGraph does while an ``astream_events`` stream is open (``events`` mode)."""
    stream_subgraphs: bool = False
    """The run is streamed with ``subgraphs=True``: a subgraph's custom writes are then the
    progress of the timed attempts it runs inside, as LangGraph's are (its subgraph then
    writes through the enclosing node's stream writer)."""
    ended: bool = False
    """The run's last event is appended: what a thread it left running reports after that
    (a tool still running when another failed the step) has no place in the log."""
    told_late: bool = False
    _chunk_tap_of: dict[int, ChunkTap | None] = dataclasses.field(default_factory=dict)
    batched: Any = dataclasses.field(init=False)
    """The durability of events nobody waits for (asked once per token)."""
    packs_tokens: bool = dataclasses.field(init=False)
    """Whether tokens take the log's :meth:`~rewind.log.EventLog.append_token` (``async``)."""
    takes_chunks: bool = dataclasses.field(init=False)
    """Whether :meth:`record_chunk` may take a token (tokens are packed, in a database)."""

    def __post_init__(self) -> None:
        self.batched = "exit" if self.durability == "exit" else "async"
        self.packs_tokens = self.batched == "async"
        self.takes_chunks = self.packs_tokens and self.event_log.takes_chunks
        if self.durability == "sync":  # one commit a step: what it appends commits with its end
            self.event_log.sync_steps(self.run_id)

    def add_tap(self, tap: Callable[[NewEvent], None]) -> int:
        """Add a live consumer; its index in :attr:`token_taps` (to name its token handler)."""
        self.taps.append(tap)
        self.token_taps.append(tap)
        self.chunk_taps = None  # until it names what it does with a chunk (set_token_tap)
        return len(self.token_taps) - 1

    def set_token_tap(
        self, index: int, tap: Callable[[NewEvent], None], chunk_tap: ChunkTap | None = None
    ) -> None:
        """Name what consumer ``index`` does with a ``chat.token`` event (``tap``) and, when
        it can take a token as its chunk (``chunk_tap``), with that."""
        self.token_taps[index] = tap
        self._chunk_tap_of[index] = chunk_tap
        known = [self._chunk_tap_of.get(i) for i in range(len(self.token_taps))]
        self.chunk_taps = None if None in known else [t for t in known if t is not None]

    def record_event(self, event: NewEvent) -> None:
        """Append one event that carries its time and namespace already (a recorder's: one
        per streamed token) now, without waiting (on the loop's thread): :meth:`RunLoop.record
        <rewind.runtime.pregel.RunLoop.record>` without a batch to stamp."""
        if self.ended:
            self._late(event)
            return
        self.event_log.append_nowait(
            self.run_id, [event], expected_seq=self.seq, durability=self.batched
        )
        self.seq += 1
        for tap in self.taps:
            tap(event)

    def record_token(self, key: object, event: NewEvent) -> None:
        """:meth:`record_event` of a recorder's ``chat.token`` event: ``key`` is its model
        call's (see :meth:`EventLog.append_token <rewind.log.EventLog.append_token>`)."""
        if self.ended:
            self._late(event)
            return
        if self.packs_tokens:
            self.event_log.append_token(self.run_id, event, self.seq, key)
        else:
            self.event_log.append_nowait(
                self.run_id, [event], expected_seq=self.seq, durability=self.batched
            )
        self.seq += 1
        for tap in self.token_taps:
            tap(event)

    def record_chunk(self, key: object, call: str, token: Any, chunk: Any, ns: str | None) -> bool:
        """:meth:`record_token` of the next token of a model call whose earlier tokens came
        with ``key`` (``call``: its run id), given as its text and chunk, when no event need
        be made of it: the log packs it with its call's others, and every live consumer takes
        it as a chunk. ``False`` (nothing done) otherwise: the caller records its event."""
        chunk_taps = self.chunk_taps
        if (
            chunk_taps is None
            or self.ended
            or not self.event_log.append_chunk(self.run_id, self.seq, key, token, chunk)
        ):
            return False
        self.seq += 1
        for tap in chunk_taps:
            tap(call, chunk, ns)
        return True

    def end(self) -> None:
        """The run's last event is about to be appended: from now on, events come too late."""
        self.ended = True

    def _late(self, event: NewEvent) -> None:
        if not self.told_late:  # once per run: a thread left running can stream many tokens
            self.told_late = True
            _log.warning(
                "run %s had ended when a thread it left running reported %s (node %r); "
                "that and what the thread reports after it are not in the log",
                self.run_id,
                event.type,
                event.node,
            )
