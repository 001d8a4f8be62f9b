"""Managed values: state keys whose value the runtime gives each task instead of a channel.

A key annotated with a :class:`ManagedValue` subclass (``remaining_steps: RemainingSteps``) is
not stored: nodes that read it get the value computed for their step, and what they write to it
is ignored, as in LangGraph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from inspect import isclass
from typing import Any, Generic, TypeGuard, TypeVar

__all__ = ("ManagedValueMapping", "ManagedValueSpec")

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Scratchpad:
    """What a managed value is computed from: the step a task runs in, and the step the run
    stops before (its recursion limit)."""

    step: int
    stop: int


class ManagedValue(ABC, Generic[V]):
    """A value computed for each task from its :class:`Scratchpad`."""

    @staticmethod
    @abstractmethod
    def get(scratchpad: Any) -> V: ...


ManagedValueSpec = type[ManagedValue[Any]]

ManagedValueMapping = dict[str, ManagedValueSpec]


def is_managed_value(value: Any) -> TypeGuard[ManagedValueSpec]:
    """Whether ``value`` is a managed value's class."""
    return isclass(value) and issubclass(value, ManagedValue)
