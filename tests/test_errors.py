"""rewind.errors against langgraph.errors: the same names, bases, messages, ``args`` and warnings.

Each case builds an object with the same arguments in both libraries and compares what user
code can observe. Module qualifiers are normalised (``langgraph.`` reads ``rewind.``), since
rewind's objects live in rewind's modules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import re
import types
import warnings
from collections.abc import Callable
from enum import Enum
from typing import Any

import langgraph.errors as lg
import langgraph.types as lgt
import langgraph.warnings as lgw
import pytest
from langgraph.checkpoint.base import EmptyChannelError as CheckpointEmptyChannelError

import rewind.errors as rw
import rewind.types as rwt

LIBS = pytest.mark.parametrize(
    ("errors", "types_"), [(lg, lgt), (rw, rwt)], ids=["langgraph", "rewind"]
)

# Names in langgraph.errors' public namespace rewind deliberately does not provide.
OMITTED: set[str] = set()

# rewind's own errors, which have no LangGraph counterpart.
REWIND_ONLY = {
    "ConcurrencyError",
    "CorruptPayloadError",
    "DatabaseError",
    "EncodingError",
    "InvalidEventError",
    "NotARewindDatabaseError",
    "NotAV3RunError",
    "ReadOnlyDatabaseError",
    "RecordedRunError",
    "RewindError",
    "RedactionError",
    "RunEndedError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "FencedError",
    "LogClosedError",
    "LogError",
    "UnknownRunError",
    "UnknownThreadError",
}


def norm(text: str) -> str:
    """``text`` with module qualifiers and object addresses normalised."""
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    return text.replace("langgraph.", "rewind.")


def _langgraph_public_names() -> set[str]:
    defined_here = {
        name
        for name, value in vars(lg).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == lg.__name__
    }
    return set(lg.__all__) | defined_here


def _exception_names() -> list[str]:
    return sorted(
        name
        for name in _langgraph_public_names() - OMITTED
        if isinstance(getattr(lg, name), type) and issubclass(getattr(lg, name), BaseException)
    )


# --------------------------------------------------------------------------------------------
# Namespace
# --------------------------------------------------------------------------------------------


def test_every_public_langgraph_name_exists() -> None:
    missing = sorted(name for name in _langgraph_public_names() - OMITTED if not hasattr(rw, name))
    assert not missing, f"rewind.errors lacks {missing}"


def test_all_covers_langgraph_all_plus_rewind_errors() -> None:
    assert set(lg.__all__) - OMITTED <= set(rw.__all__)
    assert set(rw.__all__) == (set(lg.__all__) - OMITTED) | REWIND_ONLY | {"create_error_message"}
    assert rw.__all__ == sorted(rw.__all__)


def test_exception_list_is_not_empty() -> None:
    # Guards the parametrisations below against a silently empty list.
    assert len(_exception_names()) >= 13


# --------------------------------------------------------------------------------------------
# Class hierarchy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _exception_names())
def test_mro_is_langgraphs_plus_rewind_error(name: str) -> None:
    theirs = [cls.__name__ for cls in getattr(lg, name).__mro__]
    ours = [cls.__name__ for cls in getattr(rw, name).__mro__ if cls is not rw.RewindError]
    assert ours == theirs
    assert issubclass(getattr(rw, name), rw.RewindError)


@pytest.mark.parametrize("name", _exception_names())
def test_builtin_bases_are_kept(name: str) -> None:
    builtin_bases = [c for c in getattr(lg, name).__mro__ if c.__module__ == "builtins"]
    for base in builtin_bases:
        assert issubclass(getattr(rw, name), base), base


def test_except_clauses_written_for_langgraph_catch_rewinds_errors() -> None:
    with pytest.raises(RecursionError):
        raise rw.GraphRecursionError("too deep")
    with pytest.raises(RuntimeError):  # RecursionError is a RuntimeError
        raise rw.GraphRecursionError("too deep")
    with pytest.raises(rw.GraphBubbleUp):
        raise rw.GraphInterrupt(())
    with pytest.raises(rw.GraphBubbleUp):
        raise rw.ParentCommand(rwt.Command(graph=rwt.Command.PARENT))
    with pytest.raises(rw.GraphBubbleUp):
        raise rw.GraphDrained()
    with pytest.raises(rw.RewindError):
        raise rw.EmptyChannelError()


def test_node_timeout_error_is_not_a_builtin_timeout() -> None:
    # So that the default RetryPolicy retries it.
    assert not issubclass(lg.NodeTimeoutError, TimeoutError)
    assert not issubclass(rw.NodeTimeoutError, TimeoutError)


def test_empty_channel_error_is_reexported_from_checkpoint_in_langgraph() -> None:
    assert lg.EmptyChannelError is CheckpointEmptyChannelError
    assert [c.__name__ for c in rw.EmptyChannelError.__mro__] == [
        "EmptyChannelError",
        "RewindError",
        "Exception",
        "BaseException",
        "object",
    ]


# --------------------------------------------------------------------------------------------
# ErrorCode and create_error_message
# --------------------------------------------------------------------------------------------


def test_error_codes_match() -> None:
    assert [(m.name, m.value) for m in rw.ErrorCode] == [(m.name, m.value) for m in lg.ErrorCode]
    assert issubclass(rw.ErrorCode, Enum)
    assert not issubclass(rw.ErrorCode, str) and not issubclass(lg.ErrorCode, str)
    assert repr(rw.ErrorCode.GRAPH_RECURSION_LIMIT) == repr(lg.ErrorCode.GRAPH_RECURSION_LIMIT)


@pytest.mark.parametrize("code", [m.name for m in lg.ErrorCode])
@pytest.mark.parametrize("message", ["Recursion limit of 25 reached", "", "two\nlines {x}"])
def test_create_error_message_matches(code: str, message: str) -> None:
    theirs = lg.create_error_message(message=message, error_code=lg.ErrorCode[code])
    ours = rw.create_error_message(message=message, error_code=rw.ErrorCode[code])
    assert ours == theirs
    assert ours.endswith(f"https://docs.langchain.com/oss/python/langgraph/errors/{code}")


def test_create_error_message_is_keyword_only() -> None:
    for lib in (lg, rw):
        with pytest.raises(TypeError):
            lib.create_error_message("m", lib.ErrorCode.GRAPH_RECURSION_LIMIT)  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Messages, args and attributes
# --------------------------------------------------------------------------------------------

Make = Callable[[types.ModuleType, types.ModuleType], BaseException]

CONSTRUCTED: dict[str, Make] = {
    "bubble_up": lambda e, t: e.GraphBubbleUp("up"),
    "bubble_up_empty": lambda e, t: e.GraphBubbleUp(),
    "recursion": lambda e, t: e.GraphRecursionError("Recursion limit of 25 reached"),
    "invalid_update": lambda e, t: e.InvalidUpdateError("At key 'x': Can receive only one value"),
    "invalid_update_two_args": lambda e, t: e.InvalidUpdateError("a", 2),
    "empty_input": lambda e, t: e.EmptyInputError(),
    "empty_input_msg": lambda e, t: e.EmptyInputError("Received no input for __start__"),
    "task_not_found": lambda e, t: e.TaskNotFound("task-1"),
    "empty_channel": lambda e, t: e.EmptyChannelError(),
    "empty_channel_msg": lambda e, t: e.EmptyChannelError("messages"),
    "drained": lambda e, t: e.GraphDrained(),
    "drained_reason": lambda e, t: e.GraphDrained("SIGTERM"),
    "interrupt_empty": lambda e, t: e.GraphInterrupt(),
    "interrupt_list": lambda e, t: e.GraphInterrupt([t.Interrupt("ask", "abc")]),
    "interrupt_tuple": lambda e, t: e.GraphInterrupt(
        (t.Interrupt(1, "a"), t.Interrupt({"k": [1]}, "b", response_schema={"type": "int"}))
    ),
    "parent_command": lambda e, t: e.ParentCommand(
        t.Command(graph=t.Command.PARENT, goto="node", update={"x": 1})
    ),
    "cancelled": lambda e, t: e.NodeCancelledError("worker"),
    "cancelled_msg": lambda e, t: e.NodeCancelledError("worker", "stopped by hand"),
    "cancelled_empty_msg": lambda e, t: e.NodeCancelledError("worker", ""),
    "timeout_idle": lambda e, t: e.NodeTimeoutError("slow", 12.34567, kind="idle", idle_timeout=10),
    "timeout_run": lambda e, t: e.NodeTimeoutError("slow", 61.0, kind="run", run_timeout=60.0),
    "timeout_both": lambda e, t: e.NodeTimeoutError(
        "slow", 5.5, kind="run", idle_timeout=1.0, run_timeout=5.25
    ),
    "unknown_interrupt": lambda e, t: e.UnknownInterruptError(
        "no such interrupt", reason="not_pending", interrupt_ids=["x"], pending_ids=("a", "b")
    ),
    "unknown_interrupt_defaults": lambda e, t: e.UnknownInterruptError("m", reason="empty_map"),
}


def _observable(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "str": norm(str(error)),
        "repr": norm(repr(error)),
        "args": norm(repr(error.args)),
        "attributes": norm(repr(sorted(vars(error).items()))),
    }


@pytest.mark.parametrize("case", sorted(CONSTRUCTED))
def test_message_args_and_attributes_match(case: str) -> None:
    make = CONSTRUCTED[case]
    assert _observable(make(rw, rwt)) == _observable(make(lg, lgt))


@pytest.mark.parametrize("case", sorted(CONSTRUCTED))
def test_pickling_behaves_alike(case: str) -> None:
    # Exceptions pickle by their args; custom __init__ signatures make some round trips fail or
    # change (GraphDrained's message nests on reload). rewind must behave the same way.
    def round_trip(error: BaseException) -> dict[str, Any] | str:
        try:
            return _observable(pickle.loads(pickle.dumps(error)))
        except Exception as exc:
            return f"{type(exc).__name__}: {norm(str(exc))}"

    make = CONSTRUCTED[case]
    assert round_trip(make(rw, rwt)) == round_trip(make(lg, lgt))


@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.NodeTimeoutError("n", 1.0, kind="idle"),
        lambda e: e.NodeTimeoutError("n", 1.0, kind="run", idle_timeout=3),
        lambda e: e.NodeTimeoutError("n", 1.0, kind="wall", run_timeout=3),
        lambda e: e.NodeTimeoutError("n", 1.0),
        lambda e: e.NodeTimeoutError("n", 1.0, "idle"),
        lambda e: e.UnknownInterruptError("m"),
        lambda e: e.NodeCancelledError(),
        lambda e: e.GraphDrained("a", "b"),
        lambda e: e.ParentCommand(),
        lambda e: e.GraphInterrupt((), ()),
    ],
    ids=[
        "idle-without-idle-timeout",
        "run-without-run-timeout",
        "unknown-kind",
        "no-kind",
        "positional-kind",
        "no-reason",
        "cancelled-no-node",
        "drained-too-many",
        "parent-no-command",
        "interrupt-too-many",
    ],
)
def test_constructor_errors_match(call: Callable[[types.ModuleType], object]) -> None:
    def outcome(lib: types.ModuleType) -> tuple[str, str]:
        try:
            call(lib)
        except (TypeError, ValueError) as exc:
            return type(exc).__name__, str(exc)
        raise AssertionError("no error raised")

    assert outcome(rw) == outcome(lg)


def test_node_timeout_error_attributes() -> None:
    error = rw.NodeTimeoutError("n", 2.0, kind="idle", idle_timeout=1.5, run_timeout=9.0)
    assert (error.node, error.elapsed, error.kind) == ("n", 2.0, "idle")
    assert (error.timeout, error.idle_timeout, error.run_timeout) == (1.5, 1.5, 9.0)


def test_graph_interrupt_keeps_the_sequence_object() -> None:
    interrupts = [rwt.Interrupt("v", "i")]
    assert rw.GraphInterrupt(interrupts).args[0] is interrupts
    command = rwt.Command(graph=rwt.Command.PARENT)
    assert rw.ParentCommand(command).args == (command,)


# --------------------------------------------------------------------------------------------
# NodeInterrupt's deprecation
# --------------------------------------------------------------------------------------------


def _node_interrupt_warning(
    errors: types.ModuleType, *args: Any
) -> tuple[BaseException, warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = errors.NodeInterrupt(*args)
    assert len(caught) == 1
    return error, caught[0]


@pytest.mark.parametrize("args", [("value",), ({"question": "age?"}, "my-id")], ids=str)
def test_node_interrupt_warns_like_langgraph(args: tuple[Any, ...]) -> None:
    ours, our_warning = _node_interrupt_warning(rw, *args)
    theirs, their_warning = _node_interrupt_warning(lg, *args)
    assert _observable(ours) == _observable(theirs)
    assert norm(str(our_warning.message)) == norm(str(their_warning.message))
    assert str(our_warning.message) == (
        "NodeInterrupt is deprecated. Please use `rewind.types.interrupt` instead. "
        "Deprecated in LangGraph V1.0 to be removed in V2.0."
    )
    assert [c.__name__ for c in our_warning.category.__mro__] == [
        c.__name__ for c in their_warning.category.__mro__
    ]
    # stacklevel=2: the warning points at the code constructing the error.
    assert our_warning.filename == their_warning.filename == __file__
    assert isinstance(ours.args[0], list) and isinstance(ours.args[0][0], rwt.Interrupt)


def test_node_interrupt_is_a_deprecation_warning_under_pytest() -> None:
    with pytest.deprecated_call(match="NodeInterrupt is deprecated"):
        error = rw.NodeInterrupt("v")
    assert isinstance(error, rw.GraphInterrupt)
    with pytest.warns(rw.LangGraphDeprecatedSinceV10):
        rw.NodeInterrupt("v", "id")


def test_node_interrupt_deprecated_marker() -> None:
    assert norm(rw.NodeInterrupt.__deprecated__) == norm(lg.NodeInterrupt.__deprecated__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["LangGraphDeprecatedSinceV10", "LangGraphDeprecatedSinceV11"])
@pytest.mark.parametrize("message", ["Old thing is deprecated.", "No period", "Ends in dots..."])
def test_deprecation_warning_classes_match(name: str, message: str) -> None:
    ours, theirs = getattr(rw, name)(message, "extra"), getattr(lgw, name)(message, "extra")
    assert str(ours) == str(theirs)
    assert ours.args == theirs.args
    assert (ours.message, ours.since, ours.expected_removal) == (
        theirs.message,
        theirs.since,
        theirs.expected_removal,
    )
    assert [c.__name__ for c in type(ours).__mro__] == [c.__name__ for c in type(theirs).__mro__]


@pytest.mark.parametrize("removal", [None, (4, 2), ()])
def test_deprecation_warning_base_matches(removal: tuple[int, ...] | None) -> None:
    ours = rw.LangGraphDeprecationWarning("m.", since=(1, 3), expected_removal=removal)  # type: ignore[arg-type]
    theirs = lgw.LangGraphDeprecationWarning("m.", since=(1, 3), expected_removal=removal)  # type: ignore[arg-type]
    if removal == ():  # both index the empty tuple in __str__
        for warning in (ours, theirs):
            with pytest.raises(IndexError):
                str(warning)
        return
    assert str(ours) == str(theirs)


# --------------------------------------------------------------------------------------------
# NodeError and is_invalid_resume
# --------------------------------------------------------------------------------------------


def test_node_error_dataclass_matches() -> None:
    def spec(cls: type) -> list[tuple[Any, ...]]:
        return [(f.name, f.default, f.kw_only, f.init) for f in dataclasses.fields(cls)]

    assert spec(rw.NodeError) == spec(lg.NodeError)
    params = ("frozen", "eq", "order", "unsafe_hash")
    for param in params:
        assert getattr(rw.NodeError.__dataclass_params__, param) == getattr(  # type: ignore[attr-defined]
            lg.NodeError.__dataclass_params__,  # type: ignore[attr-defined]
            param,
        )
    assert rw.NodeError.__slots__ == lg.NodeError.__slots__  # type: ignore[attr-defined]
    boom = ValueError("boom")
    ours, theirs = rw.NodeError("n", boom), lg.NodeError("n", boom)
    assert norm(repr(ours)) == norm(repr(theirs))
    assert ours == rw.NodeError("n", boom) and ours != rw.NodeError("n", ValueError("boom"))
    assert hash(ours) == hash(rw.NodeError("n", boom))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.node = "m"  # type: ignore[misc]


def test_is_invalid_resume_matches_and_interoperates() -> None:
    for mark, check in [
        (rw._mark_invalid_resume, lg.is_invalid_resume),
        (lg._mark_invalid_resume, rw.is_invalid_resume),
        (rw._mark_invalid_resume, rw.is_invalid_resume),
    ]:
        error = ValueError("bad resume")
        assert not check(error)
        mark(error)
        assert check(error)
    truthy_but_not_true = ValueError()
    truthy_but_not_true._langgraph_invalid_resume = 1  # type: ignore[attr-defined]
    assert rw.is_invalid_resume(truthy_but_not_true) is lg.is_invalid_resume(truthy_but_not_true)


def test_cancelled_error_is_not_caught_by_exception_but_node_cancelled_error_is() -> None:
    # The reason NodeCancelledError exists: CancelledError is a BaseException.
    assert not issubclass(asyncio.CancelledError, Exception)
    assert issubclass(rw.NodeCancelledError, Exception)
