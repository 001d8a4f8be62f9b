"""The cache interface LangGraph's node caches implement, with rewind's codec as serializer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from rewind.log import codec

__all__ = ["BaseCache", "FullKey", "Namespace", "ValueT"]

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]

ENCODING = "rewind-json"
"""How :class:`CodecSerializer` tags what it writes."""


class CodecSerializer:
    """Values to bytes and back through rewind's log codec (the types the log can hold, and
    those registered with :func:`rewind.log.codec.register_type`)."""

    def dumps_typed(self, value: Any) -> tuple[str, bytes]:
        return ENCODING, codec.encode(value).encode()

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        encoding, raw = data
        if encoding != ENCODING:
            raise ValueError(
                f"a cache entry encoded as {encoding!r}, not {ENCODING!r}: it was written by "
                "another serializer; clear the cache (graph.clear_cache())"
            )
        return codec.decode(raw)


class BaseCache(ABC, Generic[ValueT]):
    """A cache of values by ``(namespace, key)``, each with an optional time to live."""

    serde: Any = CodecSerializer()

    def __init__(self, *, serde: Any = None) -> None:
        """``serde``: an object with ``dumps_typed``/``loads_typed`` (rewind's codec by
        default)."""
        self.serde = serde or self.serde

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The values cached for these keys (those present and not expired)."""

    @abstractmethod
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """:meth:`get`, for async code."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Cache each value for its key, for its time to live in seconds (``None``: ever)."""

    @abstractmethod
    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """:meth:`set`, for async code."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the values of these namespaces (every value, without any)."""

    @abstractmethod
    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """:meth:`clear`, for async code."""
