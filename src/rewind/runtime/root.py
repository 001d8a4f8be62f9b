"""Graphs whose whole state is one value: LangGraph's root channel, ``__root__``.

``MessageGraph`` is such a graph: its state is a list of messages, nodes are given the list
and return messages, and ``invoke``, the ``values`` stream and ``get_state`` show the list.
Underneath, the state has one channel, ``__root__``: a node's return value is its write (a
``Command``'s ``update`` too), and the projections show that channel's value (the graph's
``output_channel``, as an entrypoint's output is shown).

The state schema is a dataclass of that one field whose construction gives the field's
value, so that wherever the runtime builds the state for a node or a routing function from
the schema (live, and from the log on replay), it gets the root value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rewind.projections.state import ROOT
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.pregel import RunLoop
from rewind.runtime.shapes import coerce_messages
from rewind.types import Command, Interrupt

__all__ = ["ROOT", "RootGraph", "RootLoop", "root_schema"]


def _root_value(cls: type, **values: Any) -> Any:
    return values.get(ROOT)


def root_schema(annotation: Any, name: str = "RootState") -> type:
    """A state schema of one channel, ``__root__``, annotated ``annotation`` (a reducer in
    ``Annotated`` as usual); building it from the state gives the channel's value."""
    namespace = {"__annotations__": {ROOT: annotation}, "__new__": _root_value}
    return dataclasses.dataclass(type(name, (), namespace))


class RootLoop(RunLoop):
    """A run of a root-valued graph: what a node returns is written to ``__root__``."""

    def _map_update(
        self, update: Any, node: str, ids_given: list[str] | None = None
    ) -> list[tuple[str, Any]]:
        if isinstance(update, Command):
            update = update.update
        if update is None:
            return []
        messages = self.channels[ROOT].fold == "messages"
        return [(ROOT, coerce_messages(update, ids_given) if messages else update)]


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
