"""Graphs whose whole state is one value: LangGraph's root channel, ``__root__``.

``MessageGraph`` is such a graph: its state is a list of messages, nodes are given the list
and return messages, and ``invoke``, the ``values`` stream and ``get_state`` show the list.
Underneath, the state has one channel, ``__root__``: a node's return value is its write, and
the projections show that channel's value (the graph's ``output_channel``, as an entrypoint's
output is shown). A ``Command``'s ``update`` is read as LangGraph reads it, as writes to
channels (``Command._update_as_tuples``): a value that is no dict, pair list or object with
annotated fields is the root value, but a dict's keys are channels, so only a ``__root__`` key
is written and the others are dropped with LangGraph's warning, as writes to unknown channels.

The state schema is a dataclass of that one field whose construction gives the field's
value, so that wherever the runtime builds the state for a node or a routing function from
the schema (live, and from the log on replay), it gets the root value.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from rewind.events import PULL
from rewind.projections.state import ROOT
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.pregel import RunLoop
from rewind.runtime.shapes import coerce_messages
from rewind.types import Command, Interrupt

if TYPE_CHECKING:
    from rewind.runtime.tasks import Outcome, Task

__all__ = ["ROOT", "RootGraph", "RootLoop", "root_schema"]

logger = logging.getLogger("rewind")

_executing: contextvars.ContextVar[Task | None] = contextvars.ContextVar(
    "rewind_root_task", default=None
)
"""The task whose outcome is being made in this context (its path is in the warning)."""


def _root_value(cls: type, **values: Any) -> Any:
    return values.get(ROOT)


def root_schema(annotation: Any, name: str = "RootState") -> type:
    """A state schema of one channel, ``__root__``, annotated ``annotation`` (a reducer in
    ``Annotated`` as usual); building it from the state gives the channel's value."""
    namespace = {"__annotations__": {ROOT: annotation}, "__new__": _root_value}
    return dataclasses.dataclass(type(name, (), namespace))


class RootLoop(RunLoop):
    """A run of a root-valued graph: what a node returns is written to ``__root__``."""

    async def _execute(self, task: Task, step: int) -> Outcome:
        token = _executing.set(task)
        try:
            return await super()._execute(task, step)
        finally:
            _executing.reset(token)

    def _map_update(
        self, update: Any, node: str, ids_given: list[str] | None = None
    ) -> list[tuple[str, Any]]:
        if isinstance(update, Command):
            pairs = update._update_as_tuples()
        else:
            pairs = [] if update is None else [(ROOT, update)]
        messages = self.channels[ROOT].fold == "messages"
        writes = []
        for key, value in pairs:
            if key == ROOT:
                writes.append((ROOT, coerce_messages(value, ids_given) if messages else value))
                continue
            task = _executing.get()
            path = task.path if task is not None and task.name == node else (PULL, node)
            logger.warning(
                f"Task {node} with path {path} wrote to unknown channel {key}, ignoring it."
            )
        return writes


class RootGraph(CompiledStateGraph):
    """A compiled root-valued graph: its output and shown state are the ``__root__`` value."""

    loop_class = RootLoop

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Recorded with every run: projections show the state as this one channel's value.
        self._graph_shape = {**self._graph_shape, "output_channel": ROOT}

    def _output(self, state: dict[str, Any]) -> Any:
        return state.get(ROOT)

    def _interrupted_output(self, state: dict[str, Any], interrupts: list[Interrupt[Any]]) -> Any:
        # As LangGraph's invoke: the value as it is when no interrupt was raised (a static
        # breakpoint), else the interrupts (with the value's keys when it is a dict).
        value = state.get(ROOT)
        if not interrupts:
            return value
        return {**(value if isinstance(value, dict) else {}), "__interrupt__": list(interrupts)}

    def _shown_state(self, values: dict[str, Any]) -> Any:
        return values.get(ROOT)

    def _own_result(self, task: dict[str, Any], result: Any) -> Any:
        # As LangGraph's snapshot shows a task of a graph of one output channel: its write to
        # that channel (None when it wrote none).
        return result.get(ROOT) if isinstance(result, dict) else result
