"""What content goes on spans: none by default, capped when opted in.

The GenAI conventions keep message content off spans unless the user asks for it; the log holds
it anyway. When it is on, each attribute is cut to a size every collector accepts, with a marker
that says how much was cut, so one long prompt never gets a whole export rejected.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CAPTURE_CONTENT_ENV", "DEFAULT_MAX_LENGTH", "ContentPolicy", "capture_content_from_env"]

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The standard switch for message content on GenAI spans (``true`` to capture)."""
DEFAULT_MAX_LENGTH = 8192
"""Characters an attribute keeps at most, its truncation marker included."""
_TRUE = {"true", "1", "yes", "on"}


def capture_content_from_env() -> bool:
    """Whether ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for content."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in _TRUE


@dataclass(frozen=True, kw_only=True, slots=True)
class ContentPolicy:
    """Whether message content, state values and tool arguments/results go on spans."""

    enabled: bool = False
    """Put content on spans (off by default, as the GenAI conventions say)."""
    max_length: int = DEFAULT_MAX_LENGTH
    """Most characters one content attribute keeps, its truncation marker included."""

    def __post_init__(self) -> None:
        if self.max_length < 64:
            raise ValueError(f"max_length must be at least 64 characters, not {self.max_length}")

    @classmethod
    def from_env(cls, enabled: bool | None = None, max_length: int | None = None) -> ContentPolicy:
        """The policy the environment asks for, unless ``enabled``/``max_length`` say otherwise.

        ``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``, when set lower, lowers the cap.
        """
        cap = max_length or DEFAULT_MAX_LENGTH
        limit = os.environ.get("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "").strip()
        if max_length is None and limit.isdigit():
            cap = max(64, min(cap, int(limit)))
        return cls(
            enabled=capture_content_from_env() if enabled is None else enabled, max_length=cap
        )

    def put(self, attributes: dict[str, Any], key: str, value: Any) -> None:
        """Set ``attributes[key]`` to ``value`` as capped text, if content is on (a value that
        is not text as JSON that stays JSON: see :meth:`fit`)."""
        if not self.enabled or value is None:
            return
        attributes[key] = self.cap(value) if isinstance(value, str) else self.fit(value)

    def fit(self, value: Any) -> str:
        """``value`` as JSON of at most :attr:`max_length` characters that is still JSON: its
        longest strings cut (each with a marker saying how long it was) as little as makes it
        fit, so a backend that reads the structure (messages, arguments) still can. Only when
        cutting strings is not enough is the text itself cut."""
        text = to_json(value)
        if len(text) <= self.max_length:
            return text
        plain = json.loads(text)
        lo, hi, best = 0, _longest(plain), None
        while lo <= hi:  # the longest string length that fits
            mid = (lo + hi) // 2
            candidate = to_json(_clipped(plain, mid))
            if len(candidate) <= self.max_length:
                best, lo = candidate, mid + 1
            else:
                hi = mid - 1
        return best if best is not None else self.cap(text)

    def cap(self, text: str) -> str:
        """``text`` cut to :attr:`max_length` characters, with a marker saying what was cut."""
        if len(text) <= self.max_length:
            return text
        marker = f"...[truncated {len(text)} chars]"
        return text[: self.max_length - len(marker)] + marker


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest(v) for v in value), default=0)
    return 0


def _clipped(value: Any, limit: int) -> Any:
    """``value`` (plain JSON) with each string longer than ``limit`` cut to it, marked."""
    if isinstance(value, str):
        marker = f"...[truncated {len(value)} chars]"
        if len(value) <= limit + len(marker):  # cut, it would be no shorter
            return value
        return value[:limit] + marker
    if isinstance(value, dict):
        return {k: _clipped(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_clipped(v, limit) for v in value]
    return value


def to_json(value: Any) -> str:
    """JSON for any payload value: messages and models as their fields, the rest as text."""
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value) if not isinstance(value, bytes) else f"<{len(value)} bytes>"
