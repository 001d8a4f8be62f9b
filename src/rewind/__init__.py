"""rewind: a graph runtime for LLM agents with a flight recorder built in."""

from __future__ import annotations

from rewind.errors import RewindError
from rewind.events import EventType, NewEvent, RunStatus, StoredEvent, run_ended, run_started
from rewind.log import EventLog, LogOptions, open_log
from rewind.replay import areplay, areplay_thread, replay, replay_thread

__version__ = "0.1.0"

__all__ = [
    "EventLog",
    "EventType",
    "NewEvent",
    "RewindError",
    "RunStatus",
    "LogOptions",
    "StoredEvent",
    "__version__",
    "areplay",
    "areplay_thread",
    "open_log",
    "replay",
    "replay_thread",
    "run_ended",
    "run_started",
]
