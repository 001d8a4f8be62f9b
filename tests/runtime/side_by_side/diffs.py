"""Comparing two engines' documents: where they first differ, every difference (up to a
limit), and both sides at a difference with where it happened (scenario, call), for the
side-by-side harness (:mod:`tests.runtime.side_by_side.harness`)."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["all_diffs", "explain_diff", "first_diff"]


def first_diff(a: Any, b: Any, path: str = "$") -> str | None:
    """The path of the first difference between two documents, or ``None``."""
    if type(a) is not type(b):
        return path
    if isinstance(a, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            if k not in a or k not in b:
                return f"{path}.{k}"
            d = first_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None if len(a) == len(b) else f"{path}[{min(len(a), len(b))}]"
    return None if a == b else path


def all_diffs(a: Any, b: Any, path: str = "$", limit: int = 12) -> list[str]:
    """Up to ``limit`` paths where the two documents differ, in document order."""
    out: list[str] = []

    def walk(x: Any, y: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if type(x) is not type(y):
            out.append(p)
        elif isinstance(x, dict):
            for k in [*x, *(k for k in y if k not in x)]:
                if k not in x or k not in y:
                    out.append(f"{p}.{k}")
                else:
                    walk(x[k], y[k], f"{p}.{k}")
        elif isinstance(x, list):
            for i, (xi, yi) in enumerate(zip(x, y, strict=False)):
                walk(xi, yi, f"{p}[{i}]")
            if len(x) != len(y):
                out.append(f"{p}[{min(len(x), len(y))}]")
        elif x != y:
            out.append(p)

    walk(a, b, path)
    return out[:limit]


_MISSING = object()


def _at(doc: Any, path: str) -> Any:
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        key, index = part
        try:
            doc = doc[int(index)] if index else doc[key]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return doc


def _show(value: Any, limit: int = 1500) -> str:
    if value is _MISSING:
        return "<absent>"
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def explain_diff(reference: Any, candidate: Any, path: str) -> str:
    """Both sides at the first difference, with where it happened (scenario, call)."""
    where = []
    scenario = re.match(r"\$\.scenarios\[(\d+)\]", path)
    if scenario:
        where.append(f"scenario {_at(reference, scenario.group(0)[1:]).get('scenario')!r}")
    call = re.match(r"\$\.scenarios\[\d+\]\.calls\[(\d+)\]", path)
    errors = ""
    if call:
        where.append(f"call {call.group(1)}")
        errors = "".join(
            f"\n--- {engine} call error: {_show(_at(doc, call.group(0)[1:] + '.error'))}"
            for engine, doc in (("langgraph", reference), ("rewind", candidate))
        )
    others = all_diffs(reference, candidate)
    return (
        f"first difference at {path} ({', '.join(where) or 'top level'})\n"
        f"--- langgraph:\n{_show(_at(reference, path[1:]))}\n"
        f"--- rewind:\n{_show(_at(candidate, path[1:]))}{errors}\n"
        f"--- differences (first {len(others)}):\n" + "\n".join(others)
    )
