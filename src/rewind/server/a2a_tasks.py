"""A2A's tasks over rewind's threads and runs, as LangGraph's server maps them: a context is a
thread, a task is a run of the assistant on it (and the runs that answered its interrupts),
its id ``{context_id}:{run_id}`` of the run that started it.

Which task a run belongs to is in the run's metadata (``a2a.task_id``, or ``a2a.task_start_id``
for the run that started it, whose task id is known only once it exists), and so is which task
a thread's message belongs to (in its ``additional_kwargs``): that is how a task's history is
told apart from the rest of its context's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewind.server.a2a_parts import RunMessages, Scope, history, state_of
from rewind.server.models import ThreadSearch
from rewind.server.run_routes import known_run
from rewind.server.service import Service

__all__ = [
    "CONTEXT_SCAN",
    "RUN_SCAN",
    "Task",
    "a2a_metadata",
    "context_runs",
    "contexts",
    "newest_first",
    "resolve_task",
    "run_messages",
    "task_history",
    "task_id_of",
    "task_ids_by_start",
    "thread_json",
    "timestamp_of",
]

RUN_SCAN = 1000
"""Runs of a context read to tell its tasks (LangGraph's limit)."""

CONTEXT_SCAN = 1000
"""Contexts a task listing without one reads (LangGraph's limit)."""


@dataclass(frozen=True)
class Task:
    """An A2A task, as its runs tell it."""

    task_id: str
    """Its id."""
    context_id: str
    """Its context (thread)."""
    run: dict[str, Any]
    """Its latest run, as the API's ``Run``."""
    state: str
    """Its state (``TASK_STATE_...``)."""
    timestamp: str
    """When its state last changed."""
    task_ids: dict[str, str]
    """The context's task ids by the start ids their first runs carry."""


def a2a_metadata(run: dict[str, Any]) -> dict[str, Any]:
    """The ``a2a`` entry of a run's metadata."""
    metadata = run.get("metadata")
    found = metadata.get("a2a") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) else {}


def task_id_of(context_id: str, run: dict[str, Any]) -> str:
    """The task a run belongs to."""
    stored = a2a_metadata(run).get("task_id")
    return stored if isinstance(stored, str) and stored else f"{context_id}:{run['run_id']}"


def task_ids_by_start(
    runs: list[dict[str, Any]], context_id: str, assistant_id: str
) -> dict[str, str]:
    """The assistant's task ids in a context, by the start ids their first runs carry."""
    found = {}
    for run in runs:
        start = a2a_metadata(run).get("task_start_id")
        if str(run.get("assistant_id")) == assistant_id and isinstance(start, str) and start:
            found[start] = task_id_of(context_id, run)
    return found


def newest_first(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs (the API's ``Run``), newest first."""
    return sorted(runs, key=lambda r: (str(r.get("created_at")), str(r["run_id"])), reverse=True)


def timestamp_of(run: dict[str, Any]) -> str:
    """When a run's state last changed."""
    return str(run.get("updated_at") or run.get("created_at"))


async def thread_json(service: Service, thread_id: str) -> dict[str, Any] | None:
    """A thread as the API's ``Thread``, if there is one."""
    info = await service.find_thread(thread_id)
    return None if info is None else await service.thread_json(info)


async def context_runs(service: Service, context_id: str) -> list[dict[str, Any]]:
    """A context's runs (the API's ``Run``, newest first), as many as a task lookup reads."""
    return (await service.listed_runs(context_id))[:RUN_SCAN]


async def resolve_task(
    service: Service, *, task_id: str, context_id: str | None, assistant_id: str
) -> Task | None:
    """The assistant's task ``task_id`` (in ``context_id`` when given), if there is one."""
    named_context, anchor_id = task_id.split(":", 1) if ":" in task_id else ("", task_id)
    if named_context and context_id and named_context != context_id:
        return None
    context_id = context_id or named_context
    if not context_id:
        return None
    anchor = await known_run(service, context_id, anchor_id)
    thread = await thread_json(service, context_id)
    if anchor is None or thread is None or str(anchor.get("assistant_id")) != assistant_id:
        return None
    stored = a2a_metadata(anchor).get("task_id")
    if isinstance(stored, str) and stored and stored != task_id:
        return None
    runs = await context_runs(service, context_id)
    newest = newest_first(runs)
    latest, is_newest = anchor, False
    for run in newest:
        if str(run.get("assistant_id")) != assistant_id:
            continue
        if run["run_id"] == anchor_id or a2a_metadata(run).get("task_id") == task_id:
            latest, is_newest = run, run["run_id"] == newest[0]["run_id"]
            break
    return Task(
        task_id=task_id,
        context_id=context_id,
        run=latest,
        state=state_of(latest, thread if is_newest else None),
        timestamp=timestamp_of(latest),
        task_ids=task_ids_by_start(runs, context_id, assistant_id),
    )


async def _latest_messages(
    service: Service, context_id: str, metadata: dict[str, Any]
) -> list[Any] | None:
    found = await service.history(context_id, limit=1, metadata=metadata)
    if not found:
        return None
    values = found[0].get("values")
    return (values.get("messages") if isinstance(values, dict) else None) or []


async def run_messages(service: Service, context_id: str, run_id: str) -> RunMessages:
    """The thread's messages once the run ended, and which of them it added."""
    after = await _latest_messages(service, context_id, {"run_id": run_id})
    before = await _latest_messages(service, context_id, {"run_id": run_id, "source": "input"})
    if after is None:
        return RunMessages([], None)
    if before is None:
        return RunMessages(after, None)
    return RunMessages.between(before, after)


async def task_history(
    service: Service,
    task_id: str,
    context_id: str,
    run_id: str,
    *,
    length: int | None,
    scope: Scope,
    task_ids: dict[str, str] | None,
) -> list[dict[str, Any]]:
    """A task's A2A history, from the thread's messages once its run ``run_id`` ended."""
    messages = (await run_messages(service, context_id, run_id)).stamped(task_id)
    return history(messages, task_id, context_id, length=length, scope=scope, task_ids=task_ids)


async def contexts(service: Service, context_id: str | None) -> list[dict[str, Any]]:
    """The threads a task listing reads: the one asked, or the newest ones."""
    if context_id is not None:
        found = await thread_json(service, context_id)
        return [] if found is None else [found]
    return await service.search_threads(ThreadSearch(limit=CONTEXT_SCAN))
