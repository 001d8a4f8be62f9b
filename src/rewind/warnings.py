"""LangGraph's ``langgraph.warnings`` names: the categories of its deprecation warnings (the
classes live in :mod:`rewind.errors`, beside the errors they accompany)."""

from __future__ import annotations

from rewind.errors import (
    LangGraphDeprecatedSinceV05,
    LangGraphDeprecatedSinceV10,
    LangGraphDeprecatedSinceV11,
    LangGraphDeprecationWarning,
)

__all__ = (
    "LangGraphDeprecatedSinceV05",
    "LangGraphDeprecatedSinceV10",
    "LangGraphDeprecatedSinceV11",
    "LangGraphDeprecationWarning",
)
