"""Neutral ground: find an object by its ``module:qualname`` path (the codec and the
projections both name classes that way)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_class"]


def import_class(path: str) -> Any:
    """The class (or any object) named ``module:qualname``."""
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
