"""LangGraph's managed values: ``IsLastStep`` and ``RemainingSteps``."""

from rewind.managed.is_last_step import IsLastStep, RemainingSteps

__all__ = ("IsLastStep", "RemainingSteps")
