"""A thread's state read back from the log, as LangGraph's checkpointer gives it back.

LangGraph keeps a checkpoint (each channel's value, the writes of the tasks that finished in
an interrupted step, interrupts and resume values, a ``Send``'s argument), its node cache's
entries and the functional API's task results through its msgpack serializer
(``JsonPlusSerializer``): tuples come back as lists; named tuples, dataclasses and pydantic
models are rebuilt from their fields (a pydantic model validating them, so a ``tuple`` field
stays one; a dataclass's tuple field becomes a list). Within a run, its channels hold values as
they were written; what a run loads (the state a thread's next run or a resume starts from,
an entrypoint's ``previous``, the writes handed back on a resume, a cache's hit) and what
``get_state`` and ``get_state_history`` show is the round trip's result.

The log keeps values as they were written; the round trip is made where they are read back:
:func:`checkpointed` (a checkpoint's view) through :mod:`rewind.thread_state`'s ``read_back``,
which applies it only when the read decoded a tuple (a state without one is given back as
read, at no cost), and :func:`as_checkpointed` (one value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from rewind.projections.state import CheckpointView
from rewind.runtime.channels import MISSING
from rewind.thread_state import ReadBack

__all__ = ["as_checkpointed", "checkpointed", "read_back_with"]


def as_checkpointed(value: Any, serde: Any = None) -> Any:
    """``value`` as LangGraph gives it back from its checkpointer or its cache: through its
    msgpack serializer (``serde``, the checkpointer's, else LangGraph's default), which stores
    tuples as lists and rebuilds named tuples, dataclasses and pydantic models from their
    fields (a model validating them, so a ``tuple`` field stays one). The log keeps the value
    as it was written; this is what a reader loading it gets. A value the serializer cannot
    store stays as it is (LangGraph's run would have failed)."""
    if not callable(getattr(serde, "dumps_typed", None)):
        serde = _default_serde()
    try:
        stored = serde.dumps_typed(value)
    except Exception:
        return value
    return serde.loads_typed(stored)


_DEFAULT_SERDE: Any = None


def _default_serde() -> Any:
    """LangGraph's default serializer (imported when first needed: the savers, in
    :mod:`rewind.checkpoint`, read checkpoints back through this module)."""
    global _DEFAULT_SERDE
    if _DEFAULT_SERDE is None:
        from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer

        _DEFAULT_SERDE = JsonPlusSerializer()
    return _DEFAULT_SERDE


def checkpointed(view: CheckpointView, serde: Any = None) -> CheckpointView:
    """A copy of ``view`` as LangGraph's checkpointer (its serializer ``serde``) gives it back:
    each channel's value, each task's writes, interrupts and resume values, and a ``Send``'s
    argument made through :func:`as_checkpointed`, one by one, as LangGraph stores them."""

    def back(value: Any) -> Any:
        return value if value is MISSING else as_checkpointed(value, serde)

    return dataclasses.replace(
        view,
        values={name: back(value) for name, value in view.values.items()},
        next=[{**t, "arg": back(t["arg"])} if "arg" in t else t for t in view.next],
        results={task_id: _each(back, r) for task_id, r in view.results.items()},
        writes={
            task_id: {name: [back(value) for value in values] for name, values in by.items()}
            for task_id, by in view.writes.items()
        },
        interrupts={task_id: back(list(i)) for task_id, i in view.interrupts.items()},
        resumes={task_id: [back(v) for v in values] for task_id, values in view.resumes.items()},
    )


def _each(back: Callable[[Any], Any], writes: Any) -> Any:
    """A task's result made through ``back``: its writes one by one (a call's or an
    entrypoint's return as one value)."""
    if isinstance(writes, dict):
        return {name: back(value) for name, value in writes.items()}
    return back(writes)


def read_back_with(checkpointer: Any) -> ReadBack:
    """The ``read_back`` of :mod:`rewind.thread_state` for a graph with ``checkpointer``: its
    serializer's round trip (LangGraph's default serializer when it has none)."""
    serde = getattr(checkpointer, "serde", None)
    if serde is None or not callable(getattr(serde, "dumps_typed", None)):
        return checkpointed
    return lambda view: checkpointed(view, serde)
