"""Vector arithmetic for semantic search, in plain Python (numpy used when it is installed).

The in-memory store's scores are computed as LangGraph's ``InMemoryStore`` computes them (the
same operations in the same order, so the same floats); the SQLite store's as the sqlite-vec
functions LangGraph's ``SqliteStore`` uses define them, and the PostgreSQL store's as the
pgvector operators LangGraph's ``PostgresStore`` uses define them, on vectors kept as float32.
"""

from __future__ import annotations

import functools
import importlib
import math
from array import array
from collections.abc import Sequence
from typing import Any

__all__ = ["cosine_similarities", "pack", "pgvector_score", "score", "unpack"]


@functools.cache
def _numpy() -> Any:
    try:
        return importlib.import_module("numpy")
    except ImportError:
        return None


def cosine_similarities(x: Sequence[float], ys: Sequence[Sequence[float]]) -> list[float]:
    """The cosine similarity of ``x`` with each of ``ys`` (0.0 where a vector is all zeros)."""
    if not ys:
        return []
    np = _numpy()
    if np is not None:  # pragma: no cover - numpy is optional and absent from the test env
        x_arr, y_arr = np.array(x), np.array(ys)
        x_norm = np.linalg.norm(x_arr)
        y_norm = np.linalg.norm(y_arr, axis=1)
        mask = y_norm != 0
        out = np.zeros_like(y_norm)
        out[mask] = np.dot(y_arr[mask], x_arr) / (y_norm[mask] * x_norm)
        return [float(v) for v in out.tolist()]
    x_norm = sum(a * a for a in x) ** 0.5
    out_py: list[float] = []
    for y in ys:
        dot = sum(a * b for a, b in zip(x, y, strict=False))
        y_norm = sum(b * b for b in y) ** 0.5
        out_py.append(dot / (x_norm * y_norm) if x_norm > 0 and y_norm > 0 else 0.0)
    return out_py


def pack(vector: Sequence[float]) -> bytes:
    """A vector as the BLOB the SQLite store keeps: float32, the machine's byte order."""
    return array("f", vector).tobytes()


def unpack(blob: bytes) -> list[float]:
    """The vector a :func:`pack` BLOB holds."""
    values = array("f")
    values.frombytes(blob)
    return values.tolist()


def score(distance_type: str, query: Sequence[float], vector: Sequence[float]) -> float:
    """A SQLite store's score of ``vector`` for ``query``, as LangGraph's SQL computes it:
    ``cosine`` (the default) ``1 - cosine distance``; ``l2`` the euclidean distance;
    ``inner_product`` minus the L1 distance. Higher ranks first."""
    if distance_type == "l2":
        return _euclidean(query, vector)
    if distance_type == "inner_product":
        return -sum(abs(a - b) for a, b in zip(query, vector, strict=False))
    return _cosine(query, vector)


def pgvector_score(distance_type: str, query: Sequence[float], vector: Sequence[float]) -> float:
    """A PostgreSQL store's score of ``vector`` for ``query``, as LangGraph's SQL computes it
    from pgvector's operators: ``cosine`` (the default) ``1 - cosine distance``; ``l2`` minus
    the euclidean distance; ``inner_product`` the inner product. Higher ranks first."""
    if distance_type == "l2":
        return -_euclidean(query, vector)
    if distance_type == "inner_product":
        return _dot(query, vector)
    return _cosine(query, vector)


def _dot(x: Sequence[float], y: Sequence[float]) -> float:
    return sum(a * b for a, b in zip(x, y, strict=False))


def _euclidean(x: Sequence[float], y: Sequence[float]) -> float:
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(x, y, strict=False)))


def _cosine(x: Sequence[float], y: Sequence[float]) -> float:
    """The cosine similarity (0.0 where a vector is all zeros)."""
    norms = math.sqrt(_dot(x, x)) * math.sqrt(_dot(y, y))
    return _dot(x, y) / norms if norms else 0.0
