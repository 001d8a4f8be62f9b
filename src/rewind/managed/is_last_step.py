"""``IsLastStep`` and ``RemainingSteps``: how close a run is to its recursion limit."""

from __future__ import annotations

from typing import Annotated

from rewind.managed.base import ManagedValue, Scratchpad

__all__ = ("IsLastStep", "RemainingStepsManager")


class IsLastStepManager(ManagedValue[bool]):
    @staticmethod
    def get(scratchpad: Scratchpad) -> bool:
        return scratchpad.step == scratchpad.stop - 1


IsLastStep = Annotated[bool, IsLastStepManager]
"""``True`` in the last step the recursion limit allows."""


class RemainingStepsManager(ManagedValue[int]):
    @staticmethod
    def get(scratchpad: Scratchpad) -> int:
        return scratchpad.stop - scratchpad.step


RemainingSteps = Annotated[int, RemainingStepsManager]
"""How many steps the recursion limit still allows, this one included."""
