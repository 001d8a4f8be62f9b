"""``JsonPlusSerializer``: LangGraph's checkpoint serializer (msgpack, LangGraph's wire format).

``dumps_typed`` returns ``("msgpack", bytes)`` (``"null"``, ``"bytes"``, ``"bytearray"`` for
those values, ``"pickle"`` with ``pickle_fallback=True`` for what msgpack cannot hold), and
``loads_typed`` also reads LangGraph's older ``"json"`` form. Loading builds only the types an
allowlist permits: by default any type with a logged warning (LangGraph's default), only
LangGraph's safe list with ``LANGGRAPH_STRICT_MSGPACK=true``, or the ``allowed_msgpack_modules``
given.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
from collections.abc import Callable, Iterable
from inspect import isclass
from typing import Any, Literal

import ormsgpack
from langchain_core.load.load import Reviver

from rewind.checkpoint.serde import _packing, _unpacking
from rewind.checkpoint.serde.base import SerializerProtocol

__all__ = ["InvalidModuleError", "JsonPlusSerializer"]

logger = logging.getLogger(__name__)
_LC_REVIVER = Reviver(allowed_objects="core")
_UNSET: Any = object()
AllowedModules = Iterable[tuple[str, ...] | type]
"""``(module, name)`` keys or classes."""


class InvalidModuleError(Exception):
    """A stored constructor names a type outside the deserialization allowlist."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """What was refused and how to allow it."""


class JsonPlusSerializer(SerializerProtocol):
    """Serializes to msgpack in LangGraph's format, with optional pickle fallback.

    Security note: as LangGraph's, loading may import and call the classes the bytes name; do
    not load bytes an attacker could write unless the allowlist is restricted.
    """

    def __init__(
        self,
        *,
        pickle_fallback: bool = False,
        allowed_json_modules: AllowedModules | Literal[True] | None = None,
        allowed_msgpack_modules: AllowedModules | Literal[True] | None = _UNSET,
        __unpack_ext_hook__: Callable[[int, bytes], Any] | None = None,
    ) -> None:
        if allowed_msgpack_modules is _UNSET:
            allowed_msgpack_modules = None if _packing.STRICT_MSGPACK_ENABLED else True
        self.pickle_fallback = pickle_fallback
        """Whether what msgpack cannot hold is pickled (and pickles are loaded)."""
        self._allowed_json_modules = _packing.normalize(allowed_json_modules)
        self._allowed_msgpack_modules = _packing.normalize(allowed_msgpack_modules)
        self._custom_unpack_ext_hook = __unpack_ext_hook__ is not None
        self._unpack_ext_hook = __unpack_ext_hook__ or _unpacking.ext_hook_for(
            self._allowed_msgpack_modules
        )

    def with_msgpack_allowlist(
        self, extra_allowlist: Iterable[tuple[str, ...] | type]
    ) -> JsonPlusSerializer:
        """A serializer that also builds the types in ``extra_allowlist``."""
        base = self._allowed_msgpack_modules
        if base is True:
            return self
        extra = _packing.normalize(tuple(extra_allowlist))
        merged = set(base or ()) | (extra if isinstance(extra, set) else set())
        if merged == set(base or ()):
            return self
        clone = copy.copy(self)
        clone._allowed_msgpack_modules = merged
        if not clone._custom_unpack_ext_hook:
            clone._unpack_ext_hook = _unpacking.ext_hook_for(merged)
        return clone

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """``obj`` as ``(type, bytes)``."""
        if obj is None:
            return "null", b""
        if isinstance(obj, bytes):
            return "bytes", obj
        if isinstance(obj, bytearray):
            return "bytearray", obj  # type: ignore[return-value]
        try:
            return "msgpack", _packing.pack(obj)
        except (ormsgpack.MsgpackEncodeError, TypeError):
            if self.pickle_fallback:
                return "pickle", pickle.dumps(obj)
            raise

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """The object a ``(type, bytes)`` pair encodes."""
        type_, payload = data
        if type_ == "null":
            return None
        if type_ == "bytes":
            return payload
        if type_ == "bytearray":
            return bytearray(payload)
        if type_ == "json":
            return json.loads(payload, object_hook=self._revive)
        if type_ == "msgpack":
            return ormsgpack.unpackb(
                payload, ext_hook=self._unpack_ext_hook, option=ormsgpack.OPT_NON_STR_KEYS
            )
        if self.pickle_fallback and type_ == "pickle":
            return pickle.loads(payload)
        raise NotImplementedError(f"Unknown serialization type: {type_}")

    def _revive(self, value: dict[str, Any]) -> Any:
        if value.get("lc") == 2 and value.get("type") == "constructor" and value.get("id"):
            ids = list(value["id"])
            safe = len(ids) >= 2 and (".".join(ids[:-1]), ids[-1]) in _packing.SAFE_MSGPACK_TYPES
            if self._allowed_json_modules or safe:
                try:
                    return self._revive_constructor(value, safe=safe)
                except InvalidModuleError as exc:
                    if not safe:
                        logger.warning(
                            "Object %s is not in the deserialization allowlist.\n%s",
                            value["id"],
                            exc.message,
                        )
        return _LC_REVIVER(value)

    def _revive_constructor(self, value: dict[str, Any], *, safe: bool) -> Any:
        needed = tuple(value["id"])
        allowed = self._allowed_json_modules
        if not safe and allowed is not True and (allowed is None or needed not in allowed):
            raise InvalidModuleError(
                f"Refused to deserialize JSON constructor: {'.'.join(needed)}. It is not in "
                f"the allowlist: JsonPlusSerializer(allowed_json_modules=[{needed!r}, ...]) "
                "allows it."
            )
        *module, name = needed
        try:
            cls = _packing.import_type(".".join(module), name)
            if isclass(cls) and issubclass(cls, BaseException):
                return None
            return cls(*(value.get("args") or ()), **(value.get("kwargs") or {}))
        except Exception as exc:
            logger.warning(
                "Failed to revive lc:2 envelope %s (error=%s); returning None",
                ".".join(needed),
                type(exc).__name__,
            )
            return None
