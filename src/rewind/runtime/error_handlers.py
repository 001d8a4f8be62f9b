"""Node error handlers, as LangGraph 1.2's: a failed node handed to the node that handles it.

A node added with ``error_handler=`` (or any regular node of a graph whose
``set_node_defaults(error_handler=...)`` names one) does not fail the run when it fails for
good (its retries spent): in the same step, a task of the handler's node
(``__error_handler__<node>``, or ``__default_error_handler__``) runs with the failed node's
input and, through a parameter ``error: NodeError``, the node's name and its error. What the
handler returns (an update, a ``Command`` whose ``goto`` says where to go next) takes the
failed node's place in the step; the failed node has no edges to follow, so without a ``goto``
the path ends there. A handler that fails fails the run with its own error (no handler catches
a handler); one that calls ``interrupt()`` stops the step as a node would.

Recorded as LangGraph streams it: the failed node's ``task.failed`` (its ``task_result`` with
the error), then the handler's ``task.started``, whose ``handles`` names the failed task (a
handler's start is no ``task`` chunk: LangGraph schedules it outside the step's announced
tasks), and its ``task.ended``, ``task.failed`` or ``interrupt``, as any task's. The state
keeps the failed task's error on the checkpoint the step ran from; the handler is not one of
that checkpoint's tasks.

A run resumed from that checkpoint (the handler failed, or interrupted) runs the handler again,
not the failed node, as LangGraph's: with the error as the checkpoint kept it (see
:meth:`ErrorHandling.handled_failures`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rewind.errors import GraphBubbleUp, NodeError
from rewind.events import PUSH, EventType, new_uuid4, task_id_for
from rewind.runtime.channels import MISSING
from rewind.runtime.tasks import Outcome, Task, task_event

if TYPE_CHECKING:
    from rewind.events import NewEvent
    from rewind.projections.state import CheckpointView
    from rewind.runtime.graph import NodeSpec

__all__ = ["HANDLER_PATH", "ErrorHandling", "FailedBefore"]

HANDLER_PATH = "node_error_handler"
"""The part of a handler task's path that says so (LangGraph's): the failed task's path up to
three parts, this, ``False``."""


class FailedBefore(Exception):
    """A resumed task an earlier run saw fail, which its error handler handles: it is not run
    again; its handler is, with ``error`` (the failure as the checkpoint kept it: its repr,
    as LangGraph's checkpoint gives it back)."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


class ErrorHandling:
    """The part of the run loop that hands a failed node to its error handler."""

    if TYPE_CHECKING:
        ns: str
        checkpoint_id: str | None
        _prepared: dict[str, Any]

        @property
        def graph(self) -> Any: ...

        async def emit(self, event: NewEvent) -> None: ...

        def task_ns(self, task: Task) -> str: ...

        @property
        def log(self) -> Any: ...

    def error_handler_of(self, task: Task, exc: BaseException) -> str | None:
        """The node that handles this failure of ``task``, if one does: not a signal (an
        interrupt, a parent command), not a handler's own failure."""
        if isinstance(exc, GraphBubbleUp) or not isinstance(exc, Exception):
            return None
        spec: NodeSpec | None = self.graph.builder.nodes.get(task.name)
        if spec is None or spec.is_error_handler or task.root is not None:
            return None
        return spec.error_handler_node

    async def handle_failure(self, task: Task, exc: Exception, step: int) -> Task | Outcome | None:
        """What takes the place of ``task``, which failed with ``exc`` for good: its error
        handler's task (started); for a low-level program's node named in its
        ``node_error_handler_map``, which gives it no handler, an outcome of no writes (as
        LangGraph's ``Pregel`` treats it: the failure is handled, nothing handles it); else
        ``None`` (the failure fails the run)."""
        if (handler := self.error_handler_of(task, exc)) is not None:
            return await self.start_handler(task, handler, exc, step)
        mapped = getattr(self.graph, "node_error_handler_map", None) or {}
        if task.name in mapped and task.name not in mapped.values() and task.root is None:
            return None if isinstance(exc, GraphBubbleUp) else Outcome(task=task, update=None)
        return None

    def handled_before(self, task: Task, head: CheckpointView) -> Any:
        """The error ``task`` failed with in the run that left ``head``, if its node's error
        handler handles it (the handler ran, and failed or interrupted: it runs again)."""
        return head.errors[task.id] if task.id in self.handled_failures(head) else None

    def handled_failures(self, head: CheckpointView) -> list[str]:
        """The ids of ``head``'s tasks that failed in the run that left it, whose failure
        their node's error handler handles (a subgraph left so resumes there, as when
        interrupted: its handler may have been)."""
        nodes = self.graph.builder.nodes
        return [
            t["id"]
            for t in head.next
            if t["id"] in head.errors
            and t["id"] not in head.interrupts
            and (spec := nodes.get(t["name"])) is not None
            and not spec.is_error_handler
            and spec.error_handler_node is not None
        ]

    def handler_task(self, failed: Task, handler: str, error: Any, step: int) -> Task:
        """The task of ``handler`` for ``failed``'s ``error``: its id derived from the failed
        task's, so a resume runs the same task again."""
        path = (*failed.path[:3], HANDLER_PATH, False)
        task = Task(
            id=task_id_for(
                self.checkpoint_id or "", self.ns, step, handler, [PUSH, HANDLER_PATH, failed.id]
            ),
            name=handler,
            path=path,
            triggers=(PUSH,),
        )
        task.node_error = NodeError(node=failed.name, error=error)
        task.resume = list(failed.resume)  # (a resumed subgraph's answers for its interrupts)
        # As LangGraph's: the handler runs under the failed task's namespace
        # (``weather:<id>|__error_handler__weather:<id>``).
        task.caller_ns = self.task_ns(failed)
        return task

    async def start_handler(self, failed: Task, handler: str, error: Exception, step: int) -> Task:
        """Record the start of ``failed``'s handler task, given the failed node's input (as
        LangGraph gives it), and return it to run."""
        before = isinstance(error, FailedBefore)
        given = error.error if isinstance(error, FailedBefore) else error
        task = self.handler_task(failed, handler, given, step)
        payload: dict[str, Any] = {
            "triggers": list(task.triggers),
            "path": list(task.path),
            "handles": f"{failed.name}:{failed.id}",
        }
        if before:  # as LangGraph's: a resumed step's handler task is announced with its tasks
            payload["announced"] = True
        node_input = failed.node_input
        if node_input is MISSING:  # (not run: a resumed step's)
            node_input = self._prepared.pop(failed.id, MISSING)
        if node_input is not MISSING:
            self._prepared[task.id] = node_input
            payload["input"] = node_input
        task.run_id = payload["run_id"] = new_uuid4()
        task.seq = self.log.seq
        await self.emit(task_event(EventType.TASK_STARTED, task, step, payload))
        return task
