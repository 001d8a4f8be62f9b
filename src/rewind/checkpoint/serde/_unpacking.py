"""Loading LangGraph's msgpack wire format, with its allowlist of types a load may build."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import ormsgpack

from rewind.checkpoint.serde import _packing as p
from rewind.checkpoint.serde.event_hooks import emit_serde_event
from rewind.checkpoint.serde.types import _DeltaSnapshot

logger = logging.getLogger("rewind.checkpoint.serde.jsonplus")

_MAX_WARNED = 1000
_warned: set[tuple[str, ...]] = set()


def _warn_once(key: tuple[str, ...], msg: str, *args: object) -> None:
    if key in _warned or len(_warned) >= _MAX_WARNED:
        return
    _warned.add(key)
    logger.warning(msg, *args)


def _allowed(allowlist: p.Allowlist, module: str, name: str) -> bool:
    key = (module, name)
    if key in p.SAFE_MSGPACK_TYPES:
        return True
    if allowlist is True:
        emit_serde_event({"kind": "msgpack_unregistered_allowed", "module": module, "name": name})
        _warn_once(
            ("allowed", *key),
            "Deserializing unregistered type %s.%s from checkpoint. Set "
            "LANGGRAPH_STRICT_MSGPACK=true to block it, or add it to allowed_msgpack_modules: "
            "[(%r, %r)]",
            module,
            name,
            module,
            name,
        )
        return True
    if allowlist is not None and key in allowlist:
        return True
    emit_serde_event({"kind": "msgpack_blocked", "module": module, "name": name})
    _warn_once(
        ("blocked", *key),
        "Blocked deserialization of %s.%s - not in allowed_msgpack_modules. "
        "Add to allowed_msgpack_modules to allow: [(%r, %r)]",
        module,
        name,
        module,
        name,
    )
    return False


def _allowed_method(module: str, name: str, method: str) -> bool:
    if (module, name, method) in p.SAFE_MSGPACK_METHODS:
        return True
    emit_serde_event(
        {"kind": "msgpack_method_blocked", "module": module, "name": name, "method": method}
    )
    logger.warning(
        "Blocked deserialization of method call %s.%s.%s - not in allowed methods set.",
        module,
        name,
        method,
    )
    return False


def _send(cls: Any, args: Sequence[Any]) -> Any:
    if len(args) == 2:
        return cls(*args)
    return cls(args[0], args[1], timeout=args[2])


def _fallback(tup: Any, exc: Exception) -> Any:
    """The stored payload of an object that could not be rebuilt (never ``None``: that would
    erase the value from the state)."""
    try:
        module, name, payload = tup[0], tup[1], tup[2]
    except Exception:
        return None
    _warn_once(
        ("unbuilt", str(module), str(name)),
        "Could not reconstruct %s.%s from checkpoint (%s); returning its serialized data instead.",
        module,
        name,
        type(exc).__name__,
    )
    return payload


def ext_hook_for(allowlist: p.Allowlist) -> Callable[[int, bytes], Any]:
    """The ``ext_hook`` that builds LangGraph's extension types, within ``allowlist``."""

    def unpack(data: bytes) -> Any:
        return ormsgpack.unpackb(data, ext_hook=hook, option=ormsgpack.OPT_NON_STR_KEYS)

    def build(code: int, tup: Any) -> Any:
        module, name, arg = tup[0], tup[1], tup[2]
        if code == p.EXT_METHOD_SINGLE_ARG:
            if not _allowed_method(module, name, tup[3]):
                return arg
            return getattr(p.import_type(module, name), tup[3])(arg)
        if not _allowed(allowlist, module, name):
            return arg
        cls = p.import_type(module, name)
        if code == p.EXT_CONSTRUCTOR_SINGLE_ARG:
            return cls(arg)
        if code == p.EXT_CONSTRUCTOR_POS_ARGS:
            if (module, name) == ("langgraph.types", "Send"):
                return _send(cls, arg)
            return cls(*arg)
        if code == p.EXT_CONSTRUCTOR_KW_ARGS:
            return cls(**arg)
        try:  # pydantic: validated, else constructed as stored
            return cls(**arg)
        except Exception:
            construct = cls.model_construct if code == p.EXT_PYDANTIC_V2 else cls.construct
            return construct(**arg)

    def hook(code: int, data: bytes) -> Any:
        if code == p.EXT_DELTA_SNAPSHOT:
            return _DeltaSnapshot(unpack(data))
        if code == p.EXT_NUMPY_ARRAY:
            try:
                np: Any = importlib.import_module("numpy")

                dtype, shape, order, buf = unpack(data)
                return np.frombuffer(buf, dtype=np.dtype(dtype)).reshape(shape, order=order)
            except Exception:
                return None
        if code > p.EXT_PYDANTIC_V2:
            return None
        tup = None
        try:
            tup = unpack(data)
            return build(code, tup)
        except Exception as exc:
            if code in (p.EXT_PYDANTIC_V1, p.EXT_PYDANTIC_V2):
                return tup[2] if tup is not None else None
            return _fallback(tup, exc)

    return hook
