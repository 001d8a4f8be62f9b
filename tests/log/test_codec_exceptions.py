"""The payload codec and exceptions: a recorded failure decodes to its class, with its
arguments and the attributes it kept (``NodeTimeoutError``'s node, kind and timeouts, which
its constructor does not take back), as plain data when its class is gone."""

from __future__ import annotations

import json
from typing import Any

import langgraph.errors

from rewind.errors import NodeTimeoutError
from rewind.log.codec import decode, encode


class PaymentError(Exception):
    """Keeps a code its message only mentions (its constructor takes the code)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"payment refused ({code})")
        self.code = code
        self.retry_after: float | None = None


class Tangled(Exception):
    """Holds what cannot be encoded, and itself."""


def _attributes(error: BaseException) -> dict[str, Any]:
    return {k: v for k, v in vars(error).items() if not k.startswith("__")}


def test_a_node_timeout_keeps_langgraphs_fields() -> None:
    error = NodeTimeoutError("slow", 0.31, kind="idle", idle_timeout=0.3, run_timeout=5.0)
    error.add_note("During task with name 'slow' and id '1'")
    back = decode(encode(error))
    assert type(back) is NodeTimeoutError
    assert (str(back), back.args) == (str(error), error.args)
    expected = langgraph.errors.NodeTimeoutError(
        "slow", 0.31, kind="idle", idle_timeout=0.3, run_timeout=5.0
    )
    assert _attributes(back) == _attributes(expected) == _attributes(error)
    assert (back.node, back.kind, back.timeout) == ("slow", "idle", 0.3)
    assert not hasattr(back, "__notes__")  # notes are not recorded (the runtime adds its own)


def test_a_users_exception_gets_back_the_fields_it_kept() -> None:
    error = PaymentError(402)
    error.retry_after = 1.5
    back = decode(encode(error))
    assert type(back) is PaymentError
    assert (str(back), back.code, back.retry_after) == (str(error), 402, 1.5)


def test_an_exception_without_fields_is_encoded_as_before() -> None:
    payload = json.loads(encode(ValueError("bad", 2)))
    assert "fields" not in payload
    back = decode(encode(ValueError("bad", 2)))
    assert type(back) is ValueError and back.args == ("bad", 2)


def test_fields_that_cannot_be_encoded_are_left_out_and_a_cycle_ends() -> None:
    error = Tangled("knot")
    error.lock = object()  # type: ignore[attr-defined]
    error.me = error  # type: ignore[attr-defined]
    error.peers = [error, {"n": 1}]  # type: ignore[attr-defined]
    error.count = 3  # type: ignore[attr-defined]
    back = decode(encode(error))
    assert type(back) is Tangled and str(back) == "knot"
    assert not hasattr(back, "lock")
    assert back.count == 3
    # An exception among the fields is recorded without fields of its own.
    assert type(back.me) is Tangled and not hasattr(back.me, "me")
    assert type(back.peers[0]) is Tangled and back.peers[1] == {"n": 1}


def test_a_gone_class_keeps_its_fields_as_data() -> None:
    text = encode(PaymentError(402)).replace(f"{__name__}:PaymentError", f"{__name__}:Gone")
    back = decode(text)
    assert back == {
        "__class__": f"{__name__}.Gone",
        "value": ("payment refused (402)",),
        "fields": {"code": 402, "retry_after": None},
    }
