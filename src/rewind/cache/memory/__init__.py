"""``InMemoryCache``: a node cache in the process's memory (gone when it exits)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from rewind.cache.base import BaseCache, FullKey, Namespace, ValueT

__all__ = ["InMemoryCache"]


class InMemoryCache(BaseCache[ValueT]):
    """Values kept encoded (what a node later changes in place does not change them), with
    their expiry; thread-safe."""

    def __init__(self, *, serde: object | None = None) -> None:
        super().__init__(serde=serde)
        self._cache: dict[Namespace, dict[str, tuple[str, bytes, float | None]]] = {}
        self._lock = threading.RLock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        now = time.time()
        values: dict[FullKey, ValueT] = {}
        with self._lock:
            for ns, key in keys:
                entries = self._cache.get(tuple(ns))
                if entries is None or key not in entries:
                    continue
                encoding, raw, expiry = entries[key]
                if expiry is not None and now >= expiry:
                    del entries[key]
                    continue
                values[(tuple(ns), key)] = self.serde.loads_typed((encoding, raw))
        return values

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self.get(keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        with self._lock:
            for (ns, key), (value, ttl) in pairs.items():
                encoding, raw = self.serde.dumps_typed(value)
                expiry = None if ttl is None else now + ttl
                self._cache.setdefault(tuple(ns), {})[key] = (encoding, raw, expiry)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        self.set(pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._cache.clear()
            else:
                for ns in namespaces:
                    self._cache.pop(tuple(ns), None)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)
