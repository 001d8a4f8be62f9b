"""An append's batch: the rules it must follow (a run's first event is ``run.started``, its
last may be ``run.ended``), its root checkpoint events, and its events as the rows the writer
queues."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rewind.errors import InvalidEventError
from rewind.events import EventType, NewEvent
from rewind.log import codec
from rewind.log.chain import to_micros
from rewind.log.commit import FINAL_STATUSES as _FINAL
from rewind.log.records import HeadWrite
from rewind.log.token_form import token_text
from rewind.log.writer import EncodedEvent, RunStart

__all__ = ["NOT_PLAIN", "check_batch", "checkpoints_of", "encode_event", "is_boundary", "micros"]

_STARTED, _ENDED = EventType.RUN_STARTED.value, EventType.RUN_ENDED.value
_CHECKPOINT = EventType.CHECKPOINT.value
_CHAT_TOKEN = EventType.CHAT_TOKEN.value

NOT_PLAIN = frozenset((_STARTED, _ENDED, _CHECKPOINT))
"""Types whose append does more than add a row: a run's start and end, a checkpoint."""


def is_boundary(type_: str) -> bool:
    """Whether events of ``type_`` start or end a run."""
    return type_ in (_STARTED, _ENDED)


def checkpoints_of(
    batch: Sequence[NewEvent], head: HeadWrite | None, keep_head: bool
) -> tuple[list[tuple[int, str]], tuple[int, str] | None] | None:
    """The batch's root checkpoint events (index, id) for the checkpoint index, and the head
    to keep (index of its checkpoint, encoded state); ``None`` when it has neither."""
    found: list[tuple[int, str]] | None = None
    for i, event in enumerate(batch):
        if event.type == _CHECKPOINT and event.ns is None:
            payload = event.payload
            checkpoint_id = payload.get("id") if isinstance(payload, Mapping) else None
            if not isinstance(checkpoint_id, str):
                raise InvalidEventError("", "a checkpoint event's payload needs its 'id'")
            found = found or []
            found.append((i, checkpoint_id))
    if head is None:
        return None if found is None else (found, None)
    index = next((i for i, c in found or () if c == head.checkpoint_id), None)
    if index is None:
        raise ValueError(
            f"the head's checkpoint {head.checkpoint_id!r} is not a root checkpoint event of "
            "the same append"
        )
    assert found is not None
    return found, ((index, codec.encode(head.state)) if keep_head else None)


def check_batch(
    run_id: str, batch: Sequence[NewEvent], expected_seq: int
) -> tuple[RunStart | None, str | None]:
    if not batch:
        raise InvalidEventError(run_id, "an append needs at least one event")
    if expected_seq < 0:
        raise InvalidEventError(run_id, f"expected_seq must be >= 0, not {expected_seq}")
    start: RunStart | None = None
    end_status: str | None = None
    for i, event in enumerate(batch):
        if not isinstance(event, NewEvent):
            raise InvalidEventError(run_id, f"event {i} is a {type(event).__name__}, not NewEvent")
        if event.type == EventType.RUN_STARTED:
            if i != 0 or expected_seq != 0:
                raise InvalidEventError(run_id, "run.started may only be a run's first event")
            start = _run_start(run_id, event.payload)
        elif event.type == EventType.RUN_ENDED:
            if i != len(batch) - 1:
                raise InvalidEventError(run_id, "run.ended must be a run's last event")
            status = event.payload.get("status") if isinstance(event.payload, Mapping) else None
            if status not in _FINAL:
                raise InvalidEventError(
                    run_id, f"run.ended needs a final status in {sorted(_FINAL)}"
                )
            end_status = status
    if expected_seq == 0 and start is None:
        raise InvalidEventError(run_id, "a run's first event must be run.started")
    return start, end_status


def _run_start(run_id: str, payload: Any) -> RunStart:
    thread_id = payload.get("thread_id") if isinstance(payload, Mapping) else None
    if not isinstance(thread_id, str) or not thread_id:
        raise InvalidEventError(run_id, "run.started needs a non-empty thread_id in its payload")
    origin = payload.get("origin") or {}
    return RunStart(
        thread_id=thread_id,
        graph_name=payload.get("graph"),
        origin_run_id=origin.get("run_id"),
        origin_checkpoint_id=origin.get("checkpoint_id"),
    )


def micros(ts: datetime | None) -> int:
    """An event's time in µs since the epoch: its own, or now (an event given none is
    stamped when the log takes it)."""
    return time.time_ns() // 1000 if ts is None else to_micros(ts)


def encode_event(event: NewEvent) -> EncodedEvent:
    type_ = event.type
    if type(type_) is not str:  # an EventType member: store its plain value
        type_ = str.__str__(type_)
    payload = event.payload
    text = token_text(payload) if type_ == _CHAT_TOKEN else codec.encode(payload)
    return (
        type_,
        micros(event.ts),
        event.step,
        event.ns,
        event.node,
        event.task_id,
        codec.CODEC_VERSION,
        text,
    )
