"""A redaction hook for ``rewind serve --redact`` (tests/server/test_redact_option.py)."""

from __future__ import annotations

from typing import Any


def mask_paris(event: Any) -> Any:
    """The word ``Paris`` is stored as ``PLACE``, wherever it is in a payload."""
    from rewind.log.codec import decode, encode

    return decode(encode(event.payload).replace("Paris", "PLACE"))
