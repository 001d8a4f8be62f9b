"""Where a run starts: the checkpoint it continues from (the thread's newest, or an addressed
past one: time travel, as LangGraph 1.2 does it with a ``fork`` checkpoint), the tasks it
starts with (the input's, or the checkpoint's, with the finished ones' writes handed back or
run again), the values its resume answers; and the graph lifecycle handlers told of it (a
mixin of :class:`~rewind.runtime.compiled.CompiledStateGraph`)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from rewind.callbacks import get_sync_graph_callback_manager_for_config
from rewind.events import PULL, EventType, NewEvent
from rewind.log import RunRecord
from rewind.projections.state import CheckpointView
from rewind.runtime.channels import MISSING
from rewind.runtime.graph import START
from rewind.runtime.orphans import is_orphan
from rewind.runtime.pregel import RunLoop, Travel
from rewind.runtime.read_back import read_back_with
from rewind.runtime.scratch import ScratchLog
from rewind.runtime.state_api import checkpoint_state
from rewind.runtime.tasks import Task
from rewind.thread_state import read_head
from rewind.types import Command

if TYPE_CHECKING:
    from rewind.log import EventLog

__all__ = ["RunStart", "lifecycle", "resume_values", "trace_context", "travel_of"]


class RunStart:
    """The run-start part of :class:`~rewind.runtime.compiled.CompiledStateGraph`."""

    checkpointer: Any

    async def _start_state(
        self, event_log: EventLog | ScratchLog, thread_id: str | None, config: dict[str, Any]
    ) -> tuple[CheckpointView | None, list[RunRecord], bool]:
        """The checkpoint a run starts from (the thread's newest, or ``checkpoint_id`` from
        the config: a fork), as the checkpointer gives it back (:mod:`.read_back`), the
        thread's runs orphaned by a dead process, and whether the thread has moved past that
        checkpoint."""
        if thread_id is None or isinstance(event_log, ScratchLog):
            return None, [], False
        read_back = read_back_with(self.checkpointer)
        newest = await read_head(event_log, thread_id, read_back=read_back)
        orphans = [r for r in newest.running if is_orphan(r, newest.started.get(r.run_id))]
        wanted = (config.get("configurable") or {}).get("checkpoint_id")
        if wanted is None or (newest.view is not None and newest.view.id == wanted):
            return newest.view, orphans, False
        found = await checkpoint_state(event_log, thread_id, wanted, read_back=read_back)
        if found is None or found.view is None:
            raise ValueError(
                f"no checkpoint {wanted!r} on this thread; list them with get_state_history(config)"
            )
        return found.view, orphans, True

    async def _first_tasks(
        self, loop: RunLoop, input: Any, head: CheckpointView | None
    ) -> tuple[list[Task], bool]:
        """The tasks the run starts with, and whether it resumes a checkpoint's tasks."""
        if input is None or (isinstance(input, Command) and head is not None):
            if head is None:
                return [], True
            if isinstance(input, Command) and input.resume is not None:
                given = resume_values(input.resume, head)
                payload: dict[str, Any] = {"checkpoint_id": head.id, "values": given}
                if not given and not _is_id_map(input.resume):
                    # No task waits: as LangGraph's, the first interrupt() of the step that
                    # runs now returns it.
                    payload["null"] = input.resume
                    loop.null_resume = (head.step + 1, input.resume)
                loop.record(NewEvent(type=EventType.RESUME, payload=payload))
                for task_id, value in given.items():
                    head.resumes.setdefault(task_id, []).append(value)
            travel = loop.travel
            if travel.forks and not loop.ns:
                return await self._fork(loop, head), True
            # Finished tasks run again on time travel, or at a checkpoint the thread has moved
            # past; a resume at the thread's newest checkpoint has their writes back.
            replaying = travel.replaying and not loop.ns
            traveling = travel.traveling and not loop.ns
            tasks = []
            for described in head.next:
                task = Task.from_description(described)
                task.resumed = True
                task.resume = [] if traveling else list(head.resumes.get(task.id, []))
                if not replaying and task.id in head.results and task.id not in head.interrupts:
                    task.cached = self._cached_writes(head, task.id)
                elif not replaying:
                    task.handled_error = loop.handled_before(task, head)
                tasks.append(task)
            if head.calls and not replaying:  # the task calls the log holds are not made again
                loop.calls.done.update(head.calls)
            return tasks, True
        return await self._input_checkpoint(loop, input, head), False

    def _input_tasks(self, input: Any) -> list[Task]:
        """The tasks a new input starts: ``__start__``'s, which writes it to the state."""
        return [Task(id="", name=START, path=(PULL, START), triggers=(START,), arg=input)]

    async def _input_checkpoint(
        self,
        loop: RunLoop,
        input: Any,
        head: CheckpointView | None,
        pending: list[Task] | None = None,
    ) -> list[Task]:
        """Record the checkpoint of a new input (``source: "input"``): the input's tasks
        next, then ``pending`` (an update made as ``__input__`` leaves them); the input's."""
        loop.step = head.step + 1 if head else -1
        tasks = self._input_tasks(input)
        if head is None and isinstance(input, Command) and input.update is not None:
            # A Command on a new thread is its input: LangGraph 1.2 applies its update twice,
            # as the input's own writes (its checkpoint shows them), then as __start__'s.
            loop.apply_outcomes([await loop.update_outcome(tasks[0], input.update, route=False)])
        # A new thread's reducer keys start empty ([] for a list), as LangGraph's do; so do
        # those a thread another graph ran lacks.
        initial = [
            [name, "value", value]
            for name, value in loop.values.items()
            if value is not MISSING and (head is None or name not in head.values)
        ]
        if head is not None and head.next:
            # The input drops the tasks left pending there, which LangGraph counts as a step:
            # an ephemeral value, a topic without accumulate... empty. As LangGraph's, it
            # builds their inputs first: a state their node refuses fails the run here.
            for described in head.next:
                if described["name"] not in loop.graph.builder.nodes:
                    continue
                dropped = Task.from_description(described)
                loop.prepare_input(dropped)
                loop.forget_input(dropped)
            initial += loop.apply_outcomes([])
        await loop.checkpoint(source="input", changes=initial, tasks=[*tasks, *(pending or [])])
        return tasks

    async def _fork(self, loop: RunLoop, head: CheckpointView) -> list[Task]:
        """Time travel to ``head``, as LangGraph 1.2 does it: a ``fork`` checkpoint after it
        (its state and its next tasks, under new ids), whose tasks then all run again."""
        tasks = [Task.anew(described) for described in head.next]
        loop.step = head.step + 1
        await loop.checkpoint(source="fork", changes=[], tasks=tasks)
        return tasks

    def _cached_writes(self, head: CheckpointView, task_id: str) -> dict[str, Any]:
        """The writes of a task of ``head`` that an earlier attempt completed."""
        return dict(head.results[task_id])


def lifecycle(config: dict[str, Any], run_id: str) -> Any:
    """What tells the config's graph lifecycle handlers (``None`` when it has none)."""
    try:
        as_uuid: uuid.UUID | None = uuid.UUID(str(run_id))
    except ValueError:  # a run_id of the caller's that is no UUID
        as_uuid = None
    manager = get_sync_graph_callback_manager_for_config(config, as_uuid)
    return manager if manager.handlers else None


def travel_of(
    config: dict[str, Any], input: Any, head: CheckpointView | None, superseded: bool
) -> Travel:
    """Time travel, as LangGraph 1.2 tells it: a checkpoint addressed by ``checkpoint_id``
    and not to answer its interrupts; continuing from it (``None`` or a ``Command``) records a
    ``fork`` checkpoint first, unless it is an update's or a fork's at the thread's head."""
    addressed = bool((config.get("configurable") or {}).get("checkpoint_id"))
    answers = isinstance(input, Command) and input.resume is not None
    traveling = addressed and not answers
    continuing = head is not None and (input is None or isinstance(input, Command))
    forks = (
        continuing
        and traveling
        and head is not None
        and (head.source not in ("update", "fork") or superseded)
    )
    return Travel(traveling=traveling, superseded=superseded, forks=forks)


def _is_id_map(resume: Any) -> bool:
    """Whether ``resume`` answers interrupts by id (LangGraph's test: a dict whose keys are
    all interrupt ids, 32 hex digits), not one value for whichever waits."""
    return isinstance(resume, dict) and all(_INTERRUPT_ID.fullmatch(str(k)) for k in resume)


_INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")


_MANY_PENDING = (
    "When there are multiple pending interrupts, you must specify the interrupt id when "
    "resuming. Docs: https://docs.langchain.com/oss/python/langgraph/interrupts"
    "#handling-multiple-interrupts."
)


def resume_values(resume: Any, head: CheckpointView) -> dict[str, Any]:
    """Which pending task each resume value answers: by interrupt id, or the one waiting task.

    Raises:
        RuntimeError: one value for several pending interrupts (LangGraph's words).
    """
    waiting = [t for t in head.interrupted_order if t not in head.results]
    ids = {i.id for t in waiting for i in head.interrupts[t]}
    if isinstance(resume, dict) and resume and set(resume) <= ids:
        out: dict[str, Any] = {}
        for task_id in waiting:
            for interrupt in head.interrupts[task_id]:
                if interrupt.id in resume:
                    out[task_id] = resume[interrupt.id]
        return out
    if len(ids) > 1:
        raise RuntimeError(_MANY_PENDING)
    return {task_id: resume for task_id in waiting}


def trace_context() -> dict[str, str] | None:
    """The caller's OpenTelemetry span context, if a span is active (recorded at run start)."""
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "trace_flags": f"{int(context.trace_flags):02x}",
    }
