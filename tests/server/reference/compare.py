"""What two servers' answers are compared as: normalised JSON, and the paths where they differ.

Ids (run, thread, assistant, checkpoint, cron, message, task and interrupt ids: every UUID, and
every 32-digit hex token) become placeholders named after where the id first appeared on that
server (``<threads.create $.result.thread_id>``: the call and the path in its answer), so
identity survives (the same id twice is the same placeholder), the random values do not count,
and an id one server mentions where the other does not shifts no other placeholder. Timestamps
(ISO 8601 text, or epoch milliseconds) become ``<time>``, the server's own URL ``<server url>``.
A list the API leaves unordered is sorted. Nothing else is dropped or changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx

ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])",
    re.IGNORECASE,
)
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
EPOCH_MS = range(10**12, 10**13)
"""Integers read as epoch milliseconds (2001 to 2286)."""
ABSENT = "<absent>"
"""What a diff shows for a key or list item one side does not have."""


class Normaliser:
    """One server's ids, named after where each first appeared, and its URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.ids: dict[str, str] = {}
        self.call = ""
        """The call whose answer is being normalised (part of the placeholders it names)."""

    def __call__(
        self, value: Any, *, unordered: frozenset[str] = frozenset(), root: str = "$"
    ) -> Any:
        """``value`` (decoded JSON) with ids, timestamps and the URL replaced; the lists at the
        paths in ``unordered`` (``$``, ``$.items``, ``$[*].values``) sorted. ``root`` is the
        value's path as placeholders name it."""
        return self._value(value, unordered, root, "$", register=True)

    def _value(
        self, value: Any, unordered: frozenset[str], path: str, pattern: str, *, register: bool
    ) -> Any:
        if isinstance(value, dict):
            out = {}
            for key in sorted(value, key=lambda k: (ID.sub("", str(k)), str(k))):
                # An id in a key is named after the key's place, the id left out.
                new_key = self._text(str(key), f"{path}.{ID.sub('?', str(key))}", register=register)
                out[new_key] = self._value(
                    value[key],
                    unordered,
                    f"{path}.{new_key}",
                    f"{pattern}.{key}",
                    register=register,
                )
            return out
        if isinstance(value, list | tuple):
            items = list(value)
            if pattern in unordered:
                items.sort(
                    key=lambda item: _dump(self._value(item, frozenset(), "", "", register=False))
                )
            return [
                self._value(item, unordered, f"{path}[{i}]", f"{pattern}[*]", register=register)
                for i, item in enumerate(items)
            ]
        if isinstance(value, str):
            return self._text(value, path, register=register)
        if isinstance(value, int) and not isinstance(value, bool) and value in EPOCH_MS:
            return "<time>"
        return value

    def _text(self, value: str, path: str, *, register: bool) -> str:
        value = TIME.sub("<time>", value.replace(self.url, "<server url>"))
        found = 0

        def placeholder(match: re.Match[str]) -> str:
            nonlocal found
            raw = match.group(0).lower()
            found += 1
            if raw not in self.ids:
                if not register:
                    return "<new>"  # a sort key names nothing
                where = path if found == 1 else f"{path}#{found}"
                self.ids[raw] = f"<{self.call} {where}>"
            return self.ids[raw]

        return ID.sub(placeholder, value)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def error_outcome(exc: BaseException, normalise: Normaliser, *, detail: bool) -> dict[str, Any]:
    """An exception as compared: its HTTP status and type, and (when ``detail``) the body's
    ``detail`` with ids replaced."""
    outcome: dict[str, Any] = {"error": type(exc).__name__}
    if isinstance(exc, httpx.HTTPStatusError):
        outcome["status"] = exc.response.status_code
        if detail:
            outcome["detail"] = normalise(body_detail(exc), root="$.detail")
    elif detail:
        outcome["detail"] = normalise(str(exc), root="$.detail")
    return outcome


def body_detail(exc: httpx.HTTPStatusError) -> Any:
    """The ``detail`` of an error response's JSON body (else the body, else its text)."""
    body = getattr(exc, "body", None)  # the SDK's errors keep the decoded body
    if body is None:
        try:
            body = exc.response.json()
        except (ValueError, httpx.ResponseNotRead):
            return None
    return body.get("detail", body) if isinstance(body, dict) else body


def differences(a: Any, b: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """Each (path, value in ``a``, value in ``b``) where ``a`` and ``b`` differ, deepest
    first found."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from differences(a.get(key, ABSENT), b.get(key, ABSENT), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            yield from differences(
                a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT, f"{path}[{i}]"
            )
    elif type(a) is not type(b) or a != b:
        yield path, a, b


def describe(diffs: list[tuple[str, Any, Any]]) -> list[str]:
    """The differences as lines: ``path: langgraph X | rewind Y``, with the keys of one object
    that only one side has on one line (``path: only langgraph has a, b``)."""
    entries: list[str | tuple[str, str, list[str]]] = []
    groups: dict[tuple[str, str], list[str]] = {}
    for path, theirs, ours in diffs:
        parent, dot, key = path.rpartition(".")
        if dot and not key.endswith("]") and ABSENT in (theirs, ours):
            side = "langgraph" if ours == ABSENT else "rewind"
            if (parent, side) not in groups:
                groups[parent, side] = []
                entries.append((parent, side, groups[parent, side]))
            groups[parent, side].append(key)
        else:
            entries.append(f"{path}: langgraph {short(theirs)} | rewind {short(ours)}")
    return [
        entry
        if isinstance(entry, str)
        else f"{entry[0]}: only {entry[1]} has {', '.join(entry[2])}"
        for entry in entries
    ]


def short(value: Any, width: int = 100) -> str:
    """``value`` as compact JSON, cut to ``width`` characters."""
    text = value if value == ABSENT else _dump(value)
    return text if len(text) <= width else text[: width - 3] + "..."
