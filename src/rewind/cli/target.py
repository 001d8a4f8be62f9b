"""Finding the graph a verb runs (``FILE.py:ATTR`` or ``package.module:ATTR``), and recording
its runs in the chosen database."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from rewind.cli.common import CliError
from rewind.loading import GraphLoadError
from rewind.loading import load_graph as _load

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.compiled import CompiledStateGraph

__all__ = ["bind", "load_graph"]


def load_graph(spec: str) -> CompiledStateGraph:
    """The compiled graph ``spec`` names (see :func:`rewind.loading.load_graph`).

    Raises:
        CliError: the file, module or attribute is missing, or is not a graph.
    """
    try:
        return _load(spec)
    except GraphLoadError as exc:
        # The graph's own code raised while loading: --debug shows where.
        where = " (--debug shows where)" if "raised" in str(exc) else ""
        raise CliError(f"{exc}{where}") from exc


def bind(graph: CompiledStateGraph, log: EventLog) -> CompiledStateGraph:
    """A copy of ``graph`` whose runs are recorded in ``log``, whatever checkpointer (or
    none) it was compiled with."""
    bound = copy.copy(graph)
    bound.checkpointer = log
    return bound
