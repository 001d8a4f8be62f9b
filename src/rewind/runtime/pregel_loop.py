"""The executor of a low-level ``Pregel`` program's runs (:class:`PregelLoop`): a node's task is
started by the channels the step before updated (or a ``Send``), reads its channels, runs its
function and its writers, and its writes apply as LangGraph's ``apply_writes`` applies them
(:mod:`rewind.runtime.lowlevel` makes the program)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewind.events import PULL, PUSH, EventType
from rewind.managed.base import Scratchpad
from rewind.projections.state import recorded_writes
from rewind.runtime.chains import storable
from rewind.runtime.channels import HIDDEN, MISSING, hidden_key, value_change
from rewind.runtime.pregel import RunLoop
from rewind.runtime.pregel_nodes import (
    TASKS,
    PregelNode,
    node_input,
    node_sequence,
    node_writes,
    runs_writers,
    streamed_last,
    traced_step,
    untraced,
    whole_run,
    writers_run,
)
from rewind.runtime.tasks import Outcome, Task, task_event
from rewind.types import Send

if TYPE_CHECKING:
    from rewind.runtime.lowlevel import Pregel

__all__ = ["RAN", "NodeOutcome", "PregelLoop", "WaitingTask", "node_triggers"]

logger = logging.getLogger("rewind")

UPDATE = "__update__"
"""The path of a state update's task (made as a node: see :mod:`rewind.runtime.updating`)."""

RAN = "__pregel_ran__"
"""Where a thread's checkpoints keep the nodes that have run on it (with the joins' progress:
LangGraph keeps it as the versions each node has seen)."""


@dataclass(kw_only=True, slots=True)
class WaitingTask(Task):
    """A next task a checkpoint lists that its run does not run (a node that has not run yet
    and subscribes to a channel with a value, while the step updated other channels): the
    state shows it, the stream's checkpoint chunks do not, a resume there runs it, as in
    LangGraph."""

    def describe(self) -> dict[str, Any]:
        """How a checkpoint records it: marked ``waiting``."""
        return {**Task.describe(self), "waiting": True}


class PregelLoop(RunLoop):
    """The executor of a ``Pregel`` program's runs: tasks started by updated channels."""

    graph: Pregel

    def __init__(self, graph: Any, **kwargs: Any) -> None:
        super().__init__(graph, **kwargs)
        self.updated: set[str] = set()
        """The channels the last step updated (and that have a value)."""
        self.output: Any = None
        """What ``invoke`` returns: the output as of the last step that wrote to it."""
        self._deadline: float | None = None
        """When the running step's tasks time out (the program's ``step_timeout``)."""
        self.as_listed = False
        """Whether the next step's tasks are announced as its checkpoint lists them, in node
        order (a run resumed at a checkpoint of state updates: see :meth:`announced`)."""
        self._made: dict[str, list[tuple[str, Any]]] = {}
        """Per task id: the writes its running attempt's ``ChannelWrite`` writers made (see
        :meth:`kept_writes`)."""
        self._kept: dict[str, NodeOutcome] = {}
        """Per task id: the outcome of the writes a failed task made before it failed."""

    def apply_outcomes(self, outcomes: list[Outcome]) -> list[list[Any]]:
        """Apply the step's writes as LangGraph's ``apply_writes`` does: the channels the
        step's tasks subscribe to consumed first (a barrier waits again, an after-finish value
        empties), then the writes; when no node would run on what they updated, the
        after-finish channels finish (readable: those subscribed to start their nodes).
        Remember which channels the step updated, and the output if it wrote to it."""
        consumed = self.consume([o.task.triggers for o in outcomes]) if self.hides else []
        held = {k: v for k, v in self.barriers.items() if k.startswith(HIDDEN)}
        changes = super().apply_outcomes(outcomes)
        changed = {c[0] for c in changes}
        changes += [
            value_change(self.channels[n], self.values[n]) for n in consumed if n not in changed
        ]
        self.updated = {
            name
            for name, kind, _ in changes
            if kind != "clear"
            and self.values[name] is not MISSING
            # (a barrier written a name it had seen: not updated, in LangGraph)
            and not (
                self.channels[name].hidden
                and self.barriers.get(hidden_key(name)) == held.get(hidden_key(name))
            )
        }
        if outcomes and self.hides and self.updated.isdisjoint(self.graph.trigger_to_nodes):
            start = len(self.finished_channels)
            self.finish_channels()
            self.updated |= {c[0] for c in self.finished_channels[start:] if c[1] != "clear"}
        written = {name for o in outcomes for name, _ in o.writes}
        outputs = set(self.graph.output_list)
        if written & outputs and self.updated & outputs:
            self.output = self.graph._output(self.state())
        # (a state update made as a node is not the node running: LangGraph's node has not
        # seen its channels then, and runs on them still)
        ran = {o.task.name for o in outcomes if o.task.path[:1] != (UPDATE,)}
        if ran:
            self.barriers[RAN] = sorted(self.ran | ran)
        return changes

    def consume(self, triggers: list[Sequence[str]]) -> list[str]:
        """Consume the hidden channels tasks subscribe to (their ``triggers``: LangGraph's
        ``consume()``); the channels that changed."""
        consumed: list[str] = []
        for names in triggers:
            for name in names:
                channel = self.channels.get(name)
                if channel is None or not channel.hidden or name in consumed:
                    continue
                key = hidden_key(name)
                after = channel.consume_hidden(self.barriers.get(key))
                if after is not None:
                    self.barriers[key], self.values[name] = after
                    consumed.append(name)
        return consumed

    @property
    def ran(self) -> set[str]:
        """The nodes that have run on the thread."""
        return set(self.barriers.get(RAN, ()))

    def next_tasks(self, outcomes: list[Outcome]) -> list[Task]:
        """The nodes the step's updates start; when it updated none, also the nodes that
        have not run yet and subscribe to a channel that has a value (as LangGraph's)."""
        pushes = self._pushes(outcomes)
        tasks = [*pushes, *self.graph.triggered(self.values, self.updated)]
        # (LangGraph's full scan: when the step updated nothing, a Send counting as an update)
        if (not self.updated and not pushes) or not self.graph.trigger_to_nodes:
            tasks = self.with_waiting(tasks, kind=Task)
        return tasks

    def _pushes(self, outcomes: list[Outcome]) -> list[Task]:
        """The tasks the step's ``Send`` writes start, first, in the order they were written
        (one to a node the program lacks is dropped, as LangGraph drops it)."""
        tasks = []
        sends = [s for o in outcomes for s in o.goto if isinstance(s, Send)]
        for i, send in enumerate(sends):
            if send.node not in self.graph.pregel_nodes:
                logger.warning(f"Ignoring unknown node name {send.node} in pending sends")
                continue
            tasks.append(Task.of_send(send, i))
        return tasks

    def next_after_update(self, outcomes: list[Outcome], head: Any) -> list[Task]:
        """The next tasks of a checkpoint of state updates, as LangGraph's, whose nodes run on
        the channel versions they have not seen: the nodes the updates start, those the
        checkpoint updated (``head``) left pending while a channel that started them still
        has a value, and those that have not run yet and subscribe to a channel that has one
        (none of them waiting: a resume there runs them all, in node order)."""
        tasks = self.next_tasks(outcomes)
        named = {t.name for t in tasks if t.path[0] == PULL}
        for described in head.next if head is not None else ():
            name = described["name"]
            node = self.graph.pregel_nodes.get(name)
            if node is None or name in named or described.get("path", [PULL])[0] != PULL:
                continue
            triggers = described.get("triggers") or ()
            if all(self.values.get(c, MISSING) is MISSING for c in triggers):
                continue
            arg = node_input(node, self.values)
            if arg is not MISSING:
                named.add(name)
                tasks.append(
                    Task(id="", name=name, path=(PULL, name), triggers=node_triggers(node), arg=arg)
                )
        return self.with_waiting(tasks)

    def announced(self, tasks: list[Task]) -> list[Task]:
        """As a step's, but those of a run resumed at a checkpoint of state updates: as it
        lists them, in node order (LangGraph finds them looking at every node, not at the
        channels a step updated, whose nodes it takes by name)."""
        if self.as_listed:
            self.as_listed = False
            return list(tasks)
        return super().announced(tasks)

    def with_waiting(self, tasks: list[Task], *, kind: type[Task] = Task) -> list[Task]:
        """``tasks`` and, in node order, the nodes that have not run yet and subscribe to a
        channel that has a value (LangGraph lists them as next tasks), as ``kind``; the tasks
        of ``Send`` packets first."""
        pushes = [t for t in tasks if t.path[0] == PUSH]
        named = {t.name: t for t in tasks if t.path[0] != PUSH}
        ran = self.ran
        for name, node in self.graph.pregel_nodes.items():
            if name in named or name in ran:
                continue
            if all(self.values.get(c, MISSING) is MISSING for c in node.triggers):
                continue
            arg = node_input(node, self.values)
            if arg is not MISSING:
                named[name] = kind(
                    id="", name=name, path=(PULL, name), triggers=node_triggers(node), arg=arg
                )
        order = list(self.graph.pregel_nodes)
        pulls = sorted(named.values(), key=lambda t: order.index(t.name) if t.name in order else -1)
        return [*pushes, *pulls]

    async def checkpoint(self, *, source: str, changes: list[list[Any]], tasks: list[Task]) -> None:
        """Record the end of a step; its next tasks include the nodes that have not run yet
        and subscribe to a channel that has a value, as LangGraph's (it runs them only when a
        step updated no channel, or when the run resumes there)."""
        listed = self.with_waiting(tasks, kind=WaitingTask)
        await super().checkpoint(source=source, changes=changes, tasks=listed)

    async def update_outcome(self, task: Task, values: Any, *, route: bool) -> Outcome:
        """A state update made as a node (``update_state(..., as_node=...)``): the values go
        through the node's writes as its result would, as LangGraph's do."""
        node = self.graph.pregel_nodes.get(task.name)
        if node is None:
            return await super().update_outcome(task, values, route=route)
        made = await writers_run(node, values) if runs_writers(node) else node_writes(node, values)
        writes = [(c, v) for c, v in made if c in self.channels]
        return Outcome(task=task, update=values, writes=writes)

    async def super_step(self, tasks: list[Task]) -> list[Task]:
        """Run one step; with the program's ``step_timeout``, a step whose tasks outlast it
        fails with a ``TimeoutError``, as LangGraph's runner fails it (see
        :meth:`_run_task`)."""
        timeout = self.graph.step_timeout
        if not timeout:
            return await super().super_step(tasks)
        self._deadline = self.loop.time() + timeout
        try:
            return await super().super_step(tasks)
        finally:
            self._deadline = None

    async def _run_task(self, task: Task, step: int, raised: list[Any]) -> Outcome:
        """A task of a step with a deadline: past it, run from the async API, the task is
        cancelled (its error a ``CancelledError``) and the step fails with a bare
        ``TimeoutError``; from the sync API (whose threads LangGraph cannot cancel) it
        finishes, its writes kept, and the step fails with ``TimeoutError("Timed out")``."""
        if self._deadline is None:
            return await super()._run_task(task, step, raised)
        running = asyncio.ensure_future(super()._run_task(task, step, raised))
        try:
            return await asyncio.wait_for(
                asyncio.shield(running), max(0.0, self._deadline - self.loop.time())
            )
        except TimeoutError:
            if not running.done():
                if self.sync_api:
                    with contextlib.suppress(Exception):
                        await running
                    raise TimeoutError("Timed out") from None
                running.cancel()
                with contextlib.suppress(BaseException):
                    await running
                cancelled = asyncio.CancelledError()
                failed = {
                    "type": "CancelledError",
                    "message": "",
                    "repr": repr(cancelled),
                    "traceback": "",
                    "attempt": task.attempt,
                    "retrying": False,
                    "error": cancelled,
                    "cancelled": True,  # (streamed by no mode: LangGraph saves it after)
                }
                self.record(task_event(EventType.TASK_FAILED, task, step, failed))
                raise TimeoutError() from None
            raise

    def refused_alone(self, writes: list[tuple[str, Any]]) -> bool:
        """As a state graph's, unless the program's steps are timed or it streams eagerly
        (LangGraph's runner then waits for each task's chunks)."""
        if self.graph.step_timeout or self.graph.stream_eager:
            return False
        return super().refused_alone(writes)

    def ended_payload(self, outcome: Outcome, *, cached: bool = False) -> dict[str, Any]:
        """A task's ``task.ended``, with what its function ``returned``; marked ``late`` when
        it ended after its step timed out (a sync run's: LangGraph saves its writes after the
        stream ended, unstreamed)."""
        payload = super().ended_payload(outcome, cached=cached)
        if isinstance(outcome, NodeOutcome):
            payload["returned"] = storable(outcome.returned)
        if self._deadline is not None and self.loop.time() >= self._deadline:
            payload["late"] = True
        return payload

    def prepare_input(self, task: Task) -> Any:
        """A node's input: what it read of its channels when its task was made, with the
        managed values it reads given for the step it runs in (as LangGraph's, in the order
        of its channels)."""
        node = self.graph.pregel_nodes.get(task.name)
        if node is None:
            return super().prepare_input(task)
        if task.id in self._prepared:
            return self._prepared[task.id]
        if task.path[0] != PULL:  # a Send's task: its packet's argument
            self._prepared[task.id] = task.arg
            return task.arg
        managed = self.graph.managed
        arg = task.arg
        if node.mapper is not None:  # what it read (a task made earlier recorded it mapped)
            arg = node_input(node, self.values)
            if arg is MISSING:
                arg = task.arg
        reads = node.channels if isinstance(node.channels, list) else []
        if isinstance(arg, dict) and any(c in managed for c in reads):
            pad = Scratchpad(step=self.step + 1, stop=self.stop)
            arg = {
                c: managed[c].get(pad) if c in managed else arg[c]
                for c in reads
                if c in managed or c in arg
            }
        if node.mapper is not None:
            arg = node.mapper(arg)
        task.arg = arg
        self._prepared[task.id] = arg
        return arg

    def runnable_name(self, task: Task, action: Any) -> str:
        """A ``Pregel`` node's runnable is named after its function, as in LangGraph."""
        return str(getattr(action, "__name__", None) or task.name)

    def started_marks(self, task: Task) -> dict[str, Any]:
        """A node that runs no function, only ``ChannelWrite`` writers, is marked
        ``untraced``: it is no run of its own (LangGraph's writers are none). One whose whole
        run is one runnable is marked ``whole``: that runnable's run is the node's (see
        :func:`~rewind.runtime.pregel_nodes.whole_run`). One whose last step streams its
        output as it comes names that step (``streamed_last``: see
        :func:`~rewind.runtime.pregel_nodes.streamed_last`)."""
        node = self.graph.pregel_nodes.get(task.name)
        if node is None:
            return {}
        if untraced(node):
            return {"untraced": True}
        if whole_run(node) is not None:
            return {"whole": True}
        last = streamed_last(node) if runs_writers(node) or not node.writers else None
        return {"streamed_last": last} if last is not None else {}

    async def _execute(self, task: Task, step: int) -> Outcome:
        node = self.graph.pregel_nodes[task.name]
        self._prepared.pop(task.id, None)
        task.sent = []
        task.node_input = task.arg
        made: list[tuple[str, Any]] = []
        whole = whole_run(node)
        if whole is not None:  # one runnable, run as the node (no writes of its writers)
            result = await self._call(whole, task.arg, task, step, whole=True)
        elif runs_writers(node):  # its function(s) and writers, a sequence (see node_sequence)
            self._made[task.id] = made  # (kept if a writer after them fails: kept_writes)
            result = await self._call(node_sequence(node, made), task.arg, task, step)
            del self._made[task.id]
        elif untraced(node):  # its writers alone, of its input (no call, no run)
            result = task.arg
            made = node_writes(node, result)
        else:
            action = traced_step(self.graph.builder.nodes[task.name].action)
            result = await self._call(action, task.arg, task, step)
            made = node_writes(node, result)
        return self._outcome(task, made, result)

    def kept_writes(self, task: Task) -> dict[str, Any]:
        """What a node's ``ChannelWrite`` writers wrote before a writer after them failed
        (its last attempt), recorded with its failure as a task's end records its writes:
        LangGraph keeps them as the task's writes (it counts as finished: they stream, apply
        to the state, and a resume does not run it again)."""
        made = self._made.pop(task.id, None)
        if not made:
            return {}
        outcome = self._outcome(task, made, None)
        if not outcome.writes:  # (its Send packets are not kept)
            return {}
        outcome.goto = []
        self._kept[task.id] = outcome
        kept: dict[str, Any] = {"update": outcome.update}
        writes = recorded_writes(outcome.writes)
        if writes != outcome.update:
            kept["writes"] = writes
        return kept

    async def handle_failure(self, task: Task, exc: Exception, step: int) -> Task | Outcome | None:
        """As a graph's; a failure of a node its ``node_error_handler_map`` names ends its
        task with the writes it made before it failed, kept (see :meth:`kept_writes`), as
        LangGraph applies them."""
        handled = await super().handle_failure(task, exc, step)
        kept = self._kept.pop(task.id, None)
        if isinstance(handled, Outcome) and handled.task is task and kept is not None:
            return kept
        return handled

    def _outcome(self, task: Task, made: list[tuple[str, Any]], result: Any) -> NodeOutcome:
        """A node's outcome of the writes it made (``Send`` packets: tasks the next step) and
        what its function returned."""
        writes = []
        sends: list[str | Send] = []
        for channel, value in made:
            if channel == TASKS and isinstance(value, Send):
                sends.append(value)  # (a task the next step: see next_tasks)
            elif channel in self.channels:
                writes.append((channel, value))
            else:
                logger.warning(
                    f"Task {task.name} with path {task.path} wrote to unknown channel "
                    f"{channel}, ignoring it."
                )
        # (its result as LangGraph shows it: a channel written more than once, {"$writes": [...]})
        update: dict[str, Any] = {}
        for channel, value in writes:
            if channel not in update:
                update[channel] = value
            elif isinstance(update[channel], _Writes):
                update[channel]["$writes"].append(value)
            else:
                update[channel] = _Writes({"$writes": [update[channel], value]})
        update = {k: dict(v) if isinstance(v, _Writes) else v for k, v in update.items()}
        return NodeOutcome(
            task=task, update=update or None, writes=writes, goto=sends, returned=result
        )


@dataclass(kw_only=True, slots=True)
class NodeOutcome(Outcome):
    """What a ``Pregel`` node's task did: its update is its writes; ``returned``, what its
    function returned, is the output of its run (``astream_events``), as in LangGraph."""

    returned: Any = None


class _Writes(dict[str, list[Any]]):
    """Several writes of a task to one channel, as its result shows them."""


def node_triggers(node: PregelNode) -> tuple[str, ...]:
    """The channels that start a node, sorted (as a task records them)."""
    return tuple(sorted(node.triggers))
