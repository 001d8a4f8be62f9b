"""Where finished tasks lead: static edges, joins (waiting edges) and conditional edges, whose
routing functions' decisions are recorded with the task's end; the next step's tasks."""

from __future__ import annotations

import inspect
import uuid
from typing import TYPE_CHECKING, Any

from rewind.events import PULL
from rewind.managed.base import Scratchpad
from rewind.projections.state import with_managed as merged_in_order
from rewind.runtime.channels import MISSING, Channel, hidden_key, value_change
from rewind.runtime.graph import END, START, Branch
from rewind.runtime.shapes import coerce, key_order
from rewind.runtime.tasks import Outcome, Task, injected_kwargs
from rewind.types import Send

if TYPE_CHECKING:
    from rewind.runtime.compiled import CompiledStateGraph

__all__ = ["DEFERRED", "Routing"]

DEFERRED = "__deferred__"
"""The key, among the join progress a checkpoint keeps, of the deferred nodes reached and not
run yet."""


def first_branch_step(builder: Any, node: str) -> int:
    """The ``seq:step:N`` tag of the run of ``node``'s first routing function (its next ones
    count on), as LangGraph's: a node runs as a sequence of its function (none for the
    input's node), its state write, one write per static edge and join it starts (to a node,
    not to ``END``), then its routing functions. The usual 3 (2 for the input's node) is not
    recorded; a decision records another in ``seq_step``."""
    edges = sum(1 for start, end in builder.edges if start == node and end != END)
    joins = sum(1 for starts, end in builder.waiting_edges if node in starts and end != END)
    return usual_branch_step(node) + edges + joins


def usual_branch_step(node: str) -> int:
    """The ``seq:step:N`` of a node's first routing function when nothing comes between its
    write and it: 3 (its function, its write), 2 for the input's node (no function)."""
    return 2 if node == START else 3


class Routing:
    """The routing part of :class:`~rewind.runtime.pregel.RunLoop` (a mixin)."""

    graph: CompiledStateGraph
    values: dict[str, Any]
    channels: dict[str, Channel]
    barriers: dict[str, list[str]]
    finished_channels: list[list[Any]]
    hides: bool
    config: dict[str, Any]
    store: Any
    step: int
    stop: int
    _state_only: frozenset[str] | None

    def apply_hidden(self, channel: Channel, writes: list[Any]) -> Any:
        """Apply writes to a channel that holds more than it shows (``LastValueAfterFinish``,
        a named barrier), keeping what it holds with the join progress; the value it shows."""
        key = hidden_key(channel.name)
        state, shown = channel.apply_hidden(self.barriers.get(key), writes)
        self.barriers[key] = state
        return shown

    def finish_channels(self) -> None:
        """The run is about to finish (no node but deferred ones would run next): the
        channels that wait for it show their value, as LangGraph's ``finish()`` makes them;
        their changes go with the next checkpoint."""
        for name, channel in self.channels.items():
            if not channel.hidden:
                continue
            key = hidden_key(name)
            finished = channel.finish_hidden(self.barriers.get(key))
            if finished is None:
                continue
            self.barriers[key], self.values[name] = finished
            self.finished_channels.append(value_change(channel, self.values[name]))

    def managed_values(self) -> dict[str, Any] | None:
        """The managed values (``RemainingSteps``...) a task of the step being run reads;
        ``None`` when the graph has none."""
        managed = self.graph.builder.schemas.managed
        if not managed:
            return None
        scratchpad = Scratchpad(step=self.step + 1, stop=self.stop)
        return {k: m.get(scratchpad) for k, m in managed.items()}

    def with_managed(self, state: dict[str, Any], schema: Any) -> dict[str, Any]:
        """``state`` with the managed values (``RemainingSteps``...) a task of the step
        being run reads, in ``schema``'s order; as it is when the graph has none."""
        values = self.managed_values()
        return state if values is None else merged_in_order(state, values, key_order(schema))

    async def _route(
        self,
        node: str,
        writes: list[tuple[str, Any]],
        decisions: list[dict[str, Any]] | None = None,
    ) -> list[str | Send]:
        """Where a finished node leads: static edges, joins and conditional edges. The routing
        functions' decisions are added to ``decisions`` (a task's, recorded with its end)."""
        builder = self.graph.builder
        goto: list[str | Send] = [end for start, end in sorted(builder.edges) if start == node]
        branches = builder.branches.get(node, {})
        first = first_branch_step(builder, node) if branches else 0
        usual = usual_branch_step(node)
        for k, branch in enumerate(branches.values()):
            step = first + k
            goto += await self._branch(branch, writes, decisions, None if step == usual else step)
        return [g for g in goto if g != END]

    async def _branch(
        self,
        branch: Branch,
        writes: list[tuple[str, Any]],
        decisions: list[dict[str, Any]] | None,
        seq_step: int | None = None,
    ) -> list[str | Send]:
        local = dict(self.values)
        grouped: dict[str, list[Any]] = {}
        for name, value in writes:
            grouped.setdefault(name, []).append(value)
        for name, values in grouped.items():
            local[name] = self.channels[name].apply(local[name], values)
        schema = self.graph.builder.schemas.state
        state = coerce(
            schema,
            self.with_managed(
                {
                    k: v
                    for k, v in local.items()
                    if v is not MISSING
                    and k in self.channels
                    and (self._state_only is None or k in self._state_only)
                },
                schema,
            ),
            schema,
        )
        kwargs = injected_kwargs(branch.path, self.config, store=self.store)
        result = branch.path(state, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if decisions is not None:  # a task's routing decision, recorded with its end
            # Its input is not copied: it is the state at the step's checkpoint with the
            # task's writes applied, which the log holds. Only a channel with a reducer of the
            # user's own has its value after the reducer recorded (the log cannot rerun it).
            decision: dict[str, Any] = {
                "name": branch.name,
                "run_id": str(uuid.uuid4()),
                "output": result,
            }
            reduced = {n: local[n] for n in grouped if self.channels[n].fold == "value"}
            if reduced:
                decision["reduced"] = reduced
            if seq_step is not None:  # (see first_branch_step)
                decision["seq_step"] = seq_step
            decisions.append(decision)
        answers = result if isinstance(result, list | tuple) else [result]
        out: list[str | Send] = []
        for answer in answers:
            if isinstance(answer, Send):
                out.append(answer)
            elif branch.ends is not None:
                out.append(branch.ends[answer])
            else:
                out.append(answer)
        return out

    def next_after_update(self, outcomes: list[Outcome], head: Any) -> list[Task]:
        """The tasks a super-step of state updates (``outcomes``) made on checkpoint ``head``
        starts: those its outcomes start, as a step's (see :meth:`next_tasks`)."""
        return self.next_tasks(outcomes)

    def next_tasks(self, outcomes: list[Outcome]) -> list[Task]:
        """The tasks the step's outcomes start. A deferred node (``defer=True``) reached waits
        until no other node would run next (LangGraph's "after finish" channels); the nodes
        waiting so are kept with the join progress, so a resumed run still has them."""
        graph = self.graph
        triggered: set[str] = set()
        pushes: list[Send] = []
        finished = {o.task.name for o in outcomes}
        for outcome in outcomes:
            for target in outcome.goto:
                if isinstance(target, Send):
                    pushes.append(target)
                else:
                    triggered.add(str(target))
        for starts, end in sorted(graph.builder.waiting_edges):
            key = f"join:{'+'.join(starts)}:{end}"
            arrived = set(self.barriers.get(key, [])) | (finished & set(starts))
            if arrived == set(starts):
                self.barriers[key] = []
                if end != END:
                    triggered.add(end)
            elif arrived:
                self.barriers[key] = sorted(arrived)
        if self.hides and not triggered - graph.deferred_nodes:
            self.finish_channels()
        if graph.deferred_nodes:
            waiting = set(self.barriers.get(DEFERRED, [])) | (triggered & graph.deferred_nodes)
            triggered -= graph.deferred_nodes
            if not triggered and waiting:  # the run would end here: they run now
                triggered, waiting = waiting, set()
            if waiting or DEFERRED in self.barriers:
                self.barriers[DEFERRED] = sorted(waiting)
        order = {name: i for i, name in enumerate(graph.builder.nodes)}
        # As LangGraph lists them (a checkpoint's next): Send tasks first, in the order they
        # were sent, then pull tasks in the order the nodes were added.
        tasks = [Task.of_send(send, i) for i, send in enumerate(pushes)]
        tasks += [
            Task(
                id="",
                name=name,
                path=(PULL, name),
                triggers=graph.node_triggers.get(name, (f"branch:to:{name}",)),
            )
            for name in sorted(triggered, key=lambda n: order.get(n, -1))
        ]
        return tasks
