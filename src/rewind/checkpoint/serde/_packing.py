"""LangGraph's msgpack wire format: which extension code and tuple each Python type becomes.

Bytes written here load in LangGraph's ``JsonPlusSerializer`` and the other way round. rewind's
own classes that twin LangGraph's (``rewind.types.Send``, ``rewind.store.base.Item``...) are
written under LangGraph's module names, and LangGraph's names load as rewind's classes.
"""

from __future__ import annotations

import dataclasses
import decimal
import importlib
import os
import pathlib
import re
import sys
from collections import deque
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import ormsgpack

from rewind.checkpoint.serde.types import SendProtocol, _DeltaSnapshot
from rewind.store.base import Item

EXT_CONSTRUCTOR_SINGLE_ARG = 0
EXT_CONSTRUCTOR_POS_ARGS = 1
EXT_CONSTRUCTOR_KW_ARGS = 2
EXT_METHOD_SINGLE_ARG = 3
EXT_PYDANTIC_V1 = 4
EXT_PYDANTIC_V2 = 5
EXT_NUMPY_ARRAY = 6
EXT_DELTA_SNAPSHOT = 7

STRICT_MSGPACK_ENABLED = os.getenv("LANGGRAPH_STRICT_MSGPACK", "false").lower() in (
    "1",
    "true",
    "yes",
)
"""``LANGGRAPH_STRICT_MSGPACK=true``: load only :data:`SAFE_MSGPACK_TYPES` by default."""

_MESSAGES = ("human", "ai", "system", "chat", "tool", "function")
SAFE_MSGPACK_TYPES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("uuid", "UUID"),
        ("decimal", "Decimal"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("collections", "deque"),
        *(("ipaddress", f"IPv{v}{k}") for v in (4, 6) for k in ("Address", "Interface", "Network")),
        *(
            (m, k)
            for m in ("pathlib", "pathlib._local")
            for k in ("Path", "PosixPath", "WindowsPath")
        ),
        ("zoneinfo", "ZoneInfo"),
        ("re", "compile"),
        ("langchain_core.messages.base", "BaseMessage"),
        ("langchain_core.messages.base", "BaseMessageChunk"),
        *(
            (f"langchain_core.messages.{m}", f"{m.capitalize() if m != 'ai' else 'AI'}Message{c}")
            for m in _MESSAGES
            for c in ("", "Chunk")
        ),
        ("langchain_core.messages.modifier", "RemoveMessage"),
        ("langchain_core.documents.base", "Document"),
        *(
            ("langgraph.types", n)
            for n in (
                "Send",
                "TimeoutPolicy",
                "Interrupt",
                "Command",
                "StateSnapshot",
                "PregelTask",
                "Overwrite",
            )
        ),
        ("langgraph.store.base", "Item"),
        ("langgraph.store.base", "GetOp"),
    }
)
"""The types loaded without an allowlist (LangGraph's list)."""

SAFE_MSGPACK_METHODS: frozenset[tuple[str, str, str]] = frozenset(
    {("datetime", "datetime", "fromisoformat")}
)
"""The ``(module, name, method)`` calls allowed on load."""

Allowlist = set[tuple[str, ...]] | Literal[True] | None
"""Types a load may build: a set, ``True`` for any (with a warning), ``None`` for the safe ones."""

_OPTION = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_REPLACE_SURROGATES
)


def pack(data: Any) -> bytes:
    """The msgpack bytes of ``data`` in LangGraph's format."""
    return ormsgpack.packb(data, default=_default, option=_OPTION)


def wire_module(cls: type) -> str:
    """The module a class is written under: LangGraph's for rewind's twins of its types."""
    module = cls.__module__
    if module.startswith("rewind."):
        twin = "langgraph." + module.removeprefix("rewind.")
        if (twin, cls.__name__) in SAFE_MSGPACK_TYPES:
            return twin
    return module


def _ext(code: int, obj: Any, *rest: Any) -> ormsgpack.Ext:
    return ormsgpack.Ext(code, pack((wire_module(type(obj)), type(obj).__name__, *rest)))


def _default(obj: Any) -> Any:
    if isinstance(obj, _DeltaSnapshot):
        return ormsgpack.Ext(EXT_DELTA_SNAPSHOT, pack(obj.value))
    if callable(getattr(obj, "model_dump", None)):  # pydantic v2
        return _ext(EXT_PYDANTIC_V2, obj, obj.model_dump(), "model_validate_json")
    if callable(getattr(obj, "get_secret_value", None)):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, obj.get_secret_value())
    if callable(getattr(obj, "dict", None)):  # pydantic v1
        return _ext(EXT_PYDANTIC_V1, obj, obj.dict())
    if callable(getattr(obj, "_asdict", None)):  # namedtuple
        return _ext(EXT_CONSTRUCTOR_KW_ARGS, obj, obj._asdict())
    if isinstance(obj, pathlib.Path):
        return _ext(EXT_CONSTRUCTOR_POS_ARGS, obj, obj.parts)
    if isinstance(obj, re.Pattern):
        return ormsgpack.Ext(
            EXT_CONSTRUCTOR_POS_ARGS, pack(("re", "compile", (obj.pattern, obj.flags)))
        )
    if isinstance(obj, UUID):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, obj.hex)
    if isinstance(obj, set | frozenset | deque):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, tuple(obj))
    if isinstance(obj, decimal.Decimal | IPv4Address | IPv4Interface | IPv4Network):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, str(obj))
    if isinstance(obj, IPv6Address | IPv6Interface | IPv6Network):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, str(obj))
    if isinstance(obj, datetime):
        return _ext(EXT_METHOD_SINGLE_ARG, obj, obj.isoformat(), "fromisoformat")
    if isinstance(obj, timedelta):
        return _ext(EXT_CONSTRUCTOR_POS_ARGS, obj, (obj.days, obj.seconds, obj.microseconds))
    if isinstance(obj, date):
        return _ext(EXT_CONSTRUCTOR_POS_ARGS, obj, (obj.year, obj.month, obj.day))
    if isinstance(obj, time):
        fields = ("hour", "minute", "second", "microsecond", "tzinfo", "fold")
        return _ext(EXT_CONSTRUCTOR_KW_ARGS, obj, {f: getattr(obj, f) for f in fields})
    if isinstance(obj, timezone):
        return _ext(EXT_CONSTRUCTOR_POS_ARGS, obj, obj.__getinitargs__())  # type: ignore[attr-defined]
    if isinstance(obj, ZoneInfo):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, obj.key)
    if isinstance(obj, Enum):
        return _ext(EXT_CONSTRUCTOR_SINGLE_ARG, obj, obj.value)
    if isinstance(obj, SendProtocol):
        timeout = getattr(obj, "timeout", None)
        args = (obj.node, obj.arg) if timeout is None else (obj.node, obj.arg, timeout)
        return _ext(EXT_CONSTRUCTOR_POS_ARGS, obj, args)
    if dataclasses.is_dataclass(obj):
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return _ext(EXT_CONSTRUCTOR_KW_ARGS, obj, values)
    if isinstance(obj, Item):
        return _ext(EXT_CONSTRUCTOR_KW_ARGS, obj, {k: getattr(obj, k) for k in obj.__slots__})
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        order = "F" if obj.flags.f_contiguous and not obj.flags.c_contiguous else "C"
        buf = bytes(memoryview(obj)) if obj.flags.c_contiguous else obj.tobytes(order="A")
        return ormsgpack.Ext(EXT_NUMPY_ARRAY, pack((obj.dtype.str, obj.shape, order, buf)))
    if isinstance(obj, BaseException):
        return repr(obj)
    raise TypeError(f"Object of type {obj.__class__.__name__} is not serializable")


def import_type(module: str, name: str) -> Any:
    """The named class: rewind's twin for a LangGraph name, else the module's own."""
    if module.startswith("langgraph."):
        try:
            return getattr(
                importlib.import_module("rewind." + module.removeprefix("langgraph.")), name
            )
        except (ImportError, AttributeError):
            pass
    return getattr(importlib.import_module(module), name)


def normalize(allowlist: Iterable[tuple[str, ...] | type] | Literal[True] | None) -> Allowlist:
    """An allowlist as a set of ``(module, name)`` keys (classes become their keys)."""
    if allowlist is True:
        return True
    if not allowlist:
        return None
    return {
        (item.__module__, item.__name__) if isinstance(item, type) else tuple(item)
        for item in allowlist
    }
