"""rewind's JsonPlusSerializer and EncryptedSerializer write and read LangGraph's bytes.

Every value is dumped by one library and loaded by the other, both ways.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import ipaddress
import pathlib
import re
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer as LgEncrypted
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer as LgSerde
from pydantic import BaseModel

from rewind.checkpoint.serde.base import (
    SerializerCompat,
    SerializerProtocol,
    maybe_add_typed_methods,
)
from rewind.checkpoint.serde.encrypted import EncryptedSerializer
from rewind.checkpoint.serde.event_hooks import SerdeEvent, register_serde_event_listener
from rewind.checkpoint.serde.jsonplus import InvalidModuleError, JsonPlusSerializer
from rewind.checkpoint.serde.types import SendProtocol


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Pair(NamedTuple):
    a: int
    b: str


class Model(BaseModel):
    name: str
    n: int


VALUES: list[Any] = [
    None,
    b"raw",
    bytearray(b"arr"),
    1,
    "text",
    [1, "a", None],
    {"k": [1, 2], 3: "int key"},
    (1, 2),
    {1, 2},
    frozenset({"a"}),
    deque([1, 2]),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.date(2024, 1, 2),
    dt.time(3, 4, 5),
    dt.timedelta(days=1, seconds=2),
    dt.timezone(dt.timedelta(hours=2)),
    ZoneInfo("Europe/Paris"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    decimal.Decimal("1.25"),
    ipaddress.IPv4Address("10.0.0.1"),
    ipaddress.IPv6Network("::/64"),
    pathlib.Path("/tmp/x"),
    re.compile("a+b", re.I),
    Color.RED,
    Point(1, 2),
    Pair(1, "b"),
    Model(name="m", n=3),
    HumanMessage("hi", id="1"),
    AIMessage("", id="2", tool_calls=[{"name": "t", "args": {"a": 1}, "id": "c1"}]),
    ToolMessage("out", tool_call_id="c1", id="3"),
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, tuple) and not hasattr(b, "_fields"):
        return list(a) == list(b)  # msgpack has no tuples, in either library
    return bool(a == b) and type(a).__name__ == type(b).__name__


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_the_bytes_are_langgraphs(value: Any) -> None:
    ours, theirs = JsonPlusSerializer(), LgSerde()
    assert ours.dumps_typed(value) == theirs.dumps_typed(value)
    assert _same(theirs.loads_typed(ours.dumps_typed(value)), value)
    assert _same(ours.loads_typed(theirs.dumps_typed(value)), value)


def test_langgraphs_own_types_load_as_rewinds_and_back() -> None:
    from langgraph import types as lg_types

    from rewind import types

    ours, theirs = JsonPlusSerializer(), LgSerde()
    send = theirs.dumps_typed(lg_types.Send("node", {"x": 1}))
    loaded = ours.loads_typed(send)
    assert type(loaded) is types.Send and (loaded.node, loaded.arg) == ("node", {"x": 1})
    assert ours.dumps_typed(loaded) == send
    interrupt = types.Interrupt(value="ask", id="abc")
    back = theirs.loads_typed(ours.dumps_typed(interrupt))
    assert type(back) is lg_types.Interrupt and (back.value, back.id) == ("ask", "abc")
    command = ours.loads_typed(theirs.dumps_typed(lg_types.Command(goto="x", update={"a": 1})))
    assert type(command) is types.Command and command.goto == "x"


def test_pickle_fallback_and_unknown_types() -> None:
    unserializable = (lambda: 1,)
    with pytest.raises(TypeError, match="not msgpack serializable: function"):
        JsonPlusSerializer().dumps_typed(unserializable)
    pickling = JsonPlusSerializer(pickle_fallback=True)
    typ, data = pickling.dumps_typed({"f": len})
    assert typ == "pickle" and pickling.loads_typed((typ, data)) == {"f": len}
    with pytest.raises(NotImplementedError, match="Unknown serialization type: pickle"):
        JsonPlusSerializer().loads_typed((typ, data))


def test_the_allowlist_blocks_and_tells_listeners() -> None:
    events: list[SerdeEvent] = []
    stop = register_serde_event_listener(events.append)
    try:
        data = JsonPlusSerializer().dumps_typed(Point(1, 2))
        strict = JsonPlusSerializer(allowed_msgpack_modules=None)
        assert strict.loads_typed(data) == {"x": 1, "y": 2}  # the stored fields, not the class
        assert events[-1] == {"kind": "msgpack_blocked", "module": __name__, "name": "Point"}
        assert strict.with_msgpack_allowlist([Point]).loads_typed(data) == Point(1, 2)
        assert JsonPlusSerializer(allowed_msgpack_modules=[Point]).loads_typed(data) == Point(1, 2)
        # The safe list loads without an allowlist.
        assert strict.loads_typed(strict.dumps_typed(dt.date(2024, 1, 1))) == dt.date(2024, 1, 1)
    finally:
        stop()
    count = len(events)
    JsonPlusSerializer(allowed_msgpack_modules=None).loads_typed(data)
    assert len(events) == count  # unregistered


def test_the_old_json_form_loads_with_its_allowlist() -> None:
    message = b'{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", '
    message += b'"HumanMessage"], "kwargs": {"content": "hi"}}'
    assert JsonPlusSerializer().loads_typed(("json", message)) == HumanMessage("hi")
    point = b'{"lc": 2, "type": "constructor", "id": ["%s", "Point"], "kwargs": {"x": 1, "y": 2}}'
    point = point % __name__.encode()
    assert JsonPlusSerializer(allowed_json_modules=True).loads_typed(("json", point)) == Point(1, 2)
    allowed = JsonPlusSerializer(allowed_json_modules=[(__name__, "Point")])
    assert allowed.loads_typed(("json", point)) == Point(1, 2)
    assert LgSerde(allowed_json_modules=True).loads_typed(("json", point)) == Point(1, 2)
    assert issubclass(InvalidModuleError, Exception)


def test_untyped_serializers_get_the_typed_methods() -> None:
    import json

    class Json:
        def dumps(self, obj: Any) -> bytes:
            return json.dumps(obj).encode()

        def loads(self, data: bytes) -> Any:
            return json.loads(data)

    typed = maybe_add_typed_methods(Json())
    assert isinstance(typed, SerializerCompat) and isinstance(typed, SerializerProtocol)
    assert typed.dumps_typed({"a": 1}) == ("dict", b'{"a": 1}')
    assert typed.loads_typed(("dict", b'{"a": 1}')) == {"a": 1}
    ours = JsonPlusSerializer()
    assert maybe_add_typed_methods(ours) is ours


def test_send_protocol_recognizes_both_libraries_sends() -> None:
    from langgraph.types import Send as LgSend

    from rewind.types import Send

    assert isinstance(Send("a", 1), SendProtocol) and isinstance(LgSend("a", 1), SendProtocol)


KEY = b"0123456789abcdef"


@pytest.mark.parametrize(
    "make",
    [
        lambda: EncryptedSerializer.from_pycryptodome_aes(key=KEY),
        lambda: EncryptedSerializer.from_pycryptodome_aes(JsonPlusSerializer(), key=KEY),
    ],
)
def test_aes_encryption_is_langgraphs(make: Callable[[], EncryptedSerializer]) -> None:
    ours, theirs = make(), LgEncrypted.from_pycryptodome_aes(key=KEY)
    value = {"messages": [HumanMessage("secret", id="1")], "when": dt.date(2024, 1, 1)}
    typ, data = ours.dumps_typed(value)
    assert typ == "msgpack+aes" and b"secret" not in data
    assert theirs.loads_typed((typ, data)) == value
    assert ours.loads_typed(theirs.dumps_typed(value)) == value
    assert ours.loads_typed(JsonPlusSerializer().dumps_typed(value)) == value  # plain loads too


def test_aes_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGGRAPH_AES_KEY", raising=False)
    with pytest.raises(ValueError, match="LANGGRAPH_AES_KEY environment variable is not set"):
        EncryptedSerializer.from_pycryptodome_aes()
    monkeypatch.setenv("LANGGRAPH_AES_KEY", "short")
    with pytest.raises(ValueError, match="16, 24, or 32 bytes"):
        EncryptedSerializer.from_pycryptodome_aes()
    monkeypatch.setenv("LANGGRAPH_AES_KEY", KEY.decode())
    serde = EncryptedSerializer.from_pycryptodome_aes()
    assert LgEncrypted.from_pycryptodome_aes().loads_typed(serde.dumps_typed([1])) == [1]
    with pytest.raises(ValueError, match="Unsupported cipher: rot13"):
        serde.loads_typed(("msgpack+rot13", b"x"))


def test_a_missing_pycryptodome_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "Crypto.Cipher", None)
    with pytest.raises(ImportError, match=r"rewind\[encrypted\]"):
        EncryptedSerializer.from_pycryptodome_aes(key=KEY)


def test_store_items_travel_under_langgraphs_name() -> None:
    from langgraph.store.base import Item as LgItem

    from rewind.store.base import Item

    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    fields: dict[str, Any] = {
        "value": {"a": 1},
        "key": "k",
        "namespace": ("n",),
        "created_at": when,
        "updated_at": when,
    }
    ours, theirs = Item(**fields), LgItem(**fields)
    data = JsonPlusSerializer().dumps_typed(ours)
    assert data == LgSerde().dumps_typed(theirs)
    assert type(LgSerde().loads_typed(data)) is LgItem
    loaded = JsonPlusSerializer().loads_typed(data)
    assert type(loaded) is Item and loaded == ours
