"""rewind.events: an event made the short way (one per token) is the event its fields make."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from rewind.events import EventType, NewEvent, made_event


def test_made_event_is_the_frozen_event_of_its_fields() -> None:
    ts = datetime.now(UTC)
    made = made_event(EventType.CHAT_TOKEN, {"token": "x"}, ts, 3, "sub:1", "chat", "t1")
    built = NewEvent(
        type=EventType.CHAT_TOKEN,
        payload={"token": "x"},
        ts=ts,
        step=3,
        ns="sub:1",
        node="chat",
        task_id="t1",
    )
    assert type(made) is NewEvent
    assert made == built
    assert repr(made) == repr(built)
    assert dataclasses.astuple(made) == dataclasses.astuple(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.payload = None  # type: ignore[misc]
    assert made.changed(ns=None) == dataclasses.replace(built, ns=None)
