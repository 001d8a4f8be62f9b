"""The runs the ``events`` stream mode shows (:mod:`rewind.projections.events`): one run's
record, where the start of a node whose whole run is one runnable's goes, and the values
LangChain's event stream shows of a run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from rewind.types import Command

__all__ = ["NOT_GIVEN", "Run", "StartInPlace", "end_input", "truthy", "without_ids"]


@dataclass(kw_only=True, slots=True)
class Run:
    """One run the events mode shows (the graph's, a subgraph's, a node's or one begun in a
    node), with what its events carry."""

    name: str
    run_id: str
    parents: list[str]
    tags: list[str]
    metadata: dict[str, Any]
    input: Any
    kind: str = "chain"  # or chat_model, llm, tool, prompt, parser, retriever...
    streamed: bool = True  # a graph run: whether its nodes stream their outputs
    managed: Mapping[str, Any] | None = None  # a node's: the managed values it read
    # A Pregel node's: the tag of its last step when that streams the node's output as it
    # comes (see pregel_nodes.streamed_last), and whether it streamed some.
    streamed_last: str | None = None
    streamed_out: bool = False
    # A Pregel node's whose whole run is one runnable's (see pregel_nodes.whole_run): that
    # run is shown as the node's, its start in the node's place among its step's starts (the
    # run's id and start once it began; settled: begun, or never to begin).
    whole: bool = False
    shown_as: str | None = None
    start: dict[str, Any] | None = None
    settled: bool = False


class StartInPlace(dict[str, Any]):
    """Where the start of a node whose whole run is one runnable's goes (see ``Run.whole``):
    what follows it waits until that runnable begins."""

    def __init__(self, node: Run) -> None:
        super().__init__()
        self.node = node


NOT_GIVEN: Any = object()
"""A nested run started with no input (a streamed one's comes with its end)."""


def truthy(value: Any) -> bool:
    """``bool(value)``, ``True`` for a value whose truth cannot be told (an array)."""
    try:
        return bool(value)
    except Exception:
        return True


def end_input(value: Any) -> Any:
    """A chain run's input as LangChain's ``on_chain_end`` shows it: ``{}`` for an empty one
    (``""``, ``None``, ``[]``...), as its event stream falls back to."""
    try:
        return value if value else {}
    except Exception:  # a value whose truth cannot be told (an array): shown as it is
        return value


def without_ids(value: Any, ids: set[str]) -> Any:
    """``value`` with the messages whose id is in ``ids`` copied without it (the rest shared)."""
    if isinstance(value, BaseMessage):
        return value.model_copy(update={"id": None}) if value.id in ids else value
    if isinstance(value, Command):
        return dataclasses.replace(value, update=without_ids(value.update, ids))
    if isinstance(value, dict):
        return {k: without_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_ids(v, ids) for v in value)
    return value
