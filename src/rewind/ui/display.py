"""What the page shows of each payload: the log's redaction hook applied, and message contents
hidden when the page is told to hide them.

* **The redaction hook** (``LogOptions.redact`` of the log the server opened) is applied to
  every event the page reads, as the log applies it to every event it appends: runs recorded
  before the hook was configured show what the hook would have stored. A hook that raises
  shows the event's payload as redacted whole (the page fails closed).
* **Hidden content** (``rewind ui --hide-content``): message texts, a chat token's text, tool
  calls' arguments, a tool's input and output and the texts a runnable run inside a node was
  given or made (a prompt's, a parser's, a retriever's) are shown as ``[redacted]``; the
  structure stays (roles, names, ids, tool names, usage, timings), as ``rewind db redact
  --contents-only`` would leave them.

The page reads the log through :class:`DisplayedLog`, which shows every event it reads: the
event list, the timeline, the chat calls, the replayed stream modes, the live follow, and the
state at each checkpoint, which is folded from the shown events (not from snapshots, which hold
what the hook removes).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rewind.events import REDACTED, EventType, NewEvent, Redacted, StoredEvent
from rewind.log import EventLog
from rewind.log.codec import decode, encode
from rewind.log.redaction import redact_text

__all__ = ["Display", "DisplayedLog", "hide_contents"]

Hook = Callable[[NewEvent], Any]


@dataclass(frozen=True, kw_only=True)
class Display:
    """How the page shows payloads."""

    redact: Hook | None = None
    """The log's redaction hook, applied to each event read."""
    hide_content: bool = False
    """Show message texts, tokens and tool arguments as ``[redacted]``."""

    @property
    def changes(self) -> bool:
        """Whether anything is shown otherwise than the log holds it."""
        return self.redact is not None or self.hide_content

    def payload(self, event: StoredEvent) -> Any:
        """The payload of ``event`` as the page shows it."""
        payload = event.payload
        if self.redact is not None and not isinstance(payload, Redacted):
            payload = self._redacted(event)
        if self.hide_content:
            payload = hide_contents(event.type, payload)
        return payload

    def event(self, event: StoredEvent) -> StoredEvent:
        """``event`` with its payload as the page shows it."""
        if not self.changes:
            return event
        return dataclasses.replace(event, payload=self.payload(event))

    def _redacted(self, event: StoredEvent) -> Any:
        assert self.redact is not None
        given = NewEvent(
            type=event.type,
            payload=copy.deepcopy(event.payload),  # (a hook may change it in place)
            ts=event.ts,
            step=event.step,
            ns=event.ns,
            node=event.node,
            task_id=event.task_id,
        )
        try:
            return self.redact(given)
        except Exception:  # whatever the hook's failure, nothing shows through
            return REDACTED


def hide_contents(event_type: str, payload: Any) -> Any:
    """``payload`` with its message texts, tokens and tool arguments (and a tool's input and
    output) replaced by the redaction marker, its structure kept."""
    if payload is None or isinstance(payload, Redacted):
        return payload
    rewrite = redact_text(encode(payload), event_type, contents_only=True)
    shown = decode(rewrite.text) if rewrite is not None else payload
    if event_type in (EventType.TOOL_STARTED, EventType.TOOL_ENDED) and isinstance(shown, Mapping):
        shown = dict(shown)
        for key in ("input", "inputs", "input_str"):
            if key in shown:
                shown[key] = _values_hidden(shown[key])
        if "output" in shown and not hasattr(shown["output"], "content"):  # (a message's is)
            shown["output"] = _values_hidden(shown["output"])
    return shown


def _values_hidden(value: Any) -> Any:
    """A mapping's values (its keys are arguments' names), or the value itself, hidden."""
    if isinstance(value, Mapping):
        return {key: REDACTED for key in value}
    return value if value in (None, "") else REDACTED


_DELEGATED = frozenset(
    {
        "url",
        "options",
        "read_only",
        "head",
        "get_run",
        "list_runs",
        "list_threads",
        "verify_chain",
        "get_checkpoint",
        "list_checkpoints",
        "checkpoint_seqs",
        "lineage",
        "runs_from",
        "runs_from_checkpoints",
        "run_of_checkpoint",
    }
)
"""What :class:`DisplayedLog` passes to the log as it is: reads that return no payload."""


class DisplayedLog:
    """The log as the page reads it: every event read is shown through a :class:`Display`;
    no snapshot is read (the state is folded from the shown events). Only the reads the page
    makes are offered: another one fails loudly rather than showing a payload unshown."""

    def __init__(self, log: EventLog, display: Display) -> None:
        self._log = log
        self._display = display

    def __getattr__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(self._log, name)
        raise AttributeError(f"the page reads no {name!r} of the log (it would show it unshown)")

    def _shown(self, events: Iterable[StoredEvent]) -> list[StoredEvent]:
        return [self._display.event(e) for e in events]

    async def read(self, run_id: str, **where: Any) -> list[StoredEvent]:
        """:meth:`EventLog.read`, shown."""
        return self._shown(await self._log.read(run_id, **where))

    async def read_segments(
        self, segments: Iterable[tuple[str, int | None, int | None]]
    ) -> list[StoredEvent]:
        """:meth:`EventLog.read_segments`, shown."""
        return self._shown(await self._log.read_segments(segments))

    async def iter_run(self, run_id: str, **where: Any) -> AsyncIterator[StoredEvent]:
        """:meth:`EventLog.iter_run`, shown."""
        async for event in self._log.iter_run(run_id, **where):
            yield self._display.event(event)

    async def _iter_pages(self, run_id: str, **where: Any) -> AsyncIterator[Iterator[StoredEvent]]:
        async for page in self._log._iter_pages(run_id, **where):
            yield (self._display.event(e) for e in page)

    async def subscribe(self, **where: Any) -> AsyncIterator[StoredEvent]:
        """:meth:`EventLog.subscribe`, shown."""
        async for event in self._log.subscribe(**where):
            yield self._display.event(event)

    async def get_snapshot(self, *args: Any, **kwargs: Any) -> None:
        """No snapshot: it holds the state as folded from the events unshown."""
        return None
