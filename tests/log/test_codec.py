"""The payload codec: ``encode``/``decode`` round trips, determinism, fallbacks and errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
import uuid
from collections import namedtuple
from pathlib import Path
from typing import Any, NamedTuple

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from rewind import NewEvent, RewindError, open_log, run_started
from rewind.errors import EncodingError, UnknownRunError
from rewind.events import EventType
from rewind.log import register_type
from rewind.log.codec import CODEC_VERSION, decode, encode

# --- types the tests round-trip (module level, so the codec can import them back) -------------


class Color(enum.Enum):
    RED = 1
    GREEN = "green"
    PAIR = (1, 2)


class Mode(enum.StrEnum):
    FAST = "fast"
    SLOW = "slow"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


ENUM_MEMBERS: list[enum.Enum] = [*Color, *Mode, *Level]


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Segment:
    start: Point
    end: Point
    tags: tuple[str, ...] = ()
    notes: list[Any] = dataclasses.field(init=False, default_factory=list)
    length: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.length = math.dist((self.start.x, self.start.y), (self.end.x, self.end.y))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FrozenTag:
    name: str
    weight: decimal.Decimal = decimal.Decimal("1")
    key: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())


@dataclasses.dataclass
class Box:
    value: Any
    label: str = ""


@dataclasses.dataclass
class ShapeV1:
    a: int
    b: int


@dataclasses.dataclass
class ShapeNeedsC:  # "ShapeV1 after a required field was added"
    a: int
    b: int
    c: int


@dataclasses.dataclass
class ShapeWithoutB:  # "ShapeV1 after field b was removed"
    a: int


class Address(pydantic.BaseModel):
    city: str
    zip_code: str | None = None


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(alias="fullName")
    age: int = 0
    address: Address
    previous: list[Address] = pydantic.Field(default_factory=list)
    nicknames: tuple[str, ...] = ()
    born: dt.date | None = None
    mode: Mode = Mode.FAST


class ValidationAliased(pydantic.BaseModel):
    user_id: int = pydantic.Field(validation_alias="userId")


class ListRoot(pydantic.RootModel[list[int]]):
    pass


class DictRoot(pydantic.RootModel[dict[str, Any]]):
    pass


class PBox(pydantic.BaseModel):
    value: Any = None


class Opaque:
    """A class the codec knows nothing about."""


class Money:
    __slots__ = ("amount", "currency")

    def __init__(self, amount: decimal.Decimal, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is Money and self.amount == other.amount and self.currency == other.currency
        )

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __repr__(self) -> str:
        return f"Money({self.amount!r}, {self.currency!r})"


class SubMoney(Money):
    """Not registered: registrations are for the exact type."""


register_type(Money, encode=lambda m: (m.amount, m.currency), decode=lambda v: Money(*v))


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --- helpers ----------------------------------------------------------------------------------


def canon(v: Any) -> Any:
    """A comparable form of ``v`` that keeps every type (``1``, ``1.0`` and ``True`` differ)."""
    t = type(v)
    if t is list or t is tuple:
        return (t.__name__, [canon(x) for x in v])
    if t is dict:
        return ("dict", [(canon(k), canon(x)) for k, x in v.items()])
    if t is set or t is frozenset:
        return (t.__name__, sorted(repr(canon(x)) for x in v))
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return (_dotted(t), canon({f.name: getattr(v, f.name) for f in dataclasses.fields(v)}))
    if isinstance(v, pydantic.BaseModel):
        return (_dotted(t), canon(dict(v)), canon(v.__pydantic_extra__))
    if isinstance(v, enum.Enum):
        return (_dotted(t), v.name)
    if t is dt.datetime or t is dt.time:
        # isoformat does not carry ``fold``; a fixed offset keeps the instant.
        return (t.__name__, repr(v.replace(fold=0)))
    return (t.__name__, repr(v))  # repr tells -0.0 from 0.0, NaN from NaN, tz from tz


def roundtrip(value: Any) -> Any:
    text = encode(value)
    assert isinstance(text, str)
    json.loads(text)  # always valid JSON (no NaN / Infinity literals)
    return decode(text)


def assert_roundtrip(value: Any) -> Any:
    out = roundtrip(value)
    assert canon(out) == canon(value)
    assert out == value
    return out


def retag(text: str, old: str, new: str) -> str:
    """Rewrite every ``"cls": old`` in encoded text to ``new`` (as if the class had moved)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            if out.get("cls") == old:
                out["cls"] = new
            return out
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    new_text = json.dumps(walk(json.loads(text)))
    assert new_text != json.dumps(json.loads(text)), f"{old} not found in {text}"
    return new_text


# --- plain JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**80,
        1.5,
        -0.0,
        "",
        "héllo ☃ \u0000 \n",
        [],
        {},
        [1, "a", None, [True, {"k": [2.5]}]],
        {"a": {"b": {"c": [1, 2, {"d": None}]}}, "__class__": "x.Y"},
        {"cls": "m:C", "v": [1]},
    ],
)
def test_plain_json_roundtrips(value: Any) -> None:
    assert_roundtrip(value)


def test_a_lone_surrogate_is_stored_as_an_escape_and_read_back_as_it_was() -> None:
    """A string holding half a surrogate pair (a model can stream one): UTF-8 cannot hold it,
    so its text escapes it (and only then everything beyond ASCII)."""
    value = {"token": "half \ud83d", "other": "é", "big": 2**80}
    text = encode(value)
    assert text.encode().decode() == text  # valid UTF-8: the database and the digest take it
    assert "\\ud83d" in text
    assert_roundtrip(value)


async def test_a_store_takes_a_lone_surrogate_and_the_run_goes_on(tmp_path: Path) -> None:
    store = await open_log(tmp_path / "codec.db")
    try:
        await store.append("r", [run_started(thread_id="t")], expected_seq=0)
        odd = NewEvent(type=EventType.CUSTOM, payload={"x": "a\ud800b"})
        await store.append("r", [odd], expected_seq=1, durability="sync")
        store.append_nowait("r", [odd], expected_seq=2)
        await store.flush()
        read = await store.read("r")
        assert [e.payload for e in read[1:]] == [{"x": "a\ud800b"}] * 2
        assert (await store.verify_chain("r")).ok
    finally:
        await store.aclose()


def test_plain_json_is_stored_as_itself() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": {}}}
    assert json.loads(encode(value)) == value


def test_decode_accepts_bytes() -> None:
    assert decode(encode({"a": (1, 2)}).encode()) == {"a": (1, 2)}


def test_decode_refuses_an_unknown_codec_version() -> None:
    with pytest.raises(ValueError, match="upgrade rewind"):
        decode(encode([1]), CODEC_VERSION + 1)


# --- tagged types -----------------------------------------------------------------------------

AWARE = dt.datetime(2024, 3, 9, 12, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5)))


@pytest.mark.parametrize(
    "value",
    [
        (),
        (1,),
        (1, (2, (3, ())), "x"),
        {"a": (1, 2), "b": [(3,), {"c": ((4,),)}]},
        [(1, 2), [(3, [4, (5,)])]],
        set(),
        frozenset(),
        {1, 2, 3},
        {"a", (1, 2), (3, (4, 5)), None},
        frozenset({(1, "a"), frozenset({2, 3}), ("x", ("y",))}),
        {"s": {frozenset({1}), frozenset()}, "f": [frozenset({(1, 2)})]},
        b"",
        b"\x00\xff binary \x80",
        bytearray(b"\x01\x02"),
        bytearray(),
        AWARE,
        dt.datetime(2024, 3, 9, 12, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 9, 12, 30, 5, 1),
        dt.datetime.min,
        dt.date(2024, 2, 29),
        dt.time(23, 59, 59, 999999),
        dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
        dt.timedelta(0),
        dt.timedelta(days=-3, seconds=5, microseconds=7),
        dt.timedelta.max,
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        uuid.uuid4(),
        decimal.Decimal("1.10"),
        decimal.Decimal("-0.000"),
        decimal.Decimal("1E+30"),
        decimal.Decimal("Infinity"),
        float("inf"),
        float("-inf"),
        [1.0, float("inf"), {"x": float("-inf")}],
        Color.RED,
        Color.GREEN,
        Color.PAIR,
        Mode.FAST,
        Level.HIGH,
        [Mode.SLOW, {"level": Level.LOW}, (Color.RED,)],
        {1: "one", 2: "two"},
        {(1, 2): "pair", ("a", ("b",)): "nested"},
        {1: "int", "1": "str", 1.5: "float", None: "none"},
        {True: "true", False: "false"},
        {Mode.FAST: 1, Level.LOW: 2, uuid.UUID(int=1): 3, dt.date(2020, 1, 1): 4},
        {frozenset({1, 2}): "fs", b"k": "bytes"},
        {"__rw__": "tuple", "v": [1, 2]},
        {"__rw__": 1, "other": {"__rw__": "bytes", "v": "AA=="}},
        [{"__rw__": None}],
        {"outer": {"__rw__": "x"}, 3: {"__rw__": "y"}},
    ],
    ids=repr,
)
def test_tagged_types_roundtrip(value: Any) -> None:
    assert_roundtrip(value)


def test_nan_floats_roundtrip() -> None:
    out = roundtrip([float("nan"), {"k": float("nan")}, (float("nan"),)])
    assert type(out) is list
    assert math.isnan(out[0])
    assert math.isnan(out[1]["k"])
    assert type(out[2]) is tuple and math.isnan(out[2][0])


def test_decimal_nan_roundtrips() -> None:
    out = roundtrip(decimal.Decimal("NaN"))
    assert type(out) is decimal.Decimal and out.is_nan()


def test_datetimes_keep_awareness_and_offset() -> None:
    aware, naive = roundtrip([AWARE, AWARE.replace(tzinfo=None)])
    assert aware.utcoffset() == dt.timedelta(hours=5)
    assert aware == AWARE
    assert naive.tzinfo is None
    assert naive == AWARE.replace(tzinfo=None)


def test_date_is_not_restored_as_datetime() -> None:
    assert type(roundtrip(dt.date(2024, 1, 1))) is dt.date
    assert type(roundtrip(dt.datetime(2024, 1, 1))) is dt.datetime


def test_enum_types_are_exact() -> None:
    out = roundtrip({"mode": Mode.SLOW, "level": Level.HIGH, "color": Color.PAIR})
    assert out["mode"] is Mode.SLOW
    assert out["level"] is Level.HIGH
    assert out["color"] is Color.PAIR


def test_dict_with_non_str_keys_keeps_key_types_and_order() -> None:
    value = {3: "c", (1, (2,)): "t", "s": 1, 1: "a"}
    out = assert_roundtrip(value)
    assert list(out) == [3, (1, (2,)), "s", 1]
    assert type(list(out)[1][1]) is tuple


def test_dict_with_reserved_key_is_not_mistaken_for_a_tagged_value() -> None:
    value = {"__rw__": "bytes", "v": "AAEC"}
    out = assert_roundtrip(value)
    assert type(out) is dict


# --- named tuples -----------------------------------------------------------------------------


class Spot(NamedTuple):
    """A named tuple stored in a payload."""

    name: str
    at: tuple[float, float]


def test_named_tuple_keeps_its_class() -> None:
    value = {"spots": [Spot("tower", (48.8, 2.3))], "keyed": {Spot("a", (0.0, 0.0)): 1}}
    out = assert_roundtrip(value)
    assert type(out["spots"][0]) is Spot
    assert type(out["spots"][0].at) is tuple
    assert type(next(iter(out["keyed"]))) is Spot


def test_named_tuple_of_a_class_gone_is_a_plain_tuple() -> None:
    """A class local to a function (or removed since) cannot be imported: its items are kept,
    as the plain tuple earlier logs stored."""

    def local() -> Any:
        Here = namedtuple("Here", "x y")
        return Here(1, (2, 3))

    out = decode(encode(local()))
    assert type(out) is tuple
    assert out == (1, (2, 3))
    assert decode('{"__rw__":"namedtuple","cls":"no.such:Thing","v":[1]}') == (1,)


# --- dataclasses ------------------------------------------------------------------------------


def test_dataclass_roundtrips() -> None:
    assert_roundtrip(Point(1, 2))
    assert type(roundtrip(Point(1, 2))) is Point


def test_nested_dataclass_with_init_false_fields_roundtrips() -> None:
    seg = Segment(Point(0, 0), Point(3, 4), tags=("a", "b"))
    seg.notes.append((1, {"k": b"v"}))
    seg.length = 99.0  # an init=False field changed after construction: the stored value wins
    out = assert_roundtrip(seg)
    assert type(out.start) is Point
    assert out.notes == [(1, {"k": b"v"})]
    assert out.length == 99.0


def test_frozen_slots_kw_only_dataclass_roundtrips() -> None:
    tag = FrozenTag(name="Hello", weight=decimal.Decimal("2.50"))
    out = assert_roundtrip({"tags": frozenset({tag}), "one": tag})
    assert out["one"].key == "hello"
    assert out["one"].weight == decimal.Decimal("2.50")


# --- pydantic ---------------------------------------------------------------------------------


def test_pydantic_models_roundtrip() -> None:
    person = Person(
        fullName="Ada Lovelace",
        age=36,
        address=Address(city="London", zip_code="W1"),
        previous=[Address(city="Marylebone")],
        nicknames=("Ada", "Countess"),
        born=dt.date(1815, 12, 10),
        mode=Mode.SLOW,
    )
    out = assert_roundtrip(person)
    assert type(out.address) is Address
    assert type(out.previous[0]) is Address
    assert type(out.nicknames) is tuple
    assert out.mode is Mode.SLOW


def test_pydantic_defaults_are_restored() -> None:
    person = Person(fullName="B", address=Address(city="Paris"))
    out = assert_roundtrip(person)
    assert out.age == 0
    assert out.previous == []
    assert out.born is None
    assert out.address.zip_code is None


def test_pydantic_field_set_to_its_default_value_roundtrips() -> None:
    assert_roundtrip(Person(fullName="C", age=0, address=Address(city="X", zip_code=None)))


def test_pydantic_model_with_validation_alias_roundtrips() -> None:
    # A field with only a validation_alias: encoded under its name, which model_validate
    # rejects, so the model comes back as a fallback dict.
    model = ValidationAliased(userId=7)
    assert roundtrip(model) == model


@pytest.mark.parametrize("model", [ListRoot([1, 2, 3]), DictRoot({"a": 1})], ids=repr)
def test_pydantic_root_model_roundtrips(model: pydantic.RootModel[Any]) -> None:
    # RootModel's fields are stored as {"root": ...}; model_validate treats that dict as the
    # root value itself (a wrapped value, or a validation error and a fallback dict).
    assert roundtrip(model) == model


# --- LangChain messages -----------------------------------------------------------------------

MESSAGES = [
    HumanMessage("hello", id="h1", name="ada"),
    HumanMessage(content=[{"type": "text", "text": "look"}, {"type": "image", "url": "x"}]),
    SystemMessage("you are terse", additional_kwargs={"raw": b"\x00", "when": AWARE}),
    AIMessage(
        content="",
        id="a1",
        tool_calls=[
            {"name": "search", "args": {"q": "rewind", "k": 3}, "id": "call_1"},
            {"name": "calc", "args": {"expr": "1+1"}, "id": "call_2"},
        ],
        usage_metadata={
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "input_token_details": {"cache_read": 2},
        },
        response_metadata={"model_name": "m", "finish_reason": "tool_calls"},
    ),
    AIMessageChunk(
        content="par",
        id="c1",
        tool_call_chunks=[{"name": "search", "args": '{"q": "re', "id": "call_1", "index": 0}],
    ),
    AIMessageChunk(content="tial", chunk_position="last"),
    ToolMessage("42", tool_call_id="call_2", name="calc", artifact={"raw": (4, 2)}),
    ToolMessage("boom", tool_call_id="call_1", status="error"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_langchain_messages_roundtrip(message: Any) -> None:
    out = roundtrip(message)
    assert type(out) is type(message)
    assert out == message


def test_langchain_message_list_in_state_roundtrips() -> None:
    state = {"messages": MESSAGES, "step": 3}
    out = roundtrip(state)
    assert out == state
    assert [type(m) for m in out["messages"]] == [type(m) for m in MESSAGES]
    assert out["messages"][3].tool_calls == MESSAGES[3].tool_calls
    assert out["messages"][3].usage_metadata == MESSAGES[3].usage_metadata


# --- registered types -------------------------------------------------------------------------


def test_registered_type_roundtrips() -> None:
    money = Money(decimal.Decimal("9.99"), "EUR")
    out = assert_roundtrip(money)
    assert type(out) is Money
    assert type(out.amount) is decimal.Decimal
    nested = {"prices": [money, (money,)], "set": {money}, money: "as key"}
    assert roundtrip(nested) == nested


def test_subclass_of_registered_type_is_not_encodable() -> None:
    with pytest.raises(EncodingError) as info:
        encode({"m": SubMoney(decimal.Decimal(1), "USD")})
    assert info.value.path == "payload['m']"
    assert info.value.type_name == _dotted(SubMoney)


def test_registered_type_without_a_decoder_falls_back_to_a_dict() -> None:
    text = retag(encode(Money(decimal.Decimal(1), "USD")), _path(Money), "gone.module:Money")
    assert decode(text) == {"__class__": "gone.module.Money", "value": (decimal.Decimal(1), "USD")}


# --- determinism ------------------------------------------------------------------------------


def test_equal_sets_encode_identically() -> None:
    words = [f"w{i}" for i in range(50)]
    a = set(words)
    b = set(reversed(words))
    assert a == b
    assert encode(a) == encode(b)
    assert encode(frozenset(a)) == encode(frozenset(b))
    # -1 and -2 share a hash: iteration order depends on insertion order
    assert encode({-1, -2, 5}) == encode({5, -2, -1})
    mixed1 = {None, 1, "a", (1, "b"), (2, (3,)), b"x", uuid.UUID(int=5), Mode.FAST}
    mixed2 = set(sorted(mixed1, key=repr, reverse=True))
    assert encode(mixed1) == encode(mixed2)
    nested1 = {frozenset({1, 2, 3}), frozenset({"x", "y"})}
    nested2 = {frozenset({"y", "x"}), frozenset({3, 2, 1})}
    assert encode({"k": nested1}) == encode({"k": nested2})


_SET_SCRIPT = textwrap.dedent(
    """
    from rewind.log.codec import encode
    words = {f"word-{i}" for i in range(40)}
    value = {"s": words, "f": frozenset((w, len(w)) for w in words), "m": {1, "a", (2, "b")}}
    print(encode(value))
    """
)


def test_set_encoding_does_not_depend_on_hash_seed() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _SET_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


# --- property test ----------------------------------------------------------------------------

_tz = st.integers(min_value=-86399, max_value=86399).map(
    lambda s: dt.timezone(dt.timedelta(seconds=s))
)
_hashable_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.datetimes(timezones=st.none() | _tz),
    st.dates(),
    st.times(timezones=st.none() | _tz),
    st.timedeltas(),
    st.uuids(),
    st.decimals(allow_nan=False),
    st.sampled_from(ENUM_MEMBERS),
    st.builds(FrozenTag, name=st.text(max_size=4)),
)
_hashables = st.recursive(
    _hashable_leaves,
    lambda c: st.one_of(st.lists(c, max_size=3).map(tuple), st.frozensets(c, max_size=3)),
    max_leaves=6,
)
_str_keys = st.one_of(st.text(max_size=6), st.sampled_from(["__rw__", "v", "cls", "__class__"]))


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_str_keys, children, max_size=4),
        st.dictionaries(_hashables, children, max_size=4),
        st.builds(Box, children, st.text(max_size=4)),
        st.builds(PBox, value=children),
    )


values = st.recursive(
    st.one_of(
        _hashables,
        st.sets(_hashables, max_size=4),
        st.binary(max_size=8).map(bytearray),
        st.builds(Money, st.decimals(allow_nan=False), st.text(max_size=3)),
    ),
    _containers,
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_random_values_roundtrip(value: Any) -> None:
    text = encode(value)
    out = decode(text)
    assert canon(out) == canon(value)
    assert out == value
    assert encode(out) == text  # re-encoding what was decoded is stable


# --- fallbacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "new_path",
    ["rw_no_such_module_1234:Point", f"{Point.__module__}:NoSuchClass", "os.path:Point"],
)
def test_unimportable_dataclass_decodes_to_plain_dict(new_path: str) -> None:
    text = retag(encode({"p": Point(1, (2, 3))}), _path(Point), new_path)  # type: ignore[arg-type]
    out = decode(text)
    assert out == {"p": {"__class__": new_path.replace(":", "."), "x": 1, "y": (2, 3)}}
    assert type(out["p"]["y"]) is tuple


def test_unimportable_pydantic_model_and_enum_decode_to_plain_dicts() -> None:
    value = [Address(city="Rome", zip_code="001"), Mode.FAST]
    text = retag(encode(value), _path(Address), "gone_mod:Address")
    text = retag(text, _path(Mode), "gone_mod:Mode")
    assert decode(text) == [
        {"__class__": "gone_mod.Address", "city": "Rome", "zip_code": "001"},
        {"__class__": "gone_mod.Mode", "value": "fast"},
    ]


_TMP_MODULE = textwrap.dedent(
    """
    import dataclasses, enum
    import pydantic

    class Kind(enum.Enum):
        A = "a"

    @dataclasses.dataclass
    class Record:
        name: str
        pair: tuple
        kind: Kind

    class Outer:
        class Model(pydantic.BaseModel):
            count: int
            data: bytes
    """
)


def test_class_from_a_deleted_module_decodes_to_plain_dict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "rw_codec_tmp_module"
    source = tmp_path / f"{name}.py"
    source.write_text(_TMP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module(name)
    monkeypatch.setitem(sys.modules, name, mod)  # removed again when the test ends
    value = {
        "record": mod.Record(name="r", pair=(1, 2), kind=mod.Kind.A),
        "model": mod.Outer.Model(count=3, data=b"\x01"),
    }
    text = encode(value)
    assert decode(text) == value  # importable: real instances

    source.unlink()
    del sys.modules[name]
    importlib.invalidate_caches()
    with pytest.raises(ImportError):
        importlib.import_module(name)

    out = decode(text)
    assert out == {
        "record": {
            "__class__": f"{name}.Record",
            "name": "r",
            "pair": (1, 2),
            "kind": {"__class__": f"{name}.Kind", "value": "a"},
        },
        "model": {"__class__": f"{name}.Outer.Model", "count": 3, "data": b"\x01"},
    }
    assert type(out["record"]["pair"]) is tuple


def test_dataclass_that_gained_a_required_field_decodes_to_plain_dict() -> None:
    text = retag(encode(ShapeV1(1, 2)), _path(ShapeV1), _path(ShapeNeedsC))
    assert decode(text) == {"__class__": _dotted(ShapeNeedsC), "a": 1, "b": 2}


def test_dataclass_that_lost_a_field_decodes_to_plain_dict() -> None:
    # The stored field ``b`` no longer exists on the class: the codec should keep the data as
    # a fallback dict rather than build an instance with a stray, undeclared attribute.
    text = retag(encode(ShapeV1(1, 2)), _path(ShapeV1), _path(ShapeWithoutB))
    assert decode(text) == {"__class__": _dotted(ShapeWithoutB), "a": 1, "b": 2}


def test_enum_member_that_no_longer_exists_decodes_to_plain_dict() -> None:
    text = retag(encode(Mode.FAST), _path(Mode), _path(Level))
    assert decode(text) == {"__class__": _dotted(Level), "value": "fast"}


def test_pydantic_model_that_no_longer_validates_decodes_to_plain_dict() -> None:
    text = retag(encode(Address(city="Oslo")), _path(Address), _path(Point))
    assert decode(text) == {"__class__": _dotted(Point), "city": "Oslo"}


def test_unknown_tag_is_left_as_a_dict() -> None:
    text = '{"__rw__": "from-the-future", "v": [1]}'
    assert decode(text) == {"__rw__": "from-the-future", "v": [1]}


# --- encoding errors --------------------------------------------------------------------------


def _unencodables() -> list[Any]:
    return [object(), lambda: None, Opaque(), iter([1]), Opaque]


@pytest.mark.parametrize("bad", _unencodables(), ids=lambda b: type(b).__name__)
def test_encoding_error_names_path_and_type(bad: Any) -> None:
    with pytest.raises(EncodingError) as info:
        encode({"a": [1, {"b": bad}]})
    err = info.value
    assert isinstance(err, TypeError)
    assert isinstance(err, RewindError)
    assert err.path == "payload['a'][1]['b']"
    assert err.type_name == _dotted(type(bad))
    assert "payload['a'][1]['b']" in str(err)
    assert err.type_name in str(err)
    assert "nothing was written" in str(err)


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (Opaque(), "payload"),
        ((1, [2, Opaque()]), "payload[1][1]"),
        (Box(value={"k": Opaque()}), "payload.value['k']"),
        (PBox(value=[Opaque()]), "payload.value[0]"),
    ],
    ids=["top", "tuple", "dataclass", "pydantic"],
)
def test_encoding_error_path_through_containers(payload: Any, path: str) -> None:
    with pytest.raises(EncodingError) as info:
        encode(payload)
    assert info.value.path == path
    assert info.value.type_name == _dotted(Opaque)


def test_encoding_error_for_unencodable_dict_key() -> None:
    with pytest.raises(EncodingError) as info:
        encode({"a": {Opaque(): 1}})
    assert info.value.path.startswith("payload['a'] key ")
    assert info.value.type_name == _dotted(Opaque)


def test_self_referencing_payload_raises_encoding_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(EncodingError):
        encode({"loop": loop})


def test_self_referencing_payload_with_unencodable_key_raises_encoding_error() -> None:
    # _enc meets the bad key first; _find_path then walks the dict's values first, follows the
    # cycle and a RecursionError escapes instead of an EncodingError.
    cyclic: dict[Any, Any] = {}
    cyclic[Opaque()] = cyclic
    with pytest.raises(EncodingError):
        encode(cyclic)


# --- through the store ------------------------------------------------------------------------


def _custom(payload: Any) -> NewEvent:
    return NewEvent(type=EventType.CUSTOM, payload=payload)


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_store_refuses_unencodable_batch_and_stores_nothing(
    tmp_path: Path, durability: Any
) -> None:
    store = await open_log(tmp_path / "codec.db")
    try:
        await store.append("r1", [run_started(thread_id="t"), _custom({"ok": 1})], expected_seq=0)
        head = await store.head()
        before = await store.read("r1")

        batch = [_custom({"ok": 2}), _custom({"a": [1, {"b": Opaque()}]}), _custom({"ok": 3})]
        with pytest.raises(EncodingError) as info:
            await store.append("r1", batch, expected_seq=2, durability=durability)
        assert info.value.path == "payload['a'][1]['b']"
        await store.flush()
        assert await store.head() == head
        assert await store.read("r1") == before

        # The run's seq was not consumed: the next append goes where the failed one would have.
        await store.append("r1", [_custom({"ok": 4})], expected_seq=2, durability="sync")
        assert [e.payload for e in await store.read("r1")] == [
            {"thread_id": "t", "graph": None},
            {"ok": 1},
            {"ok": 4},
        ]
    finally:
        await store.aclose()


async def test_store_refuses_unencodable_first_append_of_a_run(tmp_path: Path) -> None:
    store = await open_log(tmp_path / "codec.db")
    try:
        head = await store.head()
        bad_start = run_started(thread_id="t", extra={"input": {"a": [1, {"b": Opaque()}]}})
        with pytest.raises(EncodingError) as info:
            await store.append("r1", [bad_start], expected_seq=0)
        assert info.value.path == "payload['input']['a'][1]['b']"
        with pytest.raises(EncodingError):
            await store.append(
                "r2", [run_started(thread_id="t"), _custom(Opaque())], expected_seq=0
            )
        await store.flush()
        assert await store.head() == head
        assert await store.read_all() == []
        with pytest.raises(UnknownRunError):
            await store.read("r1")
        with pytest.raises(UnknownRunError):
            await store.read("r2")
        await store.append("r1", [run_started(thread_id="t")], expected_seq=0, durability="sync")
        assert len(await store.read("r1")) == 1
    finally:
        await store.aclose()


async def test_value_mutated_after_append_is_stored_as_it_was(tmp_path: Path) -> None:
    store = await open_log(tmp_path / "codec.db", durability="async")
    try:
        await store.append("r1", [run_started(thread_id="t")], expected_seq=0)
        payload: dict[str, Any] = {"items": [1, 2], "seen": {"a"}, "inner": {"n": 0}}
        await store.append("r1", [_custom(payload)], expected_seq=1, durability="async")
        payload["items"].append(3)
        payload["seen"].add("b")
        payload["inner"]["n"] = 1
        payload["added"] = True
        await store.flush()
        events = await store.read("r1")
        assert events[1].payload == {"items": [1, 2], "seen": {"a"}, "inner": {"n": 0}}
    finally:
        await store.aclose()


async def test_rich_payload_survives_the_database(tmp_path: Path) -> None:
    payload = {
        "messages": MESSAGES,
        "person": Person(fullName="Ada", address=Address(city="London")),
        "segment": Segment(Point(0, 0), Point(1, 1)),
        "when": AWARE,
        "id": uuid.UUID(int=7),
        "money": Money(decimal.Decimal("0.10"), "EUR"),
        "keys": {(1, 2): {3, 4}, Mode.FAST: frozenset({b"x"})},
        "inf": float("-inf"),
    }
    path = tmp_path / "codec.db"
    store = await open_log(path)
    try:
        await store.append(
            "r1", [run_started(thread_id="t"), _custom(payload)], expected_seq=0, durability="sync"
        )
    finally:
        await store.aclose()
    store = await open_log(path)
    try:
        stored = (await store.read("r1"))[1].payload
    finally:
        await store.aclose()
    assert canon(stored) == canon(payload)
    assert stored == payload


def test_langchain_messages_decode_as_their_constructors_build_them() -> None:
    # Messages are decoded by their validator alone when every __init__ they have only hands
    # the fields on (each token's chunk): the result must be what calling the class gives.
    for message in [*MESSAGES, RemoveMessage(id="r1"), AIMessageChunk(content="", id="c2")]:
        fields = json.loads(encode(message))["v"]
        out = decode(encode(message))
        built = type(message)(**decode(json.dumps(fields)))
        assert type(out) is type(message)
        assert out == built == message
        assert out.model_fields_set == built.model_fields_set
        assert out.__pydantic_extra__ == built.__pydantic_extra__


def test_encoding_calls_no_default_factory_of_the_model() -> None:
    # A factory may count its calls or give a new value each time: encoding must not call it,
    # and the value it gave must be stored (a decode could not make it again).
    ticket = Ticket()
    made = next(_TICKETS)  # the factory's calls so far, plus one
    text = encode(ticket)
    assert next(_TICKETS) == made + 1  # encoding made none
    assert json.loads(text)["v"] == {"number": ticket.number}  # [] is the pure default
    assert decode(text) == ticket


_TICKETS = itertools.count()


class Ticket(pydantic.BaseModel):
    number: int = pydantic.Field(default_factory=lambda: next(_TICKETS))
    tags: list[str] = pydantic.Field(default_factory=list)
