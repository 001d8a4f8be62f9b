"""rewind.types against langgraph.types: same fields, defaults, reprs, equality and tuple-ness.

Most cases build a value with the same arguments in both libraries (``make(lib)`` receives
the module) and compare what user code can observe. Reprs are normalised: object addresses
are dropped and ``langgraph.`` reads ``rewind.``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import json
import re
import types
import typing
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

import httpx
import langgraph.errors as lge
import langgraph.types as lg
import pydantic
import pytest
import requests
import typing_extensions
from langchain_core.messages.tool import ToolOutputMixin
from langgraph.checkpoint.memory import InMemorySaver
from typing_extensions import TypedDict

import rewind.errors as rwe
import rewind.types as rw

# Names in langgraph.types' public namespace rewind deliberately does not provide.
OMITTED: set[str] = set()

Make = Callable[[types.ModuleType], Any]


def norm(text: str) -> str:
    """``text`` with object addresses dropped and module qualifiers normalised."""
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    return text.replace("langgraph.", "rewind.")


def both(make: Make) -> tuple[Any, Any]:
    """``(rewind's, langgraph's)`` values built by ``make``."""
    return make(rw), make(lg)


def outcome(make: Make) -> tuple[str, str]:
    """What calling ``make`` gives, as ``(kind, text)``: a normalised repr or an exception."""
    try:
        value = make(rw)
    except Exception as exc:
        ours = (type(exc).__name__, norm(str(exc)))
    else:
        ours = ("value", norm(repr(value)))
    try:
        value = make(lg)
    except Exception as exc:
        theirs = (type(exc).__name__, norm(str(exc)))
    else:
        theirs = ("value", norm(repr(value)))
    assert ours == theirs
    return ours


def _hash_outcome(value: object) -> str:
    try:
        hash(value)
    except TypeError as exc:
        return f"TypeError: {norm(str(exc))}"
    return "hashable"


def _spec(value: Any) -> Any:
    """A comparable stand-in for a default value (functions by name)."""
    if isinstance(value, types.FunctionType):
        return ("function", value.__name__)
    if value is dataclasses.MISSING:
        return "MISSING"
    return norm(repr(value))


def _parameters(callable_: Any) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults of the parameters (annotations differ in spelling)."""
    return [
        (p.name, p.kind, _spec(p.default)) for p in inspect.signature(callable_).parameters.values()
    ]


def _langgraph_public_names() -> set[str]:
    defined_here = {
        name
        for name, value in vars(lg).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == lg.__name__
    }
    return set(lg.__all__) | defined_here | {"default_retry_on", "default_cache_key"}


# --------------------------------------------------------------------------------------------
# Namespace
# --------------------------------------------------------------------------------------------


def test_every_public_langgraph_name_exists() -> None:
    missing = sorted(name for name in _langgraph_public_names() - OMITTED if not hasattr(rw, name))
    assert not missing, f"rewind.types lacks {missing}"


def test_all_matches_langgraph() -> None:
    assert rw.__all__ == tuple(name for name in lg.__all__ if name not in OMITTED)


def test_types_does_not_import_the_runtime() -> None:
    source = inspect.getsource(rw)
    assert "rewind.runtime" not in source
    assert "langgraph" not in re.sub(r"(?s)\"\"\".*?\"\"\"|#.*", "", source).replace(
        "_langgraph_invalid_resume", ""
    )


# --------------------------------------------------------------------------------------------
# NamedTuples
# --------------------------------------------------------------------------------------------

NAMED_TUPLES = ["RetryPolicy", "StateUpdate", "PregelTask", "StateSnapshot", "CacheKey"]


@pytest.mark.parametrize("name", NAMED_TUPLES)
def test_named_tuple_shape(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)
    assert issubclass(ours, tuple) and issubclass(theirs, tuple)
    assert ours._fields == theirs._fields
    assert {k: _spec(v) for k, v in ours._field_defaults.items()} == {
        k: _spec(v) for k, v in theirs._field_defaults.items()
    }
    assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert _parameters(ours) == _parameters(theirs)


NAMED_TUPLE_VALUES: dict[str, Make] = {
    "retry_default": lambda m: m.RetryPolicy(),
    "retry_custom": lambda m: m.RetryPolicy(1.0, 3, 10, 5, False, (ValueError, KeyError)),
    "retry_kw": lambda m: m.RetryPolicy(max_attempts=7, retry_on=TimeoutError),
    "update": lambda m: m.StateUpdate({"a": 1}),
    "update_full": lambda m: m.StateUpdate(None, "node", "task"),
    "task": lambda m: m.PregelTask("id", "node", ("__pregel_pull", "node")),
    "task_full": lambda m: m.PregelTask(
        "id",
        "node",
        ("__pregel_push", 0),
        ValueError("x"),
        (m.Interrupt("q", "i"),),
        {"configurable": {"thread_id": "1"}},
        {"out": 1},
    ),
    "snapshot": lambda m: m.StateSnapshot(
        {"x": 1},
        ("b",),
        {"configurable": {"thread_id": "t"}},
        {"step": 1, "source": "loop"},
        "2024-01-01T00:00:00+00:00",
        None,
        (m.PregelTask("id", "b", ("__pregel_pull", "b")),),
        (m.Interrupt("v", "x"),),
    ),
    "cache_key": lambda m: m.CacheKey(("ns",), "key", None),
}


@pytest.mark.parametrize("case", sorted(NAMED_TUPLE_VALUES))
def test_named_tuple_values(case: str) -> None:
    make = NAMED_TUPLE_VALUES[case]
    ours, theirs = both(make)
    assert norm(repr(ours)) == norm(repr(theirs))
    assert (ours == make(rw)) == (theirs == make(lg))
    assert ours._asdict().keys() == theirs._asdict().keys()
    assert _hash_outcome(ours) == _hash_outcome(theirs)
    # Plain tuples of plain values compare equal across the libraries, as tuples do.
    if case in {"update", "update_full", "cache_key", "retry_custom", "retry_kw"}:
        assert ours == theirs


def test_named_tuple_missing_argument_errors_match() -> None:
    outcome(lambda m: m.StateSnapshot({}, ()))
    outcome(lambda m: m.PregelTask("id"))
    outcome(lambda m: m.StateUpdate())


# --------------------------------------------------------------------------------------------
# RetryPolicy.retry_on
# --------------------------------------------------------------------------------------------


class CustomError(Exception):
    pass


class CustomValueError(ValueError):
    pass


class CustomConnectionError(ConnectionError):
    pass


def _httpx_status(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://example.com")
    return httpx.HTTPStatusError(
        f"{code}", request=request, response=httpx.Response(code, request=request)
    )


def _requests_http(code: int | None) -> requests.HTTPError:
    if code is None:
        return requests.HTTPError("no response")
    response = requests.Response()
    response.status_code = code
    return requests.HTTPError(f"{code}", response=response)


def _validation_error() -> Exception:
    class Model(pydantic.BaseModel):
        x: int

    try:
        Model(x="nope")  # type: ignore[arg-type]
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _json_error() -> Exception:
    try:
        json.loads("{")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


RETRY_CASES: dict[str, Callable[[], Exception]] = {
    "ValueError": lambda: ValueError("x"),
    "TypeError": lambda: TypeError("x"),
    "KeyError": lambda: KeyError("x"),
    "IndexError": lambda: IndexError("x"),
    "ZeroDivisionError": lambda: ZeroDivisionError("x"),
    "OverflowError": lambda: OverflowError("x"),
    "ImportError": lambda: ImportError("x"),
    "ModuleNotFoundError": lambda: ModuleNotFoundError("x"),
    "NameError": lambda: NameError("x"),
    "UnboundLocalError": lambda: UnboundLocalError("x"),
    "SyntaxError": lambda: SyntaxError("x"),
    "RuntimeError": lambda: RuntimeError("x"),
    "NotImplementedError": lambda: NotImplementedError("x"),
    "RecursionError": lambda: RecursionError("x"),
    "ReferenceError": lambda: ReferenceError("x"),
    "StopIteration": lambda: StopIteration(),
    "StopAsyncIteration": lambda: StopAsyncIteration(),
    "OSError": lambda: OSError("x"),
    "FileNotFoundError": lambda: FileNotFoundError("x"),
    "PermissionError": lambda: PermissionError("x"),
    "TimeoutError": lambda: TimeoutError("x"),
    "ConnectionError": lambda: ConnectionError("x"),
    "ConnectionResetError": lambda: ConnectionResetError("x"),
    "BrokenPipeError": lambda: BrokenPipeError("x"),
    "CustomConnectionError": lambda: CustomConnectionError("x"),
    "UnicodeDecodeError": lambda: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
    "JSONDecodeError": _json_error,
    "pydantic.ValidationError": _validation_error,
    "AttributeError": lambda: AttributeError("x"),
    "AssertionError": lambda: AssertionError("x"),
    "EOFError": lambda: EOFError(),
    "MemoryError": lambda: MemoryError(),
    "BufferError": lambda: BufferError(),
    "Exception": lambda: Exception("x"),
    "CustomError": lambda: CustomError("x"),
    "CustomValueError": lambda: CustomValueError("x"),
    "httpx.ConnectError": lambda: httpx.ConnectError("x"),
    "httpx.ReadTimeout": lambda: httpx.ReadTimeout("x"),
    "httpx.HTTPStatusError-500": lambda: _httpx_status(500),
    "httpx.HTTPStatusError-503": lambda: _httpx_status(503),
    "httpx.HTTPStatusError-599": lambda: _httpx_status(599),
    "httpx.HTTPStatusError-429": lambda: _httpx_status(429),
    "httpx.HTTPStatusError-404": lambda: _httpx_status(404),
    "httpx.HTTPStatusError-302": lambda: _httpx_status(302),
    "requests.HTTPError-500": lambda: _requests_http(500),
    "requests.HTTPError-404": lambda: _requests_http(404),
    "requests.HTTPError-429": lambda: _requests_http(429),
    "requests.HTTPError-200": lambda: _requests_http(200),
    "requests.HTTPError-302": lambda: _requests_http(302),
    "requests.HTTPError-no-response": lambda: _requests_http(None),
    "requests.ConnectionError": lambda: requests.ConnectionError("x"),
    "requests.Timeout": lambda: requests.Timeout("x"),
    "requests.TooManyRedirects": lambda: requests.TooManyRedirects("x"),
}


@pytest.mark.parametrize("case", sorted(RETRY_CASES))
def test_default_retry_on_decides_like_langgraph(case: str) -> None:
    exc = RETRY_CASES[case]()
    assert rw.RetryPolicy().retry_on(exc) is lg.RetryPolicy().retry_on(exc)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "retried"),
    [
        (lambda e: e.NodeTimeoutError("n", 2.0, kind="run", run_timeout=1.0), True),
        (lambda e: e.GraphRecursionError("x"), False),
        (lambda e: e.InvalidUpdateError("x"), True),
        (lambda e: e.EmptyChannelError(), True),
        (lambda e: e.NodeCancelledError("n"), True),
    ],
)
def test_default_retry_on_for_graph_errors(
    make: Callable[[types.ModuleType], Exception], retried: bool
) -> None:
    assert rw.default_retry_on(make(rwe)) is lg.RetryPolicy().retry_on(make(lge)) is retried  # type: ignore[operator]


def test_surprising_retry_decisions_are_kept() -> None:
    # Pinned so that a change in LangGraph shows up here, not only as a diff.
    assert rw.default_retry_on(_requests_http(404)) is True  # a falsy Response: retried
    assert rw.default_retry_on(requests.ConnectionError("x")) is False  # an OSError
    assert rw.default_retry_on(AttributeError("x")) is True
    assert rw.default_retry_on(TimeoutError("x")) is False


def test_default_retry_on_is_named_like_langgraphs() -> None:
    assert rw.RetryPolicy().retry_on is rw.default_retry_on
    assert rw.default_retry_on.__name__ == lg.RetryPolicy().retry_on.__name__  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------

DATACLASSES = [
    "Interrupt",
    "Command",
    "GraphOutput",
    "Overwrite",
    "TimeoutPolicy",
    "CachePolicy",
    "TracePolicy",
    "PregelExecutableTask",
]


@pytest.mark.parametrize("name", DATACLASSES)
def test_dataclass_shape(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)

    def fields(cls: type) -> list[tuple[Any, ...]]:
        return [
            (
                f.name,
                _spec(f.default),
                _spec(f.default_factory),
                f.kw_only,
                f.init,
                f.repr,
                f.compare,
                f.hash,
            )
            for f in dataclasses.fields(cls)
        ]

    assert fields(ours) == fields(theirs)
    for param in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(ours.__dataclass_params__, param) == getattr(
            theirs.__dataclass_params__, param
        ), param
    assert getattr(ours, "__slots__", None) == getattr(theirs, "__slots__", None)
    assert (ours.__weakrefoffset__ == 0) == (theirs.__weakrefoffset__ == 0)  # weakref-able
    assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert (ours.__hash__ is None) == (theirs.__hash__ is None)
    assert len(getattr(ours, "__parameters__", ())) == len(getattr(theirs, "__parameters__", ()))
    assert _parameters(ours) == _parameters(theirs)


DATACLASS_VALUES: dict[str, Make] = {
    "interrupt": lambda m: m.Interrupt("value"),
    "interrupt_id": lambda m: m.Interrupt({"q": 1}, "abc"),
    "interrupt_kw": lambda m: m.Interrupt(value=[1], id="i", response_schema={"type": "string"}),
    "interrupt_type_schema": lambda m: m.Interrupt(1, response_schema=int),
    "interrupt_unknown_kwarg": lambda m: m.Interrupt(1, when="during"),
    "interrupt_ns_with_id": lambda m: m.Interrupt(1, "given", ns=["a:1", "b:2"]),
    "interrupt_ns_not_sequence": lambda m: m.Interrupt(1, ns=5),
    "command_empty": lambda m: m.Command(),
    "command_parent": lambda m: m.Command(graph=m.Command.PARENT, goto="a"),
    "command_full": lambda m: m.Command(
        graph="g", update={"x": 1}, resume={"id": "yes"}, goto=["a", m.Send("b", {"k": 2})]
    ),
    "command_falsy": lambda m: m.Command(update={}, resume=0, goto=[]),
    "command_falsy_str": lambda m: m.Command(graph="", update=[], resume=False, goto=""),
    "command_nested_dataclass": lambda m: m.Command(
        update={"o": m.Overwrite([1])}, resume=m.Interrupt("v", "i")
    ),
    "command_send_goto": lambda m: m.Command(goto=m.Send("x", 1, timeout=2)),
    "command_tuple_update": lambda m: m.Command(update=[("a", 1), ("b", 2)]),
    "graph_output": lambda m: m.GraphOutput({"a": 1}),
    "graph_output_interrupts": lambda m: m.GraphOutput(None, (m.Interrupt(1, "i"),)),
    "overwrite": lambda m: m.Overwrite(["b"]),
    "overwrite_type": lambda m: m.Overwrite(value=1, type="__overwrite__"),
    "timeout_default": lambda m: m.TimeoutPolicy(),
    "timeout_full": lambda m: m.TimeoutPolicy(
        run_timeout=timedelta(seconds=3), idle_timeout=1, refresh_on="heartbeat"
    ),
    "cache_default": lambda m: m.CachePolicy(),
    "cache_ttl": lambda m: m.CachePolicy(key_func=str, ttl=60),
    "trace_default": lambda m: m.TracePolicy(),
    "trace_omit": lambda m: m.TracePolicy(process_inputs=m.omit_payload),
    "executable_task": lambda m: m.PregelExecutableTask(
        "node",
        {"x": 1},
        None,
        deque(),
        {},
        ("a",),
        (),
        None,
        "id",
        ("__pregel_pull", "node"),
    ),
}


@pytest.mark.parametrize("case", sorted(DATACLASS_VALUES))
def test_dataclass_values(case: str) -> None:
    make = DATACLASS_VALUES[case]
    ours, theirs = both(make)
    assert norm(repr(ours)) == norm(repr(theirs))
    assert _hash_outcome(ours) == _hash_outcome(theirs)
    again = make(rw)
    same = ours == again
    assert same == (theirs == make(lg))
    # Values of different libraries never compare equal: dataclass equality checks the class.
    assert ours != theirs


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.Command("graph"),
        lambda m: m.TimeoutPolicy(3),
        lambda m: m.CachePolicy(str),
        lambda m: m.TracePolicy(None),
        lambda m: m.Interrupt(),
        lambda m: m.Interrupt(1, "a", None),
        lambda m: m.Overwrite(),
        lambda m: m.GraphOutput(),
        lambda m: m.Send("node"),
        lambda m: m.Send(node="n", arg=1),
        lambda m: m.Send("n", 1, None),
    ],
    ids=[
        "command-positional",
        "timeout-positional",
        "cache-positional",
        "trace-positional",
        "interrupt-no-value",
        "interrupt-schema-positional",
        "overwrite-no-value",
        "graph-output-no-value",
        "send-no-arg",
        "send-keywords",
        "send-timeout-positional",
    ],
)
def test_constructor_signatures_behave_alike(make: Make) -> None:
    outcome(make)


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("Command", "goto"),
        ("TimeoutPolicy", "run_timeout"),
        ("CachePolicy", "ttl"),
        ("TracePolicy", "process_inputs"),
        ("GraphOutput", "value"),
    ],
)
def test_frozen_dataclasses_refuse_assignment(name: str, attribute: str) -> None:
    for lib in (rw, lg):
        value = getattr(lib, name)(**({"value": 1} if name == "GraphOutput" else {}))
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, attribute, 2)


def test_mutable_dataclasses_accept_assignment() -> None:
    for lib in (rw, lg):
        overwrite = lib.Overwrite(1)
        overwrite.value = 2
        interrupt = lib.Interrupt(1)
        interrupt.id = "x"
        assert (overwrite.value, interrupt.id) == (2, "x")
        with pytest.raises(AttributeError):
            interrupt.other = 1  # slots


# --------------------------------------------------------------------------------------------
# Send
# --------------------------------------------------------------------------------------------

SEND_VALUES: dict[str, Make] = {
    "plain": lambda m: m.Send("node", {"x": 1}),
    "keywords": lambda m: m.Send(node="node", arg=[1, 2]),
    "timeout_int": lambda m: m.Send("node", 1, timeout=3),
    "timeout_float": lambda m: m.Send("node", 1, timeout=2.5),
    "timeout_str": lambda m: m.Send("node", 1, timeout="4"),
    "timeout_bool": lambda m: m.Send("node", 1, timeout=True),
    "timeout_timedelta": lambda m: m.Send("node", 1, timeout=timedelta(minutes=1)),
    "timeout_policy": lambda m: m.Send("n", 1, timeout=m.TimeoutPolicy(idle_timeout=2)),
    "timeout_empty_policy": lambda m: m.Send("n", 1, timeout=m.TimeoutPolicy()),
    "timeout_policy_heartbeat": lambda m: m.Send(
        "n", 1, timeout=m.TimeoutPolicy(run_timeout=1.5, refresh_on="heartbeat")
    ),
    "timeout_zero": lambda m: m.Send("node", 1, timeout=0),
    "timeout_negative": lambda m: m.Send("node", 1, timeout=timedelta(seconds=-1)),
    "timeout_bad_idle": lambda m: m.Send("n", 1, timeout=m.TimeoutPolicy(idle_timeout=-2)),
    "timeout_bad_refresh": lambda m: m.Send(
        "n", 1, timeout=m.TimeoutPolicy(run_timeout=1, refresh_on="never")
    ),
    "timeout_not_a_number": lambda m: m.Send("node", 1, timeout="soon"),
    "repr_of_arg": lambda m: m.Send("n", m.Interrupt("v", "i")),
}


@pytest.mark.parametrize("case", sorted(SEND_VALUES))
def test_send_values(case: str) -> None:
    kind, _ = outcome(SEND_VALUES[case])
    if kind == "value":
        ours, theirs = both(SEND_VALUES[case])
        assert _hash_outcome(ours) == _hash_outcome(theirs)
        assert (ours == SEND_VALUES[case](rw)) == (theirs == SEND_VALUES[case](lg))


def test_send_equality_and_hash() -> None:
    for lib in (rw, lg):
        a = lib.Send("n", (1, 2))
        assert a == lib.Send("n", (1, 2)) and hash(a) == hash(lib.Send("n", (1, 2)))
        assert a != lib.Send("m", (1, 2)) and a != lib.Send("n", (1, 3))
        assert a != lib.Send("n", (1, 2), timeout=1)
        assert lib.Send("n", 1, timeout=1) == lib.Send("n", 1, timeout=1.0)
        assert lib.Send("n", {"a": 1}) == lib.Send("n", {"a": 1})
        assert a != ("n", (1, 2))
        assert {a: 1}[lib.Send("n", (1, 2))] == 1
    assert rw.Send("n", 1) != lg.Send("n", 1)
    assert not hasattr(rw.Send("n", 1), "__dict__")
    assert rw.Send.__slots__ == lg.Send.__slots__


def test_timeout_policy_coerce_matches() -> None:
    for value in [None, 1, 1.5, timedelta(seconds=2), "3"]:
        outcome(lambda m, v=value: m.TimeoutPolicy.coerce(v))
    normalised = rw.TimeoutPolicy(run_timeout=1.0)
    assert rw.TimeoutPolicy.coerce(normalised) is normalised
    assert lg.TimeoutPolicy.coerce(lg.TimeoutPolicy(run_timeout=1.0)) is not None
    not_yet = rw.TimeoutPolicy(run_timeout=1)
    assert rw.TimeoutPolicy.coerce(not_yet) is not not_yet


# --------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------


def test_command_class_attributes() -> None:
    assert rw.Command.PARENT == lg.Command.PARENT == "__parent__"
    assert "PARENT" not in [f.name for f in dataclasses.fields(rw.Command)]
    assert isinstance(rw.Command(), ToolOutputMixin)
    assert rw.Command() == rw.Command() and hash(rw.Command()) == hash(rw.Command())
    assert rw.Command(goto="a") != rw.Command(goto="b")
    assert rw.Command[str] is not None


@dataclasses.dataclass
class DataUpdate:
    a: int
    b: str | None = None


class PlainAnnotated:
    x: int = 1
    y: str

    def __init__(self) -> None:
        self.y = "set"


class ChildAnnotated(PlainAnnotated):
    x: int = 2  # annotated again: listed twice, as in LangGraph
    z: int = 3


class ModelUpdate(pydantic.BaseModel):
    a: int = 0
    b: str | None = None
    c: str | None = "c"
    d: int | None


class PointTuple(NamedTuple):
    x: int
    y: int


class TypedUpdate(TypedDict):
    a: int


UPDATE_CASES: dict[str, Callable[[], Any]] = {
    "none": lambda: None,
    "dict": lambda: {"a": 1, "b": [2]},
    "empty_dict": lambda: {},
    "typed_dict": lambda: TypedUpdate(a=1),
    "pair_list": lambda: [("a", 1), ("b", 2)],
    "pair_tuple": lambda: (("a", 1),),
    "empty_list": lambda: [],
    "empty_tuple": lambda: (),
    "triple_list": lambda: [("a", 1, 2)],
    "non_str_key_list": lambda: [(1, "a")],
    "list_of_lists": lambda: [["a", 1]],
    "int": lambda: 5,
    "zero": lambda: 0,
    "str": lambda: "text",
    "bytes": lambda: b"raw",
    "set": lambda: {1},
    "dataclass": lambda: DataUpdate(1),
    "dataclass_full": lambda: DataUpdate(1, "b"),
    "plain_annotated": PlainAnnotated,
    "child_annotated": ChildAnnotated,
    "model_defaults": lambda: ModelUpdate(d=None),
    "model_explicit_none": lambda: ModelUpdate(b=None, c=None, d=None),
    "model_values": lambda: ModelUpdate(a=1, b="b", d=4),
    "named_tuple": lambda: PointTuple(1, 2),
    "class_object": lambda: DataUpdate,
}


@pytest.mark.parametrize("case", sorted(UPDATE_CASES))
def test_update_as_tuples_matches(case: str) -> None:
    update = UPDATE_CASES[case]()
    ours = rw.Command(update=update)._update_as_tuples()
    theirs = lg.Command(update=update)._update_as_tuples()
    assert type(ours) is type(theirs)
    assert ours == theirs
    assert (ours is update) == (theirs is update)


# --------------------------------------------------------------------------------------------
# Interrupt and interrupt()
# --------------------------------------------------------------------------------------------

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_interrupt_class_traits() -> None:
    for lib in (rw, lg):
        assert lib.Interrupt.__final__ is True  # type: ignore[attr-defined]
        assert lib.Interrupt[int] is not None
        assert not hasattr(lib.Interrupt(1), "__dict__")
        assert lib.Interrupt(1, "a") == lib.Interrupt(1, "a")
        assert lib.Interrupt(1, "a") != lib.Interrupt(1, "b")
        assert lib.Interrupt(1) != lib.Interrupt(1, response_schema={})
    assert [p.name for p in inspect.signature(rw.Interrupt).parameters.values()] == [
        p.name for p in inspect.signature(lg.Interrupt).parameters.values()
    ]


@pytest.mark.parametrize("ns", ["node:abc", "parent:1|child:2", ""])
def test_interrupt_ids_are_32_hex_digits(ns: str) -> None:
    made = rw.Interrupt.from_ns("v", ns)
    assert HEX32.fullmatch(made.id)
    assert HEX32.fullmatch(lg.Interrupt.from_ns("v", ns).id)  # the format rewind follows
    assert made == rw.Interrupt.from_ns("v", ns)
    assert made.id == rw._interrupt_id(ns, 0)
    assert rw._interrupt_id(ns, 1) != made.id != rw._interrupt_id(ns, 2)
    assert rw.Interrupt.from_ns("v", ns, response_schema=int).response_schema is int
    deprecated_ns = rw.Interrupt("v", ns=ns.split("|"))
    assert HEX32.fullmatch(deprecated_ns.id)
    assert deprecated_ns.id == rw.Interrupt("v", ns=tuple(ns.split("|"))).id


def test_interrupt_id_property_is_deprecated() -> None:
    for lib in (rw, lg):
        with pytest.deprecated_call(match="`interrupt_id` is deprecated. Use `id` instead."):
            assert lib.Interrupt(1, "abc").interrupt_id == "abc"
    with pytest.warns(rwe.LangGraphDeprecatedSinceV10) as record:
        rw.Interrupt(1, "abc").interrupt_id  # noqa: B018
    assert record[0].filename == __file__
    assert str(record[0].message) == (
        "`interrupt_id` is deprecated. Use `id` instead. "
        "Deprecated in LangGraph V1.0 to be removed in V2.0."
    )
    ours = rw.Interrupt.interrupt_id.fget.__deprecated__  # type: ignore[attr-defined]
    assert ours == lg.Interrupt.interrupt_id.fget.__deprecated__  # type: ignore[attr-defined]


def test_interrupt_outside_a_graph_raises_like_langgraph() -> None:
    with pytest.raises(RuntimeError) as theirs:
        lg.interrupt("question")
    with pytest.raises(RuntimeError) as ours:
        rw.interrupt("question")
    assert str(ours.value) == str(theirs.value)


def test_interrupt_signature_and_overloads_match() -> None:
    assert str(inspect.signature(rw.interrupt)) == str(inspect.signature(lg.interrupt))
    ours = [str(inspect.signature(f)) for f in typing.get_overloads(rw.interrupt)]
    theirs = [str(inspect.signature(f)) for f in typing.get_overloads(lg.interrupt)]
    assert ours == theirs
    assert rw.interrupt.__doc__


def test_interrupt_delegates_to_the_hook() -> None:
    calls: list[tuple[Any, ...]] = []

    def hook(value: Any, *, response_schema: Any = None) -> str:
        calls.append((value, response_schema))
        return "answer"

    def in_context() -> None:
        rw._INTERRUPT_HOOK.set(hook)
        assert rw.interrupt("q") == "answer"
        assert rw.interrupt({"q": 1}, response_schema={"type": "string"}) == "answer"

    assert rw._INTERRUPT_HOOK.get() is None
    contextvars.copy_context().run(in_context)
    assert rw._INTERRUPT_HOOK.get() is None
    assert calls == [("q", None), ({"q": 1}, {"type": "string"})]


def test_hook_can_raise_graph_interrupt() -> None:
    def hook(value: Any, *, response_schema: Any = None) -> Any:
        raise rwe.GraphInterrupt((rw.Interrupt.from_ns(value, "node:1"),))

    token = rw._INTERRUPT_HOOK.set(hook)
    try:
        with pytest.raises(rwe.GraphInterrupt) as info:
            rw.interrupt("q")
    finally:
        rw._INTERRUPT_HOOK.reset(token)
    assert info.value.args[0][0].value == "q"


def test_validate_resume_tags_rejections() -> None:
    adapter = pydantic.TypeAdapter(int)
    assert rw._validate_resume(adapter, "3") == 3
    with pytest.raises(pydantic.ValidationError) as info:
        rw._validate_resume(adapter, "three")
    assert rwe.is_invalid_resume(info.value) and lge.is_invalid_resume(info.value)


# --------------------------------------------------------------------------------------------
# GraphOutput, Overwrite, policies
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class OutputState:
    answer: int


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"a": 1}, "a"),
        ({"a": 1}, "b"),
        ({"a": 1}, "__interrupt__"),
        (OutputState(3), "answer"),
        (OutputState(3), "missing"),
        (None, "x"),
    ],
)
def test_graph_output_deprecated_access(value: Any, key: str) -> None:
    def access(lib: types.ModuleType) -> tuple[Any, ...]:
        output = lib.GraphOutput(value)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            contained = key in output
            try:
                item: Any = output[key]
            except KeyError as exc:
                item = ("KeyError", str(exc), exc.__suppress_context__ or exc.__context__ is None)
        return (
            contained,
            norm(repr(item)),
            [(w.category.__name__, str(w.message), w.filename) for w in caught],
        )

    ours, theirs = access(rw), access(lg)
    assert ours[:2] == theirs[:2]
    assert ours[2] == theirs[2]
    assert all(filename == __file__ for *_, filename in ours[2])


def test_graph_output_warning_is_a_deprecation() -> None:
    output = rw.GraphOutput({"a": 1}, (rw.Interrupt(1, "i"),))
    with pytest.warns(rwe.LangGraphDeprecatedSinceV11, match="result\\[key\\]"):
        assert output["__interrupt__"] == (rw.Interrupt(1, "i"),)
    with pytest.deprecated_call(match="key in result"):
        assert "__interrupt__" in output
    assert output == rw.GraphOutput({"a": 1}, (rw.Interrupt(1, "i"),))


def test_overwrite_traits() -> None:
    for lib in (rw, lg):
        assert lib.Overwrite(1) == lib.Overwrite(1) != lib.Overwrite(2)
        assert not hasattr(lib.Overwrite(1), "__dict__")
        assert dataclasses.asdict(lib.Overwrite([1])) == {"value": [1], "type": "__overwrite__"}


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (({"b": 1, "a": [1, 2, {"z": (3,)}]},), {}),
        (({"a": 1, "b": 2},), {"k": [1, 2]}),
        (("text", 3, 4.5, None, True), {}),
        (([[[[[[[[[[[[1]]]]]]]]]]]],), {}),  # deeper than the freeze depth
        (({1, 2},), {}),
        ((OutputState(1),), {}),
        ((bytearray(b"ab"),), {}),
    ],
)
def test_default_cache_key_matches(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert rw.CachePolicy().key_func(*args, **kwargs) == lg.CachePolicy().key_func(*args, **kwargs)


def test_default_cache_key_mapping_order() -> None:
    # Keyword arguments are frozen (sorted); the positional tuple is hashable, so it is not.
    for lib in (rw, lg):
        key = lib.default_cache_key
        assert key(x={"a": 1, "b": [2]}) == key(x={"b": [2], "a": 1})
        assert key({"a": 1, "b": 2}) != key({"b": 2, "a": 1})


def test_mixed_key_mapping_fails_alike() -> None:
    outcome(lambda m: m.CachePolicy().key_func({1: "a", "b": 2}))


def test_omit_payload_matches() -> None:
    assert rw.omit_payload({"big": "payload"}) == lg.omit_payload({"big": "payload"}) == {}


def test_policies_compare_by_value() -> None:
    assert rw.CachePolicy(ttl=5) == rw.CachePolicy(ttl=5)
    assert hash(rw.CachePolicy(ttl=5)) == hash(rw.CachePolicy(ttl=5))
    assert rw.TracePolicy() == rw.TracePolicy()
    assert rw.RetryPolicy() == rw.RetryPolicy()
    assert rw.RetryPolicy() != lg.RetryPolicy()  # different default_retry_on functions


def test_executable_task_weakrefs() -> None:
    for lib in (rw, lg):
        task = DATACLASS_VALUES["executable_task"](lib)
        assert weakref.ref(task)() is task


# --------------------------------------------------------------------------------------------
# Aliases, checkpointer, typed dicts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["StreamMode", "Durability", "All"])
def test_literal_aliases_match(name: str) -> None:
    assert getattr(rw, name) == getattr(lg, name)
    assert typing.get_args(getattr(rw, name)) == typing.get_args(getattr(lg, name))


def test_stream_writer_alias_matches() -> None:
    assert rw.StreamWriter == lg.StreamWriter
    assert repr(rw.StreamWriter) == repr(lg.StreamWriter)


def test_checkpointer_alias_shape() -> None:
    ours, theirs = typing.get_args(rw.Checkpointer), typing.get_args(lg.Checkpointer)
    assert ours[:2] == theirs[:2] == (type(None), bool)
    assert len(ours) == len(theirs) == 3


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, 1, 1.0, "memory", object(), [], InMemorySaver()],
    ids=lambda v: type(v).__name__ + repr(v)[:10],
)
def test_ensure_valid_checkpointer_matches(value: Any) -> None:
    kind, _ = outcome(lambda m: m.ensure_valid_checkpointer(value))
    if kind == "value":
        assert rw.ensure_valid_checkpointer(value) is value


TYPED_DICTS = [
    "TaskPayload",
    "TaskResultPayload",
    "CheckpointTask",
    "CheckpointPayload",
    "_DebugCheckpointPayload",
    "_DebugTaskPayload",
    "_DebugTaskResultPayload",
    "ValuesStreamPart",
    "UpdatesStreamPart",
    "MessagesStreamPart",
    "CustomStreamPart",
    "CheckpointStreamPart",
    "TasksStreamPart",
    "DebugStreamPart",
]


@pytest.mark.parametrize("name", TYPED_DICTS)
def test_typed_dict_shape(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)
    assert typing_extensions.is_typeddict(ours)
    assert typing.is_typeddict(ours) == typing.is_typeddict(theirs)
    assert list(ours.__annotations__) == list(theirs.__annotations__)
    assert ours.__required_keys__ == theirs.__required_keys__
    assert ours.__optional_keys__ == theirs.__optional_keys__
    assert ours.__total__ == theirs.__total__
    assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert [p.__name__ for p in getattr(ours, "__parameters__", ())] == [
        p.__name__ for p in getattr(theirs, "__parameters__", ())
    ]


def test_not_required_keys_are_required_as_in_langgraph() -> None:
    # Under ``from __future__ import annotations`` NotRequired is not seen at class creation.
    assert "metadata" in lg.TaskPayload.__required_keys__
    assert "metadata" in rw.TaskPayload.__required_keys__


@pytest.mark.parametrize("name", ["StreamPart", "DebugPayload"])
def test_type_alias_types_match(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)
    assert type(ours).__name__ == type(theirs).__name__ == "TypeAliasType"
    assert ours.__name__ == theirs.__name__
    assert [p.__name__ for p in ours.__type_params__] == [
        p.__name__ for p in theirs.__type_params__
    ]
    assert [getattr(a, "__name__", repr(a)) for a in typing.get_args(ours.__value__)] == [
        getattr(a, "__name__", repr(a)) for a in typing.get_args(theirs.__value__)
    ]


def test_type_variables_match() -> None:
    for name in ["StateT", "OutputT", "ResponseT", "N", "KeyFuncT"]:
        ours, theirs = getattr(rw, name), getattr(lg, name)
        assert ours.__name__ == theirs.__name__
        assert (
            getattr(ours, "has_default", lambda: False)()
            == getattr(theirs, "has_default", lambda: False)()
        )
        assert (ours.__bound__ is None) == (theirs.__bound__ is None)


def test_annotations_resolve_at_runtime() -> None:
    # get_type_hints works on rewind's classes (a runtime validating state types may call it).
    for name in [*TYPED_DICTS, "StateSnapshot", "PregelTask", "Command", "Overwrite"]:
        assert typing.get_type_hints(getattr(rw, name))
