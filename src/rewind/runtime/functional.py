"""The functional API's compiled entrypoint: a function made a graph of one node.

LangGraph compiles ``@entrypoint`` to a one-node graph: the input goes to the function's task,
whose return value is written to ``__end__`` (the run's output, and the state that
``get_state`` and the ``values`` stream show) and to ``__previous__`` (what the function's
``previous`` parameter gets on the thread's next run); ``entrypoint.final(value=..., save=...)``
writes them apart. rewind runs it on the executor that runs a StateGraph, with the same log:
the input checkpoint lists the entrypoint's task with the input as its argument, the task runs
in step 0 (its task calls too: :mod:`rewind.runtime.calls`), and its ``task.ended`` records
``return`` (with ``entrypoint: true``, and ``save`` when it returned ``entrypoint.final``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from rewind.channels import EphemeralValue, LastValue, Topic
from rewind.errors import EncodingError
from rewind.events import PULL
from rewind.projections.calls import END, PREVIOUS, EntrypointFinal
from rewind.projections.state import CheckpointView
from rewind.runtime.calls import not_serializable
from rewind.runtime.channels import MISSING
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.context import Runtime
from rewind.runtime.graph import START, NodeSpec, StateGraph
from rewind.runtime.memory import watch_store
from rewind.runtime.pregel import RunLoop
from rewind.runtime.pregel_nodes import PregelNode
from rewind.runtime.structure import TASKS
from rewind.runtime.tasks import Outcome, Task
from rewind.runtime.timeouts import natively_async, sync_timeout_unsupported
from rewind.types import Interrupt, RetryPolicy, Send, TimeoutPolicy

__all__ = ["Entrypoint", "EntrypointLoop"]


class _EntrypointState(TypedDict):
    """An entrypoint's channels: its output, and the value saved for its next run."""

    __end__: Any
    __previous__: Any


class Entrypoint(CompiledStateGraph):
    """An ``@entrypoint`` function, ready to run: LangGraph's Pregel API (``invoke``,
    ``stream`` in every mode, ``astream_events``, ``get_state``, ``get_state_history``...),
    recorded as every graph run is."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        checkpointer: Any,
        store: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None,
        context_schema: Any,
        cache: Any = None,
        cache_policy: Any = None,
        timeout: TimeoutPolicy | None = None,
    ) -> None:
        builder: StateGraph[Any] = StateGraph(_EntrypointState, context_schema)
        self.entry_name = func.__name__
        if timeout is not None and not natively_async(func):  # as LangGraph's, when built
            raise sync_timeout_unsupported(self.entry_name)
        """The name of the entrypoint's task (its function's)."""
        builder.nodes[self.entry_name] = NodeSpec(
            name=self.entry_name,
            action=func,
            input_schema=None,
            retry_policy=retry_policy,
            cache_policy=cache_policy,
            timeout=timeout,
        )
        builder.compiled = True
        watch_store(store, checkpointer)  # its writes are events of the runs that make them
        super().__init__(
            builder=builder,
            checkpointer=checkpointer,
            store=store,
            cache=cache,
            interrupt_before=[],
            interrupt_after=[],
            name="LangGraph",
            debug=False,
        )
        self.func = func
        """The decorated function."""
        self.retry_policy = (
            (retry_policy,) if isinstance(retry_policy, RetryPolicy) else tuple(retry_policy or ())
        )
        # Recorded with every run: projections show the state as this one channel's value.
        self._graph_shape = {**self._graph_shape, "output_channel": END}

    def _input_tasks(self, input: Any) -> list[Task]:
        """A new input: the entrypoint's task, the input its argument (LangGraph writes it to
        ``__start__``)."""
        name = self.entry_name
        return [Task(id="", name=name, path=(PULL, name), triggers=(START,), arg=input)]

    async def _infer_as_node(self, event_log: Any, thread_id: str, head: Any) -> str | None:
        """An update without ``as_node`` is the entrypoint's output (and saved value), as if
        its function had returned it (LangGraph's: its only node)."""
        return self.entry_name

    def _cached_writes(self, head: CheckpointView, task_id: str) -> dict[str, Any]:
        return {name: values[-1] for name, values in head.writes[task_id].items()}

    @functools.cached_property
    def nodes(self) -> dict[str, Any]:
        """Its one node, the function, started by the input (LangGraph's entrypoint's)."""
        return {
            self.entry_name: PregelNode(
                channels=START,
                triggers=[START],
                bound=self.func,
                retry_policy=[*self.retry_policy],
                timeout=self.builder.nodes[self.entry_name].timeout,
            )
        }

    @functools.cached_property
    def channels(self) -> dict[str, Any]:
        """Its channels, as LangGraph's entrypoint has them: the input, the output, the value
        saved for the next run, and the task calls."""
        given, output, save = _io_types(self.func)
        return {
            START: EphemeralValue(given),
            END: LastValue(output),
            PREVIOUS: LastValue(save),
            TASKS: Topic(Send, accumulate=False),
        }

    def _output(self, state: dict[str, Any]) -> Any:
        return state.get(END)

    def _interrupted_output(self, state: dict[str, Any], interrupts: list[Interrupt[Any]]) -> Any:
        # As LangGraph's invoke: the interrupts, with the output's keys when it is a dict.
        value = state.get(END)
        return {**(value if isinstance(value, dict) else {}), "__interrupt__": list(interrupts)}

    def _shown_state(self, values: dict[str, Any]) -> Any:
        return values.get(END)


def _io_types(func: Callable[..., Any]) -> tuple[Any, Any, Any]:
    """The types of an entrypoint's input, output and saved value, as LangGraph reads them
    from its signature (``-> entrypoint.final[output, save]`` names the last two)."""
    signature = inspect.signature(func)
    first = next(iter(signature.parameters.values()), None)
    given = (
        Any if first is None or first.annotation is inspect.Signature.empty else first.annotation
    )
    returned = signature.return_annotation
    if returned is inspect.Signature.empty or returned is EntrypointFinal:
        return given, Any, Any
    if typing.get_origin(returned) is EntrypointFinal and len(typing.get_args(returned)) == 2:
        output, save = typing.get_args(returned)
        return given, output, save
    return given, returned, returned


class EntrypointLoop(RunLoop):
    """The run loop of an entrypoint: its one task calls the function with the input and
    ``previous``, and writes what it returns."""

    graph: Entrypoint

    async def _execute(self, task: Task, step: int) -> Outcome:
        spec = self.graph.builder.nodes[task.name]
        task.node_input = task.arg
        result = await self._call(spec.action, task.arg, task, step)
        final = isinstance(result, EntrypointFinal)
        value, save = (result.value, result.save) if final else (result, result)
        # Its update is what the function returned (an entrypoint.final too: its callback run
        # shows that); its writes are the output and the value saved for the next run.
        return Outcome(task=task, update=result, writes=[(END, value), (PREVIOUS, save)])

    async def update_outcome(self, task: Task, values: Any, *, route: bool) -> Outcome:
        """``update_state`` on an entrypoint: ``values`` is its new output (and saved value;
        apart, given as ``entrypoint.final``), as if its function returned it."""
        final = isinstance(values, EntrypointFinal)
        value, save = (values.value, values.save) if final else (values, values)
        return Outcome(task=task, update=values, writes=[(END, value), (PREVIOUS, save)])

    def runtime_for(self, task: Task, writer: Callable[[Any], None]) -> Runtime[Any]:
        """A graph's runtime, with ``previous``: what the thread's last run saved."""
        runtime = super().runtime_for(task, writer)
        previous = self.values.get(PREVIOUS, MISSING)
        return dataclasses.replace(runtime, previous=None if previous is MISSING else previous)

    def ended_payload(self, outcome: Outcome, *, cached: bool = False) -> dict[str, Any]:
        """``return`` (its output) and ``entrypoint: true``; ``save`` when it returned
        ``entrypoint.final`` (see :mod:`rewind.events`)."""
        writes = dict(outcome.writes)
        value, save = writes.get(END), writes.get(PREVIOUS)
        ended: dict[str, Any] = {"return": value, "entrypoint": True}
        if isinstance(outcome.update, EntrypointFinal) or save is not value:
            ended["save"] = save  # it returned entrypoint.final(value=..., save=...)
        return ended

    async def _run_task(self, task: Task, step: int, raised: list[Interrupt[Any]]) -> Outcome:
        try:
            return await super()._run_task(task, step, raised)
        except EncodingError as exc:  # what it returned cannot be stored: LangGraph's error
            raise not_serializable(exc) from None


Entrypoint.loop_class = EntrypointLoop
