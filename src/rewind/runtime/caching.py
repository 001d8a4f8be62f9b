"""The node cache at run time: a node with a ``cache_policy``, on a graph compiled with a
``cache``, is looked up by its input before its step runs; a hit is not run (its writes and
where it led come from the cache, and the log records the task as a cache hit); a node that
finished is cached with its policy's time to live. A hit's writes are what LangGraph's cache
gives back (its serializer's round trip: tuples as lists, see :mod:`.read_back`).

Keys are namespaced as LangGraph's (``("__pregel_ns_writes", "<module>.<qualname>", node)``),
so ``clear_cache(nodes)`` clears a node's entries; the key within is a 128-bit BLAKE2 digest of
what the policy's ``key_func`` made of the input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from rewind.cache.base import BaseCache, FullKey, Namespace
from rewind.log.codec import tuples_decoded
from rewind.runtime.channels import MISSING
from rewind.runtime.read_back import as_checkpointed
from rewind.types import CachePolicy

__all__ = ["CACHE_NS_WRITES", "CacheEntry", "cache_entry", "node_namespace"]

CACHE_NS_WRITES = "__pregel_ns_writes"

CacheEntry = tuple[FullKey, int | None]
"""Where a task's writes are cached, and for how long (seconds; ``None``: for ever)."""


def node_namespace(name: str, action: Any) -> Namespace:
    """The namespace of a node's cached writes."""
    return (CACHE_NS_WRITES, _identifier(action) or "__dynamic__", name)


def cache_entry(
    policy: CachePolicy[Any], name: str, action: Any, *args: Any, **kwargs: Any
) -> CacheEntry:
    """Where what ``name`` makes of these arguments (a node's input; a task call's
    arguments) is cached under ``policy``."""
    made = policy.key_func(*args, **kwargs)
    raw = made.encode() if isinstance(made, str) else bytes(made)
    key = hashlib.blake2b(raw, digest_size=16).hexdigest()
    return (node_namespace(name, action), key), policy.ttl


async def cached_writes(cache: BaseCache[Any], entries: Sequence[CacheEntry]) -> dict[FullKey, Any]:
    """The cached values of these entries (those present and not expired): each a node's
    ``writes`` (``[channel, value]`` pairs) and ``goto``, as LangGraph's cache gives them back
    (its serializer stores tuples as lists: made so where the cache's decoding made a tuple)."""
    if not entries:
        return {}
    mark = tuples_decoded()
    found = await cache.aget([key for key, _ in entries])
    if tuples_decoded() == mark:
        return found
    return {
        key: {
            **hit,
            "writes": [[channel, as_checkpointed(value)] for channel, value in hit["writes"]],
            "goto": as_checkpointed(list(hit["goto"])),
        }
        for key, hit in found.items()
    }


def _identifier(action: Any) -> str | None:
    """``module.qualname`` of the function a node runs (LangGraph's ``identifier``)."""
    func = getattr(action, "func", None) or action  # a RunnableCallable's function
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        return None
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if module is not None else name


def input_of(task_arg: Any, prepared: Any) -> Any:
    """What a task's cache key is made from: a ``Send``'s argument, else the node's input."""
    return task_arg if task_arg is not MISSING else prepared
