"""LangGraph's public type variables (``langgraph.typing``), for annotating graphs, nodes
and their run-time context."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypeVar

__all__ = ("ContextT", "InputT", "OutputT", "StateT", "StateT_co", "StateT_contra")

StateLike = Any
"""What a state can be: a TypedDict, dataclass, pydantic model or plain dict."""

StateT = TypeVar("StateT", bound=StateLike)
"""The state of a graph."""

StateT_co = TypeVar("StateT_co", bound=StateLike, covariant=True)

StateT_contra = TypeVar("StateT_contra", bound=StateLike, contravariant=True)

ContextT = TypeVar("ContextT", bound=StateLike | None, default=None)
"""A graph run's context (``None`` by default)."""

ContextT_contra = TypeVar(
    "ContextT_contra", bound=StateLike | None, contravariant=True, default=None
)

InputT = TypeVar("InputT", bound=StateLike, default=StateT)
"""The input of a ``StateGraph`` (its state by default)."""

OutputT = TypeVar("OutputT", bound=StateLike, default=StateT)
"""The output of a ``StateGraph`` (its state by default)."""

NodeInputT = TypeVar("NodeInputT", bound=StateLike)
"""The input of a node."""

NodeInputT_contra = TypeVar("NodeInputT_contra", bound=StateLike, contravariant=True)
