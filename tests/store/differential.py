"""Running the same calls on a LangGraph store and a rewind store, and comparing what they give.

An outcome is what a call returned, normalised (items without their timestamps, which the two
stores take from their own clocks), or the type name and message of what it raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Outcome = tuple[Any, ...]


def norm(result: Any, *, times: Callable[[Any], Any] | None = None) -> Any:
    """A result with items as tuples: (namespace, key, value[, score][, times(item)])."""
    if isinstance(result, list):
        return [norm(r, times=times) for r in result]
    if hasattr(result, "namespace") and hasattr(result, "key") and hasattr(result, "value"):
        item: tuple[Any, ...] = (tuple(result.namespace), result.key, result.value)
        if hasattr(result, "score"):
            item += (result.score,)
        if times is not None:
            item += (times(result),)
        return item
    return result


def outcome(call: Callable[[], Any], *, times: Callable[[Any], Any] | None = None) -> Outcome:
    """``("ok", result)`` or ``("error", type name, message)``."""
    try:
        return ("ok", norm(call(), times=times))
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


def scores_close(a: Any, b: Any, tolerance: float) -> bool:
    """Whether two normalised results are equal, scores within ``tolerance``."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return False
        return all(scores_close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    return bool(a == b)


def letters(texts: list[str] | Any) -> list[list[float]]:
    """A toy embedding: how often each of the letters a-h occurs in the text."""
    return [[float(text.count(c)) for c in "abcdefgh"] for text in texts]


async def aletters(texts: list[str] | Any) -> list[list[float]]:
    """:func:`letters`, async."""
    return letters(texts)


def pseudo(texts: list[str] | Any) -> list[list[float]]:
    """A toy embedding whose vectors differ for every text (no ties between distinct texts)."""
    import hashlib

    out = []
    for text in texts:
        digest = hashlib.sha256(text.encode()).digest()
        out.append([b / 255 - 0.5 for b in digest[:8]])
    return out
