"""State updates made from outside a run: ``update_state`` and ``bulk_update_state`` (a mixin
of :class:`~rewind.runtime.compiled.CompiledStateGraph`), with LangGraph 1.2's semantics.

A batch is recorded as one short run of its own, one checkpoint per super-step (``source``
``update``, or ``input`` and ``fork`` for the special ``as_node`` values below), so the log
shows who changed the state, when, and to what. Each update is written as if node ``as_node``
had returned ``values``: its reducers apply, and its edges say which tasks are next. Special
``as_node`` values, each alone in its super-step:

* ``"__input__"``: ``values`` is a new input (the next task is ``__start__``; the pending
  tasks stay);
* ``"__copy__"``: a copy of the checkpoint (``source: "fork"``, the same parent), then, when
  ``values`` is a list of ``(values, as_node)`` updates, those applied to the copy;
* ``END`` with ``values`` ``None``: the pending tasks are dropped (those that finished keep
  their writes).

Without ``as_node``, the update is the node's that ran last, when one node did (a fresh
thread's: ``__start__``); otherwise it is ambiguous and refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rewind.errors import InvalidUpdateError
from rewind.events import PULL, EventType, RunStatus, run_ended, run_started
from rewind.projections.state import CheckpointView, recorded_writes
from rewind.runtime.graph import END, START
from rewind.runtime.loops import run_sync
from rewind.runtime.read_back import read_back_with
from rewind.runtime.starting import RunStart
from rewind.runtime.state_api import checkpoint_state
from rewind.runtime.tasks import Outcome, Task, task_event
from rewind.thread_state import read_head
from rewind.types import StateUpdate

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from rewind.log import EventLog
    from rewind.runtime.graph import StateGraph
    from rewind.runtime.pregel import RunLoop

__all__ = ["StateUpdates"]

INPUT = "__input__"
COPY = "__copy__"


class StateUpdates(RunStart):
    """The state-update part of :class:`~rewind.runtime.compiled.CompiledStateGraph` (on its
    run-start part: an update made as ``__input__`` records an input's checkpoint)."""

    if TYPE_CHECKING:  # what the graph it is part of has
        builder: StateGraph[Any]
        checkpointer: Any
        name: str

        def _event_log(self) -> AbstractAsyncContextManager[EventLog]: ...
        def _thread_id(self, config: dict[str, Any] | None) -> str | None: ...
        def _run_loop(
            self,
            event_log: EventLog,
            config: dict[str, Any],
            durability: str | None,
            context: Any,
            head: CheckpointView | None,
        ) -> RunLoop: ...

    def update_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Write ``values`` to a thread as if node ``as_node`` returned them; a new
        checkpoint. Without ``as_node``: as the node that ran last."""
        return run_sync(self.aupdate_state(config, values, as_node=as_node, task_id=task_id))

    async def aupdate_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Write ``values`` to a thread as if node ``as_node`` returned them; a new
        checkpoint. Without ``as_node``: as the node that ran last."""
        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        """Apply ``supersteps`` to a thread in turn, each a list of updates made together (a
        checkpoint each); the config of the last checkpoint."""
        return run_sync(self.abulk_update_state(config, supersteps))

    async def abulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        """Apply ``supersteps`` to a thread in turn, each a list of updates made together (a
        checkpoint each); the config of the last checkpoint.

        Raises:
            ValueError: no checkpointer, no super-steps, or a super-step without updates.
            InvalidUpdateError: an update names no node of the graph, or is ambiguous.
        """
        if self.checkpointer is None:
            raise ValueError("No checkpointer set")
        if len(supersteps) == 0:
            raise ValueError("No supersteps provided")
        if any(len(updates) == 0 for updates in supersteps):
            raise ValueError("No updates provided")
        batches = [[_update_of(u) for u in updates] for updates in supersteps]
        thread_id = self._thread_id(config)
        assert thread_id is not None
        read_back = read_back_with(self.checkpointer)
        async with self._event_log() as event_log:
            wanted = (config.get("configurable") or {}).get("checkpoint_id")
            if wanted is None:
                head = (await read_head(event_log, thread_id, read_back=read_back)).view
            else:
                found = await checkpoint_state(event_log, thread_id, wanted, read_back=read_back)
                head = found.view if found is not None else None
            # Checked before anything is recorded: a refused batch leaves no trace.
            batches[0] = await self._named(event_log, thread_id, head, batches[0])
            for updates in batches[1:]:
                _check_names(self, updates)
            loop: RunLoop = self._run_loop(event_log, config, "sync", None, head)
            extra: dict[str, Any]
            if len(batches) == 1 and len(batches[0]) == 1:
                update = batches[0][0]
                extra = {"update": update.values, "as_node": update.as_node}
            else:
                extra = {"supersteps": [[u._asdict() for u in updates] for updates in batches]}
            await loop.emit(
                run_started(
                    thread_id=thread_id,
                    graph=self.name,
                    origin_run_id=head.run_id if head else None,
                    origin_checkpoint_id=head.id if head else None,
                    extra=extra,
                )
            )
            for i, updates in enumerate(batches):
                if i:
                    head = (await read_head(event_log, thread_id, read_back=read_back)).view
                    updates = await self._named(event_log, thread_id, head, updates)
                    # As LangGraph's: a later super-step is made with the config of the
                    # checkpoint before it, so the caller's metadata and configurable values
                    # are in the first one's metadata only.
                    loop.config = {
                        **loop.config,
                        "configurable": {"thread_id": thread_id, "checkpoint_ns": ""},
                        "metadata": {},
                    }
                await self._superstep(loop, head, updates)
            await loop.end(run_ended(RunStatus.SUCCESS))
            await event_log.flush(loop.run_id)
            return {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": "",
                    "checkpoint_id": loop.checkpoint_id,
                }
            }

    async def _named(
        self,
        event_log: EventLog,
        thread_id: str,
        head: CheckpointView | None,
        updates: list[StateUpdate],
    ) -> list[StateUpdate]:
        """``updates`` with the node of a lone update without one inferred; checked."""
        if len(updates) == 1 and updates[0].as_node is None:
            inferred = await self._infer_as_node(event_log, thread_id, head)
            if inferred is None:
                raise InvalidUpdateError("Ambiguous update, specify as_node")
            updates = [updates[0]._replace(as_node=inferred)]
        _check_names(self, updates)
        return updates

    async def _infer_as_node(
        self, event_log: EventLog, thread_id: str, head: CheckpointView | None
    ) -> str | None:
        """The node that ran last on the thread, up to ``head`` (LangGraph's: the one that saw
        the newest channel version): the tasks of the newest step that ran pulled tasks; a
        fresh thread's is ``__start__``. ``None`` when two ran together (ambiguous)."""
        view = head
        while view is not None and view.parent_id is not None:
            parent = await checkpoint_state(event_log, thread_id, view.parent_id, read_back=None)
            if parent is None or parent.view is None:
                break
            if view.source == "loop":
                pulled = [
                    t["name"]
                    for t in parent.view.next
                    if t.get("path", [PULL])[0] == PULL and t.get("triggers")
                ]
                if len(pulled) == 1:
                    return str(pulled[0])
                if pulled:
                    return None
            view = parent.view
        return START

    async def _superstep(
        self, loop: RunLoop, head: CheckpointView | None, updates: list[StateUpdate]
    ) -> None:
        """One super-step of updates: recorded as the tasks of a step, then a checkpoint."""
        first = updates[0]
        special = first.as_node in (INPUT, COPY) or (first.values is None and first.as_node == END)
        if special and len(updates) > 1:
            what = {INPUT: "updating as input", COPY: "copying checkpoint"}.get(
                str(first.as_node), "clearing state"
            )
            raise InvalidUpdateError(f"Cannot apply multiple updates when {what}")
        step = (head.step if head else -1) + 1
        if first.as_node == INPUT:
            await self._as_input(loop, head, first.values)
            return
        if first.as_node == COPY:
            await self._copy(loop, head, first.values)
            return
        if special:  # END: drop the pending tasks, keep what finished ones wrote
            await self._clear(loop, head, step)
            return
        pending: dict[str, list[str]] = {}
        for described in head.next if head else []:
            pending.setdefault(described["name"], []).append(described["id"])
        outcomes: list[Outcome] = []
        for update in updates:
            name = str(update.as_node)
            ids = pending.get(name)
            task_id = update.task_id or (ids.pop(0) if ids else str(uuid.uuid4()))
            task = Task(id=task_id, name=name, path=("__update__",), triggers=())
            outcome = await loop.update_outcome(task, update.values, route=True)
            ended = {"update": update.values, "writes": recorded_writes(outcome.writes)}
            loop.record(task_event(EventType.TASK_ENDED, task, step, ended))
            outcomes.append(outcome)
        changes = loop.apply_outcomes(outcomes)
        loop.step = step
        self._keep_joined(loop, head)
        tasks = loop.next_after_update(outcomes, head)
        await loop.checkpoint(source="update", changes=changes, tasks=tasks)

    def _keep_joined(self, loop: RunLoop, head: CheckpointView | None) -> None:
        """A pending task a waiting edge started stays pending (LangGraph's barrier channel
        keeps its value through an update; the other triggers are cleared by it)."""
        joins = {
            f"join:{'+'.join(starts)}:{end}": starts for starts, end in self.builder.waiting_edges
        }
        for described in head.next if head else []:
            for trigger in described.get("triggers") or ():
                if trigger in joins:
                    loop.barriers[trigger] = sorted(joins[trigger])

    async def _as_input(self, loop: RunLoop, head: CheckpointView | None, values: Any) -> None:
        """``values`` as a new input: ``__start__`` is next, the pending tasks stay."""
        if values is None:
            raise InvalidUpdateError(f"Received no input writes for {START}")
        pending = [Task.anew(d) for d in head.next] if head else []
        await self._input_checkpoint(loop, values, head, pending)

    async def _copy(self, loop: RunLoop, head: CheckpointView | None, values: Any) -> None:
        """A copy of ``head`` beside it (the same parent), then ``values``' updates on it."""
        if head is None:
            raise InvalidUpdateError("Cannot copy a non-existent checkpoint")
        loop.checkpoint_id = head.parent_id  # (the copy's parent: the original's)
        tasks = await self._fork(loop, head)
        if not isinstance(values, list) or not values:
            return
        updates = []
        item: Any
        for item in values:
            if not isinstance(item, Sequence) or isinstance(item, str | bytes):
                shown = str(item)  # (LangGraph's words)
                raise InvalidUpdateError(f"Invalid update item: {shown} when copying checkpoint")
            updates.append(StateUpdate(item[0], item[1] if len(item) > 1 else None))
        copied = CheckpointView(
            id=str(loop.checkpoint_id),
            parent_id=head.parent_id,
            run_id=loop.run_id,
            step=loop.step,
            source="fork",
            ts=None,
            values=head.values,
            barriers=head.barriers,
            next=[t.describe() for t in tasks],
        )
        _check_names(self, updates)
        await self._superstep(loop, copied, updates)

    async def _clear(self, loop: RunLoop, head: CheckpointView | None, step: int) -> None:
        """``END``: the pending tasks dropped; the writes of those that finished applied."""
        outcomes = []
        for described in head.next if head else []:
            task = Task.from_description(described)
            if head is not None and task.id in head.results:
                outcomes.append(await loop.update_outcome(task, head.results[task.id], route=True))
        changes = loop.apply_outcomes(outcomes)
        loop.step = step
        next_tasks = loop.next_tasks(outcomes) if outcomes else []
        await loop.checkpoint(source="update", changes=changes, tasks=next_tasks)


def _update_of(update: Any) -> StateUpdate:
    """A ``StateUpdate`` of a tuple or a ``StateUpdate`` (LangGraph takes both)."""
    if isinstance(update, StateUpdate):
        return update
    is_tuple = isinstance(update, Sequence) and not isinstance(update, str | bytes)
    if is_tuple and 1 <= len(update) <= 3:
        return StateUpdate(*update)
    raise InvalidUpdateError(f"Invalid update {update!r}: expected (values, as_node, task_id)")


def _check_names(graph: Any, updates: list[StateUpdate]) -> None:
    """Each update names a node of the graph (or a special ``as_node`` alone)."""
    if len(updates) > 1 and any(u.as_node is None for u in updates):
        raise InvalidUpdateError("as_node is required when applying multiple updates")
    for update in updates:
        name = update.as_node
        if name in (INPUT, COPY, END, START):
            continue
        if name not in graph.builder.nodes:
            raise InvalidUpdateError(f"Node {name} does not exist")
