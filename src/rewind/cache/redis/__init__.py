"""``RedisCache``: a node cache on a Redis server, shared by every process that reaches it.

Entries are Redis strings under ``{prefix}{namespace joined by ':'}:{key}``, holding
``{encoding}:{bytes}`` (LangGraph's layout), with Redis's own expiry for a time to live. The
client is a ``redis.Redis`` (or ``redis.asyncio.Redis``, for the async API), or a URL
(``RedisCache("redis://127.0.0.1:6379/0")``). The ``redis`` package is the extra
``pip install 'rewind[redis]'``.

As LangGraph's, an unreachable server makes the cache miss rather than fail the run (the
node runs); unlike LangGraph's, each such failure is logged as a warning.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from rewind.cache.base import BaseCache, FullKey, Namespace, ValueT

__all__ = ["RedisCache"]

logger = logging.getLogger(__name__)


def _client_from_url(url: str) -> Any:
    try:
        import redis
    except ImportError:
        raise ImportError(
            "RedisCache needs the redis package: pip install 'rewind[redis]' (or pip install redis)"
        ) from None
    return redis.Redis.from_url(url)


class RedisCache(BaseCache[ValueT]):
    """Node-cache entries on a Redis server, with their time to live."""

    def __init__(self, redis: Any, *, serde: Any = None, prefix: str = "langgraph:cache:") -> None:
        """``redis``: a client (sync or async) or a ``redis://`` URL; ``serde``: an object with
        ``dumps_typed``/``loads_typed`` (rewind's codec by default); ``prefix``: of every key."""
        super().__init__(serde=serde)
        self.redis = _client_from_url(redis) if isinstance(redis, str) else redis
        """The client."""
        self.prefix = prefix
        """What every key of this cache starts with."""

    def _make_key(self, ns: Namespace, key: str) -> str:
        ns_str = ":".join(ns)
        return f"{self.prefix}{ns_str}:{key}" if ns_str else f"{self.prefix}{key}"

    def _pattern(self, ns: Namespace) -> str:
        ns_str = ":".join(ns)
        return f"{self.prefix}{ns_str}:*" if ns_str else f"{self.prefix}*"

    def _is_async(self) -> bool:
        return inspect.iscoroutinefunction(getattr(self.redis, "execute_command", None))

    def _sync_client(self, method: str) -> Any:
        if self._is_async():
            raise TypeError(
                f"RedisCache.{method} was called with an async Redis client: use the async "
                "API (ainvoke/astream), or give a sync client (redis.Redis)"
            )
        return self.redis

    def _decode(self, keys: Sequence[FullKey], raw_values: Sequence[Any]) -> dict[FullKey, ValueT]:
        values: dict[FullKey, ValueT] = {}
        for full_key, raw in zip(keys, raw_values, strict=True):
            if raw is None:
                continue
            try:
                encoding, data = bytes(raw).split(b":", 1)
                ns, key = full_key
                values[(tuple(ns), key)] = self.serde.loads_typed((encoding.decode(), data))
            except Exception:
                logger.warning("skipped an unreadable node-cache entry %s", full_key, exc_info=True)
        return values

    def _entries(
        self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]
    ) -> list[tuple[str, bytes, int | None]]:
        out = []
        for (ns, key), (value, ttl) in pairs.items():
            encoding, data = self.serde.dumps_typed(value)
            out.append((self._make_key(tuple(ns), key), f"{encoding}:".encode() + data, ttl))
        return out

    @staticmethod
    def _queue(pipe: Any, entries: list[tuple[str, bytes, int | None]]) -> None:
        for redis_key, raw, ttl in entries:
            if ttl is not None:
                pipe.setex(redis_key, ttl, raw)
            else:
                pipe.set(redis_key, raw)

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The values cached for these keys (a miss for all when the server is unreachable)."""
        if not keys:
            return {}
        client = self._sync_client("get")
        try:
            raw_values = client.mget([self._make_key(tuple(ns), key) for ns, key in keys])
        except Exception:
            logger.warning("node cache on Redis unreachable: a miss", exc_info=True)
            return {}
        return self._decode(keys, raw_values)

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """:meth:`get`, for async code (awaits an async client)."""
        if not keys:
            return {}
        try:
            raw_values = self.redis.mget([self._make_key(tuple(ns), key) for ns, key in keys])
            if inspect.isawaitable(raw_values):
                raw_values = await raw_values
        except Exception:
            logger.warning("node cache on Redis unreachable: a miss", exc_info=True)
            return {}
        return self._decode(keys, raw_values)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Cache each value for its time to live (seconds; ``None``: until cleared)."""
        if not pairs:
            return
        entries = self._entries(pairs)  # an unencodable value raises here, to the caller
        pipe = self._sync_client("set").pipeline()
        self._queue(pipe, entries)
        try:
            pipe.execute()
        except Exception:
            logger.warning("node cache on Redis unreachable: not cached", exc_info=True)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """:meth:`set`, for async code."""
        if not pairs:
            return
        entries = self._entries(pairs)
        pipe = self.redis.pipeline()
        self._queue(pipe, entries)
        try:
            done = pipe.execute()
            if inspect.isawaitable(done):
                await done
        except Exception:
            logger.warning("node cache on Redis unreachable: not cached", exc_info=True)

    def _patterns(self, namespaces: Sequence[Namespace] | None) -> list[str]:
        if namespaces is None:
            return [f"{self.prefix}*"]
        return [self._pattern(tuple(ns)) for ns in namespaces]

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the entries of these namespaces (all of this prefix's, without any)."""
        client = self._sync_client("clear")
        try:
            for pattern in self._patterns(namespaces):
                keys = list(client.scan_iter(match=pattern, count=500))
                if keys:
                    client.delete(*keys)
        except Exception:
            logger.warning("node cache on Redis unreachable: not cleared", exc_info=True)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """:meth:`clear`, for async code."""
        if not self._is_async():
            self.clear(namespaces)
            return
        try:
            for pattern in self._patterns(namespaces):
                keys = [k async for k in self.redis.scan_iter(match=pattern, count=500)]
                if keys:
                    await self.redis.delete(*keys)
        except Exception:
            logger.warning("node cache on Redis unreachable: not cleared", exc_info=True)
