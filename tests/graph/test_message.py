"""``rewind.graph.message`` against ``langgraph.graph.message`` 1.2.22, run side by side.

Every case runs both ``add_messages`` on deep copies of the same arguments and compares:
the result, the exception (type and message), the arguments afterwards (which message objects
received an id in place), which result items are the very objects passed in, and the order in
which uuid4 ids were generated. Generated ids are checked to be uuid4 strings and then
replaced by ordinals in order of first appearance, so the two runs can be compared.
"""

from __future__ import annotations

import builtins
import copy
import functools
import importlib.metadata
import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph import StateGraph
from langgraph.graph import message as lg
from typing_extensions import TypedDict

from rewind.graph import message as rw

Add = Callable[..., Any]


def test_reference_is_langgraph_1_2_22() -> None:
    assert importlib.metadata.version("langgraph") == "1.2.22"


# --- running both implementations -----------------------------------------------------------


@contextmanager
def _recording_uuid4() -> Iterator[list[str]]:
    """Record every ``uuid.uuid4()`` made inside the block (both modules call it through
    the ``uuid`` module, so patching the module attribute reaches both)."""
    generated: list[str] = []
    real = uuid.uuid4

    def record() -> uuid.UUID:
        value = real()
        generated.append(str(value))
        return value

    uuid.uuid4 = record
    try:
        yield generated
    finally:
        uuid.uuid4 = real


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _Normalise:
    """Turns values into comparable plain data, generated ids becoming ordinals."""

    def __init__(self, generated: list[str]) -> None:
        self.generated = set(generated)
        self.names: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if value in self.generated:
                return self.names.setdefault(value, f"<generated {len(self.names)}>")
            for generated in self.generated & set(_UUID.findall(value)):  # inside error messages
                value = value.replace(generated, self(generated))
            return value
        if isinstance(value, type):
            return value
        if isinstance(value, BaseMessage):
            return (type(value).__name__, self(value.model_dump()))
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        return value


def _inputs(left: Any, right: Any) -> list[tuple[str, Any]]:
    """The objects passed in, with where they were passed."""
    found: list[tuple[str, Any]] = []
    for side, value in (("left", left), ("right", right)):
        if isinstance(value, list):
            found.extend((f"{side}[{index}]", item) for index, item in enumerate(value))
        else:
            found.append((side, value))
    return found


def _outcome(add: Add, left: Any, right: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    left, right = copy.deepcopy((left, right))  # (one deepcopy: an object on both sides stays one)
    inputs = _inputs(left, right)
    ids_before = [getattr(obj, "id", None) for _, obj in inputs]
    with _recording_uuid4() as generated:
        try:
            result = add(left, right, **kwargs)
        except Exception as exc:
            result, error = None, (type(exc), str(exc))
        else:
            error = None
    for value in generated:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and str(parsed) == value
    normalise = _Normalise(generated)
    identity = None
    if result is not None:
        assert result is not left and result is not right
        identity = [next((where for where, obj in inputs if obj is item), None) for item in result]
    return {
        "result": normalise(result),
        "error": normalise(error),
        "args": normalise((left, right)),
        "assigned_in_place": [
            where
            for (where, obj), before in zip(inputs, ids_before, strict=True)
            if before is None and getattr(obj, "id", None) is not None
        ],
        "result_items_that_are_inputs": identity,
        "generation_order": normalise(generated),
    }


def _assert_same(left: Any, right: Any, **kwargs: Any) -> dict[str, Any]:
    ours = _outcome(rw.add_messages, left, right, kwargs)
    theirs = _outcome(lg.add_messages, left, right, kwargs)
    assert ours == theirs
    return ours


# --- table of cases --------------------------------------------------------------------------


def _h(content: str = "hi", id: str | None = None) -> HumanMessage:
    return HumanMessage(content=content, id=id)


def _ai(content: str = "yo", id: str | None = None, **kw: Any) -> AIMessage:
    return AIMessage(content=content, id=id, **kw)


_both = _h("both")  # one object on both sides, without an id
_TOOL_CALL = {"name": "search", "args": {"q": "x"}, "id": "call-1", "type": "tool_call"}
_IMAGE = {"type": "image", "source_type": "base64", "data": "1234", "mime_type": "image/jpeg"}

CASES: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "append with ids": ([_h(id="1")], [_ai(id="2")], {}),
    "replace keeps position": ([_h(id="1"), _ai(id="2")], [_h("again", id="1")], {}),
    "ids assigned in place on both sides": ([_h(), _ai(id="2")], [_ai(), _h(id="3")], {}),
    "empty and empty": ([], [], {}),
    "single message right": ([_h(id="1")], _ai(), {}),
    "single message left": (_h(), [_ai()], {}),
    "single message both": (_h(id="1"), _h("x", id="1"), {}),
    "single string right": ([], "hello", {}),
    "single tuple right": ([], ("assistant", "hello"), {}),
    "single tuple left": (("user", "hello"), [], {}),
    "single dict right": ([], {"role": "user", "content": "hi", "id": "d"}, {}),
    "dicts tuples strings": (
        [{"role": "system", "content": "sys"}, ("human", "q")],
        ["s", ("ai", "a"), {"role": "tool", "content": "t", "tool_call_id": "c"}],
        {},
    ),
    "dict with None content": ([], [{"role": "assistant", "content": None}], {}),
    "dict developer role": ([], [{"role": "developer", "content": "be brief"}], {}),
    "dict type remove": ([_h(id="1")], [{"type": "remove", "content": "", "id": "1"}], {}),
    "dict with tool_calls": (
        [],
        [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}},
                ],
            }
        ],
        {},
    ),
    "mixed list with message objects kept as objects": (
        [_h(), "x"],
        [_ai(), ("user", "y"), _h(id="9")],
        {},
    ),
    "chunk without id is converted, not mutated": ([_h(id="1")], [AIMessageChunk("c")], {}),
    "chunk with id replaces": ([_ai(id="1")], [AIMessageChunk("c", id="1")], {}),
    "human chunk on left": ([HumanMessageChunk("h")], [], {}),
    "chunk with tool call chunks": (
        [],
        AIMessageChunk(
            "",
            id="k",
            tool_call_chunks=[{"name": "f", "args": '{"a": 1}', "id": "c1", "index": 0}],
        ),
        {},
    ),
    "remove existing": ([_h(id="1"), _ai(id="2")], [RemoveMessage(id="1")], {}),
    "remove missing raises": ([_h(id="1")], [RemoveMessage(id="nope")], {}),
    "remove missing after id-less message raises": (
        [_h()],
        [_ai(), RemoveMessage(id="nope")],
        {},
    ),
    "remove then re-add keeps": ([_h(id="1")], [RemoveMessage(id="1"), _ai(id="1")], {}),
    "add then remove in one update": ([], [_ai(id="n"), RemoveMessage(id="n")], {}),
    "add, remove, add again": ([], [_ai(id="n"), RemoveMessage(id="n"), _h(id="n")], {}),
    "remove twice": ([_h(id="1")], [RemoveMessage(id="1"), RemoveMessage(id="1")], {}),
    "duplicate ids on left: last replaced": (
        [_h("a", id="1"), _h("b", id="1")],
        [_ai("c", id="1")],
        {},
    ),
    "duplicate ids on left: all removed": (
        [_h("a", id="1"), _ai(id="2"), _h("b", id="1")],
        [RemoveMessage(id="1")],
        {},
    ),
    "remove message on left replaced": ([RemoveMessage(id="1")], [_h(id="1")], {}),
    "remove all first": ([_h(id="1")], [RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), _ai()], {}),
    "remove all single": ([_h(id="1")], RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), {}),
    "remove all in the middle": (
        [_h()],
        [_ai(id="x"), RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), _h(id="y")],
        {},
    ),
    "remove all twice: last wins": (
        [_h(id="1")],
        [
            _ai(),
            RemoveMessage(id=rw.REMOVE_ALL_MESSAGES),
            _h(),
            RemoveMessage(id=rw.REMOVE_ALL_MESSAGES),
            _ai("kept"),
        ],
        {},
    ),
    "remove all keeps later unknown removes": (
        [_h(id="1")],
        [RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), RemoveMessage(id="unknown")],
        {},
    ),
    "remove all as dict": ([_h(id="1")], [{"type": "remove", "id": "__remove_all__"}], {}),
    "remove all on left is just a message": (
        [RemoveMessage(id=rw.REMOVE_ALL_MESSAGES)],
        [_h(id="1")],
        {},
    ),
    "remove all skips format check": (
        [_h()],
        [RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), _ai()],
        {"format": "bogus"},
    ),
    "same object on both sides without id": ([_both], [_both], {}),
    "same object twice on the right": ([], [_both, _both], {}),
    "empty-string id is an id": ([_h(id="")], [_ai(id="")], {}),
    "format None explicit": ([_h(id="1")], [_ai()], {"format": None}),
    "format bogus raises after merge": ([_h(id="1")], [_ai()], {"format": "bogus"}),
    "format error loses to remove error": (
        [_h(id="1")],
        [RemoveMessage(id="x")],
        {"format": "bogus"},
    ),
    "format empty string is ignored": ([_h(id="1")], [_ai()], {"format": ""}),
    "format non-string truthy raises": ([_h(id="1")], [_ai()], {"format": 1}),
    "format openai": (
        [_h(id="1"), _ai(id="2", tool_calls=[_TOOL_CALL])],
        [
            ToolMessage("found", tool_call_id="call-1"),
            {
                "role": "user",
                "content": [{"type": "text", "text": "look", "cache_control": {}}, _IMAGE],
            },
            SystemMessage("s"),
        ],
        {"format": "langchain-openai"},
    ),
    "format openai with remove": (
        [_h(id="1"), _ai(id="2")],
        [RemoveMessage(id="1")],
        {"format": "langchain-openai"},
    ),
    "unknown keyword": ([_h()], [_ai()], {"fmt": "langchain-openai"}),
    "dict without content": ([], [{"role": "user"}], {}),
    "dict without role": ([], [{"content": "x"}], {}),
    "unknown role": ([], [("robot", "beep")], {}),
    "three-tuple": ([], [("user", "a", "b")], {}),
    "unsupported type": ([], [42], {}),
    "unsupported single value": ([], 42, {}),
    "tuple of messages on left is a pair": ((_h(id="1"), _ai(id="2")), [], {}),
    "remove tuple without id": ([], [("remove", "x")], {}),
    "bad item after good ones": ([_h()], [_ai(), AIMessageChunk("c"), {"role": "x"}], {}),
}


@pytest.mark.parametrize(("left", "right", "kwargs"), CASES.values(), ids=CASES.keys())
def test_case_matches_langgraph(left: Any, right: Any, kwargs: dict[str, Any]) -> None:
    _assert_same(left, right, **kwargs)


def test_table_covers_what_it_claims() -> None:
    """A few outcomes pinned down, so a change in the reference cannot hide a case."""
    replaced = _assert_same([_h(id="1"), _ai(id="2")], [_h("again", id="1")])
    assert [m[1]["content"] for m in replaced["result"]] == ["again", "yo"]

    in_place = _assert_same([_h(), _ai(id="2")], [_ai(), _h(id="3")])
    assert in_place["assigned_in_place"] == ["left[0]", "right[0]"]
    assert in_place["result_items_that_are_inputs"] == [
        "left[0]",
        "left[1]",
        "right[0]",
        "right[1]",
    ]

    chunk = _assert_same([], [AIMessageChunk("c")])
    assert chunk["assigned_in_place"] == [] and chunk["result"][0][0] == "AIMessage"
    assert chunk["result_items_that_are_inputs"] == [None]

    missing = _assert_same([_h()], [_ai(), RemoveMessage(id="nope")])
    assert missing["error"] == (
        ValueError,
        "Attempting to delete a message with an ID that doesn't exist ('nope')",
    )
    assert missing["assigned_in_place"] == ["left[0]", "right[0]"]

    skipped = _assert_same([_h()], [RemoveMessage(id=rw.REMOVE_ALL_MESSAGES), _ai()], format="x")
    assert skipped["error"] is None and len(skipped["result"]) == 1

    bogus = _assert_same([_h(id="1")], [_ai()], format="bogus")
    assert bogus["error"] == (
        ValueError,
        "Unrecognized format='bogus'. Expected one of 'langchain-openai', None.",
    )

    openai = _assert_same([_h(id="1")], [_ai(id="2")], format="langchain-openai")
    assert [m[1]["id"] for m in openai["result"]] == [None, None]

    unknown = _assert_same([_h()], [_ai()], fmt="x")
    assert unknown["error"] == (
        TypeError,
        "add_messages() got an unexpected keyword argument 'fmt'",
    )


# --- random merges ---------------------------------------------------------------------------

IDS = ["a", "b", "c"]
_text = st.sampled_from(["", "hi", "ok", "two words"])
_maybe_id = st.none() | st.sampled_from(IDS)
_chat_role = st.sampled_from(["user", "human", "assistant", "ai", "system"])


def _message_object() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(lambda c, i: HumanMessage(content=c, id=i), _text, _maybe_id),
        st.builds(lambda c, i: AIMessage(content=c, id=i), _text, _maybe_id),
        st.builds(lambda c, i: ToolMessage(content=c, tool_call_id="t", id=i), _text, _maybe_id),
        st.builds(lambda c, i: SystemMessage(content=c, id=i), _text, _maybe_id),
        st.builds(lambda c, i: AIMessageChunk(content=c, id=i), _text, _maybe_id),
    )


def _message_dict() -> st.SearchStrategy[dict[str, Any]]:
    def build(role: str, content: str, id: str | None) -> dict[str, Any]:
        value: dict[str, Any] = {"role": role, "content": content}
        if id is not None:
            value["id"] = id
        return value

    return st.builds(build, _chat_role, _text, _maybe_id)


_remove = st.builds(
    lambda i: RemoveMessage(id=i), st.sampled_from([*IDS, "missing", rw.REMOVE_ALL_MESSAGES])
)
_update_item = st.one_of(
    _message_object(),
    _message_object(),
    _message_dict(),
    st.tuples(_chat_role, _text),
    _text,
    _remove,
)
_state_item = st.one_of(_message_object(), _message_object(), _message_dict(), _text)


@st.composite
def _merges(draw: st.DrawFn) -> tuple[Any, Any, dict[str, Any]]:
    left: Any = draw(st.lists(_state_item, max_size=5))
    right: Any = draw(st.lists(_update_item, max_size=6))
    if left and draw(st.booleans()):  # the same object on both sides
        common = left[draw(st.integers(0, len(left) - 1))]
        right.insert(draw(st.integers(0, len(right))), common)
    if left and draw(st.integers(0, 5)) == 0:
        left = left[0]
    if right and draw(st.integers(0, 3)) == 0:
        right = right[0]
    fmt = draw(st.sampled_from([None, None, None, None, "langchain-openai", "bogus", ""]))
    return left, right, ({} if fmt is None else {"format": fmt})


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_merges())
def test_random_merges_match_langgraph(case: tuple[Any, Any, dict[str, Any]]) -> None:
    left, right, kwargs = case
    _assert_same(left, right, **kwargs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_update_item, max_size=4), min_size=1, max_size=4))
def test_chains_of_updates_match_langgraph(updates: list[list[Any]]) -> None:
    """Fold several updates in turn, the way a graph applies one node's write after another."""

    def fold(add: Add) -> tuple[Any, Any]:
        state: Any = []
        with _recording_uuid4() as generated:
            for update in copy.deepcopy(updates):
                try:
                    state = add(state, update)
                except Exception as exc:
                    return _Normalise(generated)((type(exc), str(exc))), None
        return None, _Normalise(generated)(state)

    assert fold(rw.add_messages) == fold(lg.add_messages)


# --- the decorated call forms ----------------------------------------------------------------


def _call(add: Add, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        value = add(*args, **kwargs)
    except Exception as exc:
        return "raised", (type(exc), str(exc))
    if isinstance(value, functools.partial):
        return "partial", value.keywords
    return "value", _Normalise([])(value)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((), {"format": "langchain-openai"}),
        ((), {"format": "bogus"}),
        ((), {"anything": 1}),
        ((None, None), {}),
        ((None,), {"right": None, "format": None}),
        (([HumanMessage("x", id="1")],), {}),
        (([],), {}),  # an empty ``left``, reported as "received: 'right'" by truthiness
        ((HumanMessage("x", id="1"),), {}),
        (("",), {}),
        ((None, [HumanMessage("x", id="1")]), {}),
        ((None, []), {}),
        ((), {"left": [HumanMessage("x", id="1")]}),
        ((), {"right": [HumanMessage("x", id="1")], "format": "langchain-openai"}),
        ((), {"left": [HumanMessage("x", id="1")], "right": [AIMessage("y", id="2")]}),
        (([HumanMessage("x", id="1")],), {"right": AIMessage("y", id="2")}),
    ],
)
def test_call_forms_match_langgraph(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ours = _call(rw.add_messages, *copy.deepcopy(args), **copy.deepcopy(kwargs))
    theirs = _call(lg.add_messages, *copy.deepcopy(args), **copy.deepcopy(kwargs))
    assert ours == theirs


def test_one_sided_call_messages() -> None:
    with pytest.raises(ValueError, match=r"^Must specify non-null arguments for both 'left' and "):
        rw.add_messages(right=[])
    assert _call(rw.add_messages, [])[1][1].endswith("Only received: 'right'.")
    assert _call(rw.add_messages, [_h()])[1][1].endswith("Only received: 'left'.")


def test_signatures_match_langgraph() -> None:
    def shape(function: Any) -> list[tuple[str, Any, Any]]:
        return [
            (p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()
        ]

    assert shape(rw.add_messages) == shape(lg.add_messages)
    for kwargs in ({}, {"format": "langchain-openai"}):
        ours, theirs = rw.add_messages(**kwargs), lg.add_messages(**kwargs)
        assert isinstance(ours, functools.partial) and isinstance(theirs, functools.partial)
        assert shape(ours) == shape(theirs)
        assert ours.keywords == theirs.keywords
        assert ours.func.__name__ == theirs.func.__name__ == "add_messages"


@pytest.mark.parametrize("kwargs", [{}, {"format": "langchain-openai"}], ids=["plain", "openai"])
@pytest.mark.parametrize("name", ["append with ids", "format openai", "remove missing raises"])
def test_partial_application_matches_langgraph(kwargs: dict[str, Any], name: str) -> None:
    left, right, _ = CASES[name]
    ours = _outcome(rw.add_messages(**kwargs), left, right, {})
    theirs = _outcome(lg.add_messages(**kwargs), left, right, {})
    assert ours == theirs


def test_partial_with_unknown_keyword_fails_when_called() -> None:
    ours = _outcome(rw.add_messages(fmt="x"), [], [], {})
    theirs = _outcome(lg.add_messages(fmt="x"), [], [], {})
    assert ours == theirs
    assert ours["error"] == (TypeError, "add_messages() got an unexpected keyword argument 'fmt'")


def test_partial_passes_none_through_to_the_merge() -> None:
    ours = _outcome(rw.add_messages(), None, [_h()], {})
    theirs = _outcome(lg.add_messages(), None, [_h()], {})
    assert ours == theirs and ours["error"] is not None


def test_too_many_positional_arguments() -> None:
    # Same exception type; the message names the function, which LangGraph's wrapper calls
    # "_add_messages_wrapper.<locals>._add_messages".
    with pytest.raises(TypeError, match="takes from 0 to 2 positional arguments but 3 were given"):
        rw.add_messages([], [], "langchain-openai")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="takes from 0 to 2 positional arguments but 3 were given"):
        lg.add_messages([], [], "langchain-openai")  # type: ignore[call-arg]


def test_openai_format_without_langchain_support_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_openai_converter(name: str, *args: Any, **kwargs: Any) -> Any:
        fromlist = args[2] if len(args) > 2 else kwargs.get("fromlist")
        if name == "langchain_core.messages" and "convert_to_openai_messages" in (fromlist or ()):
            raise ImportError("cannot import name 'convert_to_openai_messages'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openai_converter)
    outcomes = []
    for add in (rw.add_messages, lg.add_messages):
        with pytest.warns(UserWarning, match="langchain-core>=0.3.11") as caught:
            outcome = _outcome(add, [_h(id="1")], [_ai(id="2")], {"format": "langchain-openai"})
        assert len(caught) == 1
        outcomes.append((outcome, type(caught[0].message), str(caught[0].message)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0]["result"][1][1]["id"] == "2"  # returned unformatted, ids kept
    assert outcomes[0][2].startswith("Must have langchain-core>=0.3.11 installed")


# --- module surface and MessagesState --------------------------------------------------------


def test_public_names_match_langgraph() -> None:
    assert rw.REMOVE_ALL_MESSAGES == lg.REMOVE_ALL_MESSAGES == "__remove_all__"
    assert set(rw.__all__) == set(lg.__all__)
    assert rw.Messages == lg.Messages
    for name in (
        "AnyMessage",
        "BaseMessage",
        "BaseMessageChunk",
        "MessageLikeRepresentation",
        "RemoveMessage",
        "convert_to_messages",
        "message_chunk_to_message",
        "Annotated",
        "TypedDict",
    ):
        assert getattr(rw, name) is getattr(lg, name), name


def test_messages_state_matches_langgraph() -> None:
    ours = get_type_hints(rw.MessagesState, include_extras=True)
    theirs = get_type_hints(lg.MessagesState, include_extras=True)
    assert list(ours) == list(theirs) == ["messages"]
    assert ours["messages"].__origin__ == theirs["messages"].__origin__ == list[AnyMessage]
    assert ours["messages"].__metadata__ == (rw.add_messages,)
    assert theirs["messages"].__metadata__ == (lg.add_messages,)
    assert type(rw.MessagesState) is type(lg.MessagesState)
    assert rw.MessagesState.__required_keys__ == lg.MessagesState.__required_keys__
    assert rw.MessagesState.__optional_keys__ == lg.MessagesState.__optional_keys__
    assert rw.MessagesState.__total__ == lg.MessagesState.__total__


def test_messages_state_mixes_with_typing_extensions_typeddicts() -> None:
    class Extra(TypedDict):
        notes: list[str]

    class State(rw.MessagesState, Extra):
        step: int

    assert set(get_type_hints(State)) == {"messages", "notes", "step"}


def _run_graph(state_schema: Any) -> Any:
    def chatbot(state: Any) -> dict[str, Any]:
        return {"messages": [("assistant", f"seen {len(state['messages'])}"), AIMessage("more")]}

    def editor(state: Any) -> dict[str, Any]:
        first, second = state["messages"][0], state["messages"][1]
        return {"messages": [RemoveMessage(id=first.id), AIMessage("edited", id=second.id), "tail"]}

    builder = StateGraph(state_schema)
    builder.add_node("chatbot", chatbot)
    builder.add_node("editor", editor)
    builder.add_edge("__start__", "chatbot")
    builder.add_edge("chatbot", "editor")
    graph = builder.compile()
    with _recording_uuid4() as generated:
        try:
            result = graph.invoke({"messages": [{"role": "user", "content": "hi"}]})
        except Exception as exc:
            result = (type(exc), str(exc))
    return _Normalise(generated)(result)


def test_rewind_state_runs_in_a_langgraph_graph_identically() -> None:
    class OursCustom(TypedDict):
        messages: Annotated[list[AnyMessage], rw.add_messages(format="langchain-openai")]

    class TheirsCustom(TypedDict):
        messages: Annotated[list[AnyMessage], lg.add_messages(format="langchain-openai")]

    assert _run_graph(rw.MessagesState) == _run_graph(lg.MessagesState)
    assert _run_graph(OursCustom) == _run_graph(TheirsCustom)
