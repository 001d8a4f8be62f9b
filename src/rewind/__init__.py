"""rewind: a graph runtime for LLM agents with a flight recorder built in."""

from __future__ import annotations

from rewind.errors import RewindError
from rewind.events import EventType, NewEvent, RunStatus, StoredEvent, run_ended, run_started
from rewind.replay import areplay, areplay_thread, replay, replay_thread
from rewind.store import EventStore, StoreOptions, open_store

__version__ = "0.1.0"

__all__ = [
    "EventStore",
    "EventType",
    "NewEvent",
    "RewindError",
    "RunStatus",
    "StoreOptions",
    "StoredEvent",
    "__version__",
    "areplay",
    "areplay_thread",
    "open_store",
    "replay",
    "replay_thread",
    "run_ended",
    "run_started",
]
