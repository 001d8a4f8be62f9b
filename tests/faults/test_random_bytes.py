"""Random bytes where a stored payload should be: decoding either gives a value or raises
:class:`~rewind.errors.CorruptPayloadError`, which says what to do; never another exception
(the HTTP API's parsers get theirs in tests/server/test_fuzz.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewind.errors import CorruptPayloadError
from rewind.log import codec

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
_tags = st.sampled_from(["dt", "date", "set", "dict", "bytes", "dc", "pyd", "enum", "lc", "x"])


def _decodes_or_says_so(data: str | bytes) -> None:
    error = None
    try:
        codec.decode(data)
    except CorruptPayloadError as exc:
        error = str(exc)
    assert error is None or "rewind db verify" in error


@pytest.mark.faults
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_a_clear_error(data: bytes) -> None:
    _decodes_or_says_so(data)


@pytest.mark.faults
@settings(max_examples=400, deadline=None)
@given(st.text(max_size=64))
def test_random_text_decodes_or_raises_a_clear_error(text: str) -> None:
    _decodes_or_says_so(text)


@pytest.mark.faults
@settings(max_examples=400, deadline=None)
@given(_tags | st.text(max_size=6), _json)
def test_tagged_values_with_random_contents_decode_or_raise_a_clear_error(
    tag: str, value: Any
) -> None:
    _decodes_or_says_so(json.dumps({"__rw__": tag, "v": value}))
    _decodes_or_says_so(json.dumps([{"__rw__": tag, "v": value, "m": value}]))


@pytest.mark.faults
@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deep_nesting_raises_a_clear_error(depth: int) -> None:
    with pytest.raises(CorruptPayloadError, match="nested deeper"):
        codec.decode("[" * depth + "]" * depth)
