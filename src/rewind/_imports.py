"""Neutral ground: find an object by its ``module:qualname`` path (the codec and the
projections both name classes that way)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["import_class"]


def import_class(path: str) -> Any:
    """The class (or any object) named ``module:qualname``."""
    module_name, _, qualname = path.partition(":")
    # A module already imported is taken from sys.modules, as import_module would, without its
    # machinery (a decode names a class per object); one being imported goes through it.
    obj: Any = sys.modules.get(module_name)
    if obj is None or getattr(getattr(obj, "__spec__", None), "_initializing", False):
        obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
