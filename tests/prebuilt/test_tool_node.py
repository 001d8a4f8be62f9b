"""``rewind.prebuilt`` side by side with ``langgraph.prebuilt`` (LangGraph 1.2.22).

Most tests build the same ``ToolNode`` from each library (tools that need a library's own
markers or ``Command`` are built per library), feed both the same input, and require the same
outcome: the same output once normalised, or the same exception type and message. LangGraph's
node needs a runtime in its config when called outside a graph; rewind's does not, so rewind's
gets no config unless the test is about what the runtime carries (context, store).

The last tests run graphs: rewind graphs built with ``rewind.prebuilt``, and the stream-mode
corpus's ``g10_llm_tokens_tools.py`` (``tests/runtime/corpus``) with its ``langgraph.`` imports
rewritten to ``rewind.``.
"""

import asyncio
import dataclasses
import json
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import langgraph.graph as lg_graph
import langgraph.prebuilt as lg_prebuilt
import langgraph.types as lg_types
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolCallId, tool
from langgraph.checkpoint.memory import InMemorySaver as LgSaver
from langgraph.runtime import Runtime as LgRuntime
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel

import rewind.graph as rw_graph
import rewind.prebuilt as rw_prebuilt
import rewind.types as rw_types
from rewind.checkpoint.memory import InMemorySaver as RwSaver
from rewind.events import EventType
from rewind.prebuilt.tool_node import ToolCallRequest, ToolInvocationError

RUNTIME_KEY = "__pregel_runtime"  # where LangGraph's ToolNode finds its runtime


@dataclasses.dataclass(frozen=True)
class Kit:
    """One library's names, so that a test can build the same thing from either."""

    name: str
    ToolNode: Any
    tools_condition: Any
    InjectedState: Any
    InjectedStore: Any
    ToolRuntime: Any
    Command: Any
    Send: Any
    StateGraph: Any
    START: str
    END: str
    add_messages: Any
    Saver: Any


LG = Kit(
    "langgraph",
    lg_prebuilt.ToolNode,
    lg_prebuilt.tools_condition,
    lg_prebuilt.InjectedState,
    lg_prebuilt.InjectedStore,
    lg_prebuilt.ToolRuntime,
    lg_types.Command,
    lg_types.Send,
    lg_graph.StateGraph,
    lg_graph.START,
    lg_graph.END,
    lg_graph.add_messages,
    LgSaver,
)
RW = Kit(
    "rewind",
    rw_prebuilt.ToolNode,
    rw_prebuilt.tools_condition,
    rw_prebuilt.InjectedState,
    rw_prebuilt.InjectedStore,
    rw_prebuilt.ToolRuntime,
    rw_types.Command,
    rw_types.Send,
    rw_graph.StateGraph,
    rw_graph.START,
    rw_graph.END,
    rw_graph.add_messages,
    RwSaver,
)

Mode = Literal["invoke", "ainvoke"]
MODES: list[Mode] = ["invoke", "ainvoke"]


# --- normalising and comparing -----------------------------------------------------------------


def norm(value: Any) -> Any:
    """A plain, library-independent form of a node's output (message ids hidden)."""
    if isinstance(value, BaseMessage):
        data = value.model_dump()
        if data.get("id") is not None:
            data["id"] = "<id>"
        return {"<message>": type(value).__name__, **norm(data)}
    name = type(value).__name__
    if name == "Command" and dataclasses.is_dataclass(value):
        return {
            "<command>": {k: norm(getattr(value, k)) for k in ("graph", "update", "resume", "goto")}
        }
    if name == "Send" and hasattr(value, "node"):
        return {"<send>": [value.node, norm(value.arg)]}
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    return value


def lg_config(runtime: Any = None, **extra: Any) -> RunnableConfig:
    return {"configurable": {RUNTIME_KEY: runtime or LgRuntime()}, **extra}


async def outcome(
    kit: Kit, node: Any, input: Any, mode: Mode, config: RunnableConfig | None = None
) -> tuple[str, Any]:
    """What one node did with ``input``: ``("ok", output)`` or ``("raised", (type, text))``."""
    if kit is LG:
        config = {**lg_config(), **(config or {})}
    try:
        if mode == "invoke":
            result = node.invoke(input, config)
        else:
            result = await node.ainvoke(input, config)
    except Exception as exc:
        return "raised", (type(exc).__name__, str(exc))
    return "ok", norm(result)


async def both(
    build: Callable[[Kit], Any],
    input: Any | Callable[[Kit], Any],
    mode: Mode,
    config: RunnableConfig | None = None,
) -> tuple[str, Any]:
    """Run the node ``build`` makes from each library on ``input``; both must agree."""
    results = []
    for kit in (LG, RW):
        given = input(kit) if callable(input) else input
        results.append(await outcome(kit, build(kit), given, mode, config))
    expected, actual = results
    assert actual == expected
    return actual


def ai(*calls: tuple[str, dict[str, Any]] | ToolCall, content: str = "") -> AIMessage:
    tool_calls = [
        c if isinstance(c, dict) else {"name": c[0], "args": c[1], "id": f"call_{i}"}
        for i, c in enumerate(calls)
    ]
    return AIMessage(content, tool_calls=tool_calls)


def state(*calls: tuple[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"messages": [HumanMessage("hi"), ai(*calls)], **extra}


# --- tools shared by both libraries ------------------------------------------------------------


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
async def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    await asyncio.sleep(0)
    return a * b


@tool
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(reason)


@tool
def fail_type(reason: str) -> str:
    """Always fails with a TypeError."""
    raise TypeError(reason)


@tool
def as_dict(key: str) -> dict[str, Any]:
    """Returns a dict (sent back as JSON)."""
    return {"key": key, "accent": "héllo", "n": [1, 2]}


@tool
def blocks(text: str) -> list[dict[str, Any]]:
    """Returns content blocks."""
    return [{"type": "text", "text": text}]


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


@tool
def opaque() -> Any:
    """Returns something JSON cannot encode."""
    return Opaque()


@tool(response_format="content_and_artifact")
def with_artifact(x: int) -> tuple[str, dict[str, int]]:
    """Returns content and an artifact."""
    return f"x is {x}", {"x": x}


@tool
def answers_itself(x: int, tool_call_id: Annotated[str, InjectedToolCallId]) -> ToolMessage:
    """Returns its own ToolMessage with non-string content."""
    return ToolMessage({"x": x}, tool_call_id=tool_call_id, artifact="a")


def plain_function(word: str) -> str:
    """A plain function, made into a tool by the node."""
    return word.upper()


ALL = [add, multiply, fail, as_dict, blocks, opaque, with_artifact, answers_itself]


def nodes(*tools: Any, **kwargs: Any) -> Callable[[Kit], Any]:
    return lambda kit: kit.ToolNode(list(tools), **kwargs)


# --- basics --------------------------------------------------------------------------------------


def test_exports_and_node_identity() -> None:
    for name in ("ToolNode", "tools_condition", "InjectedState", "InjectedStore", "ToolRuntime"):
        assert hasattr(rw_prebuilt, name)
    node = rw_prebuilt.ToolNode([add, plain_function])
    assert isinstance(node, Runnable)
    assert node.name == "tools" == lg_prebuilt.ToolNode([add]).name
    assert node.get_name() == "tools"
    assert rw_prebuilt.ToolNode([add], name="my_tools").name == "my_tools"
    assert list(node.tools_by_name) == ["add", "plain_function"]
    assert all(isinstance(t, BaseTool) for t in node.tools_by_name.values())


async def test_sync_and_async_tools_in_call_order() -> None:
    calls = [("add", {"a": 1, "b": 2}), ("multiply", {"a": 3, "b": 4}), ("add", {"a": 5, "b": 6})]
    kind, out = await both(nodes(add, multiply), state(*calls), "ainvoke")
    assert kind == "ok"
    assert [m["content"] for m in out["messages"]] == ["3", "12", "11"]


@pytest.mark.parametrize("handling", ["default", True])
async def test_sync_invoke_of_an_async_only_tool(handling: Any) -> None:
    # LangChain cannot run a coroutine-only tool synchronously; the node treats it as a failure
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    kind, out = await both(
        nodes(add, multiply, **kwargs), state(("multiply", {"a": 1, "b": 2})), "invoke"
    )
    if handling == "default":
        assert kind == "raised" and out[0] == "NotImplementedError"
    else:
        assert out["messages"][0]["content"].startswith("Error: NotImplementedError(")


@pytest.mark.parametrize("mode", MODES)
async def test_plain_functions_become_tools(mode: Mode) -> None:
    kind, out = await both(nodes(plain_function), state(("plain_function", {"word": "hi"})), mode)
    assert kind == "ok" and out["messages"][0]["content"] == "HI"


@pytest.mark.parametrize("mode", MODES)
async def test_output_fields_and_content_forms(mode: Mode) -> None:
    calls = [
        ("add", {"a": 1, "b": 2}),
        ("as_dict", {"key": "k"}),
        ("blocks", {"text": "t"}),
        ("opaque", {}),
        ("with_artifact", {"x": 7}),
        ("answers_itself", {"x": 1}),
    ]
    kind, out = await both(nodes(*ALL), state(*calls), mode)
    assert kind == "ok"
    first, as_json, block, text, artifact, own = out["messages"]
    assert first["<message>"] == "ToolMessage"
    assert (first["name"], first["tool_call_id"], first["status"]) == ("add", "call_0", "success")
    assert first["id"] is None and first["artifact"] is None
    assert json.loads(as_json["content"])["accent"] == "héllo"
    assert block["content"] == [{"type": "text", "text": "t"}]
    assert text["content"] == "Opaque()"
    assert artifact["artifact"] == {"x": 7}
    assert own["content"] == "{'x': 1}" and own["artifact"] == "a"


@pytest.mark.parametrize("mode", MODES)
async def test_list_input_gives_a_list(mode: Mode) -> None:
    messages = [HumanMessage("hi"), ai(("add", {"a": 1, "b": 1}))]
    kind, out = await both(nodes(add), messages, mode)
    assert kind == "ok" and isinstance(out, list) and out[0]["content"] == "2"


@pytest.mark.parametrize("mode", MODES)
async def test_latest_ai_message_is_used(mode: Mode) -> None:
    messages = [
        ai(("add", {"a": 1, "b": 1})),
        ToolMessage("2", tool_call_id="call_0"),
        ai(("add", {"a": 2, "b": 2})),
        HumanMessage("later"),
    ]
    kind, out = await both(nodes(add), {"messages": messages}, mode)
    assert kind == "ok" and [m["content"] for m in out["messages"]] == ["4"]


class PydanticState(BaseModel):
    messages: list[Any]
    foo: str = "from-model"


@dataclasses.dataclass
class DataclassState:
    messages: list[Any]
    foo: str = "from-dataclass"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", ["pydantic", "dataclass"])
async def test_object_states(mode: Mode, shape: str) -> None:
    messages = [ai(("add", {"a": 2, "b": 3}))]
    given = PydanticState(messages=messages) if shape == "pydantic" else DataclassState(messages)
    kind, out = await both(nodes(add), given, mode)
    assert kind == "ok" and out["messages"][0]["content"] == "5"


@pytest.mark.parametrize("mode", MODES)
async def test_custom_messages_key(mode: Mode) -> None:
    given = {"chat": [ai(("add", {"a": 1, "b": 2}))], "messages": []}
    kind, out = await both(nodes(add, messages_key="chat"), given, mode)
    assert kind == "ok" and list(out) == ["chat"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "given",
    [
        {"messages": []},
        {},
        {"messages": [HumanMessage("no ai message")]},
        [HumanMessage("no ai message")],
        PydanticState(messages=[]),
    ],
    ids=["empty", "no-key", "no-ai-in-dict", "no-ai-in-list", "empty-model"],
)
async def test_inputs_without_tool_calls(mode: Mode, given: Any) -> None:
    kind, out = await both(nodes(add), given, mode)
    assert kind == "raised" and out[0] == "ValueError"


@pytest.mark.parametrize("mode", MODES)
async def test_ai_message_without_tool_calls(mode: Mode) -> None:
    assert await both(nodes(add), {"messages": [AIMessage("done")]}, mode) == (
        "ok",
        {"messages": []},
    )


@pytest.mark.parametrize("mode", MODES)
async def test_direct_tool_calls_and_tool_call_with_context(mode: Mode) -> None:
    call: ToolCall = {"name": "add", "args": {"a": 1, "b": 2}, "id": "direct", "type": "tool_call"}
    kind, out = await both(nodes(add), [call], mode)
    assert kind == "ok" and out["messages"][0]["tool_call_id"] == "direct"
    packet = {"__type": "tool_call_with_context", "tool_call": call, "state": {"messages": []}}
    kind, out = await both(nodes(add), packet, mode)
    assert kind == "ok" and out["messages"][0]["content"] == "3"


# --- concurrency ---------------------------------------------------------------------------------


def _meeting_tools(timeout: float = 5) -> tuple[BaseTool, BaseTool]:
    """Two tools that each wait for the other to start: they finish only when run at once."""
    barrier = threading.Barrier(2, timeout=timeout)

    @tool
    def left() -> str:
        """Waits for right."""
        barrier.wait()
        return "left"

    @tool
    def right() -> str:
        """Waits for left."""
        barrier.wait()
        return "right"

    return left, right


def _meeting_async_tools() -> tuple[BaseTool, BaseTool]:
    arrived: list[str] = []
    both_here = asyncio.Event()

    async def meet(name: str) -> str:
        arrived.append(name)
        if len(arrived) == 2:
            both_here.set()
        await asyncio.wait_for(both_here.wait(), 5)
        return name

    @tool
    async def left() -> str:
        """Waits for right."""
        return await meet("left")

    @tool
    async def right() -> str:
        """Waits for left."""
        return await meet("right")

    return left, right


@pytest.mark.parametrize("mode", MODES)
async def test_sync_tools_run_in_parallel_threads(mode: Mode) -> None:
    for kit in (LG, RW):
        node = kit.ToolNode(list(_meeting_tools()))
        kind, out = await outcome(kit, node, state(("left", {}), ("right", {})), mode)
        assert kind == "ok", (kit.name, out)
        assert [m["content"] for m in out["messages"]] == ["left", "right"]


async def test_async_tools_run_concurrently() -> None:
    for kit in (LG, RW):
        node = kit.ToolNode(list(_meeting_async_tools()))
        kind, out = await outcome(kit, node, state(("left", {}), ("right", {})), "ainvoke")
        assert kind == "ok", (kit.name, out)


async def test_max_concurrency_one_runs_sync_tools_one_at_a_time() -> None:
    for kit in (LG, RW):
        node = kit.ToolNode(list(_meeting_tools(timeout=0.3)))
        given = state(("left", {}), ("right", {}))
        kind, out = await outcome(kit, node, given, "invoke", {"max_concurrency": 1})
        assert kind == "raised" and out[0] == "BrokenBarrierError", kit.name


# --- errors --------------------------------------------------------------------------------------


def handle_value_errors(e: ValueError) -> str:
    return f"value error: {e}"


def handle_type_errors(e: TypeError) -> str:
    return f"type error: {e}"


def handle_either(e: TypeError | ValueError) -> str:
    return f"either: {e}"


def handle_anything(e):
    return f"anything: {e!r}"


def handle_with_bad_annotation(e: int) -> str:
    return "never"


class MethodHandler:
    def handle(self, e: ValueError) -> str:
        return f"method: {e}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "handling",
    [
        "default",
        True,
        False,
        "Custom text.",
        "",
        handle_value_errors,
        handle_type_errors,
        handle_either,
        handle_anything,
        handle_with_bad_annotation,
        MethodHandler().handle,
        ValueError,
        TypeError,
        (TypeError, ValueError),
        (KeyError,),
    ],
    ids=lambda h: getattr(h, "__name__", repr(h)),
)
async def test_a_failing_tool(mode: Mode, handling: Any) -> None:
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    calls = [("add", {"a": 1, "b": 1}), ("fail", {"reason": "boom"})]
    kind, out = await both(nodes(add, fail, **kwargs), state(*calls), mode)
    if handling in ("default", False, "", handle_type_errors, TypeError, (KeyError,)):
        assert (kind, out) == ("raised", ("ValueError", "boom"))
    elif handling is handle_with_bad_annotation:
        assert kind == "raised" and "Arbitrary types are not supported" in out[1]
    else:
        assert kind == "ok"
        error = out["messages"][1]
        assert error["status"] == "error" and error["name"] == "fail"
        if handling is True:
            assert error["content"] == "Error: ValueError('boom')\n Please fix your mistakes."


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("handling", ["default", True, False])
async def test_invalid_arguments(mode: Mode, handling: Any) -> None:
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    calls = [("add", {"a": 1, "b": "not a number"}), ("add", {"a": 1})]
    kind, out = await both(nodes(add, **kwargs), state(*calls), mode)
    if handling is False:
        assert kind == "raised" and out[0] == "ToolInvocationError"
        return
    assert kind == "ok"
    wrong, missing = (m["content"] for m in out["messages"])
    if handling == "default":
        assert wrong == (
            "Error invoking tool 'add' with kwargs {'a': 1, 'b': 'not a number'} with error:\n"
            " b: Input should be a valid integer, unable to parse string as an integer\n"
            " Please fix the error and try again."
        )
        assert "b: Field required" in missing
    else:
        assert wrong.startswith("Error: ToolInvocationError(")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("handling", ["default", False])
async def test_unknown_tool_is_always_answered(mode: Mode, handling: Any) -> None:
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    kind, out = await both(nodes(add, fail, **kwargs), state(("nope", {"x": 1})), mode)
    assert kind == "ok"
    assert out["messages"][0]["content"] == (
        "Error: nope is not a valid tool, try one of [add, fail]."
    )
    assert out["messages"][0]["status"] == "error" and out["messages"][0]["name"] == "nope"


def test_tool_invocation_error_carries_its_parts() -> None:
    node = rw_prebuilt.ToolNode([add], handle_tool_errors=False)
    with pytest.raises(ToolInvocationError) as caught:
        node.invoke(state(("add", {"a": "x", "b": 1})))
    error = caught.value
    assert error.tool_name == "add" and error.tool_kwargs == {"a": "x", "b": 1}
    assert error.filtered_errors is not None and error.filtered_errors[0]["loc"] == ("a",)
    assert str(error) == error.message


# --- injection -----------------------------------------------------------------------------------


def injecting_tools(kit: Kit) -> list[BaseTool]:
    InjectedState = kit.InjectedState

    @tool
    def whole_state(x: int, state: Annotated[dict[str, Any], InjectedState]) -> str:
        """Sees the whole state."""
        return f"{x}: {sorted(state)} / {len(state['messages'])} messages"

    @tool
    def one_field(x: int, foo: Annotated[str, InjectedState("foo")]) -> str:
        """Sees the state's foo."""
        return f"{x}: foo={foo}"

    @tool
    def messages_only(messages: Annotated[list[Any], InjectedState("messages")]) -> str:
        """Sees the messages."""
        return f"{len(messages)} messages"

    @tool
    def maybe_field(x: int, bar: Annotated[str | None, InjectedState("bar")] = None) -> str:
        """Sees the state's bar, if any."""
        return f"{x}: bar={bar}"

    @tool
    def call_id(x: int, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Sees its tool call id."""
        return f"{x}: id={tool_call_id}"

    return [whole_state, one_field, messages_only, maybe_field, call_id]


def injecting(kit: Kit, **kwargs: Any) -> Any:
    return kit.ToolNode(injecting_tools(kit), **kwargs)


@pytest.mark.parametrize("mode", MODES)
async def test_injected_state_and_tool_call_id(mode: Mode) -> None:
    calls = [
        ("whole_state", {"x": 1}),
        ("one_field", {"x": 2}),
        ("messages_only", {}),
        ("maybe_field", {"x": 3}),
        ("call_id", {"x": 4}),
    ]
    kind, out = await both(injecting, state(*calls, foo="FOO"), mode)
    assert kind == "ok"
    assert [m["content"] for m in out["messages"]] == [
        "1: ['foo', 'messages'] / 2 messages",
        "2: foo=FOO",
        "2 messages",
        "3: bar=None",
        "4: id=call_4",
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_forged_injected_arguments_are_replaced(mode: Mode) -> None:
    calls = [
        ("one_field", {"x": 1, "foo": "forged"}),
        ("call_id", {"x": 2, "tool_call_id": "forged"}),
        ("whole_state", {"x": 3, "state": {"messages": []}}),
    ]
    kind, out = await both(injecting, state(*calls, foo="real"), mode)
    assert kind == "ok"
    contents = [m["content"] for m in out["messages"]]
    assert contents[:2] == ["1: foo=real", "2: id=call_1"] and "forged" not in contents[2]


@pytest.mark.parametrize("mode", MODES)
async def test_missing_state_field_raises_even_when_errors_are_handled(mode: Mode) -> None:
    build = lambda kit: injecting(kit, handle_tool_errors=True)  # noqa: E731
    kind, out = await both(build, state(("one_field", {"x": 1})), mode)
    assert (kind, out) == ("raised", ("KeyError", "'foo'"))
    given = PydanticState(messages=[ai(("maybe_field", {"x": 1}))])
    kind, out = await both(build, given, mode)
    assert kind == "ok" and out["messages"][0]["content"] == "1: bar=None"
    given = DataclassState([ai(("one_field", {"x": 1}))], foo="dc")
    assert (await both(build, given, mode))[1]["messages"][0]["content"] == "1: foo=dc"


@pytest.mark.parametrize("mode", MODES)
async def test_injected_state_from_a_list_of_messages(mode: Mode) -> None:
    messages = [HumanMessage("hi"), ai(("whole_state", {"x": 1}), ("messages_only", {}))]
    kind, out = await both(injecting, messages, mode)
    assert kind == "ok" and [m["content"] for m in out] == [
        "1: ['messages'] / 2 messages",
        "2 messages",
    ]
    kind, out = await both(injecting, [ai(("one_field", {"x": 1}))], mode)
    assert (kind, out) == (
        "raised",
        (
            "ValueError",
            "Invalid input to ToolNode. Tool one_field requires graph state dict as input. "
            "State should contain fields foo.",
        ),
    )


@pytest.mark.parametrize("mode", MODES)
async def test_validation_errors_leave_injected_arguments_out(mode: Mode) -> None:
    calls = [("one_field", {"x": "bad"}), ("whole_state", {})]
    kind, out = await both(injecting, state(*calls, foo="f"), mode)
    assert kind == "ok"
    bad, missing = (m["content"] for m in out["messages"])
    assert bad.startswith("Error invoking tool 'one_field' with kwargs {'x': 'bad'}")
    assert "foo" not in bad.split("with error:")[1]
    assert "x: Field required" in missing and "state" not in missing.split("with error:")[1]


@pytest.mark.parametrize("mode", MODES)
async def test_direct_tool_calls_inject_an_empty_state(mode: Mode) -> None:
    call: ToolCall = {"name": "whole_state", "args": {"x": 1}, "id": "c", "type": "tool_call"}
    kind, out = await both(injecting, [call], mode)
    assert kind == "raised" and out == ("KeyError", "'messages'")
    packet = {"__type": "tool_call_with_context", "tool_call": call, "state": state(foo="f")}
    kind, out = await both(injecting, packet, mode)
    assert kind == "ok" and out["messages"][0]["content"] == "1: ['foo', 'messages'] / 2 messages"


def runtime_tools(kit: Kit) -> list[BaseTool]:
    ToolRuntime, InjectedStore = kit.ToolRuntime, kit.InjectedStore

    @tool
    def inspect_runtime(x: int, runtime: ToolRuntime[Any, Any]) -> str:
        """Reports what its runtime holds."""
        return json.dumps(
            {
                "x": x,
                "id": runtime.tool_call_id,
                "state": sorted(runtime.state),
                "context": runtime.context,
                "store": runtime.store is not None,
                "tools": [t.name for t in runtime.tools],
                "config": "callbacks" in runtime.config,
            }
        )

    @tool
    def remember(key: str, store: Annotated[Any, InjectedStore()]) -> str:
        """Saves and reads back from the store."""
        store.put(("notes",), key, {"v": key.upper()})
        return str(store.get(("notes",), key).value)

    return [inspect_runtime, remember]


@pytest.mark.parametrize("mode", MODES)
async def test_tool_runtime_and_store(mode: Mode) -> None:
    build = lambda kit: kit.ToolNode(runtime_tools(kit))  # noqa: E731
    given = state(("inspect_runtime", {"x": 1}), ("remember", {"key": "k"}))
    runtime = LgRuntime(context={"user": "u1"}, store=InMemoryStore())
    kind, out = await both(build, given, mode, lg_config(runtime, callbacks=[]))
    assert kind == "ok"
    report, remembered = (m["content"] for m in out["messages"])
    assert json.loads(report) == {
        "x": 1,
        "id": "call_0",
        "state": ["messages"],
        "context": {"user": "u1"},
        "store": True,
        "tools": ["inspect_runtime", "remember"],
        "config": True,
    }
    assert remembered == "{'v': 'K'}"
    # without a store (rewind never has one of its own), store injection fails outright
    kind, out = await both(build, state(("remember", {"key": "k"})), mode)
    assert kind == "raised" and out[0] == "ValueError" and "with a store" in out[1]


# --- Command results -----------------------------------------------------------------------------


def command_tools(kit: Kit) -> list[BaseTool]:
    Command, Send = kit.Command, kit.Send

    @tool
    def update_note(text: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Sets the note and answers the call."""
        return Command(
            update={"note": text, "messages": [ToolMessage("noted", tool_call_id=tool_call_id)]}
        )

    @tool
    def update_as_dicts(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Answers with a message given as a dict."""
        message = {"role": "tool", "content": "ok", "tool_call_id": tool_call_id}
        return Command(update={"messages": [message]})

    @tool
    def update_list(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Answers with a list update (for list input)."""
        return Command(update=[ToolMessage("listed", tool_call_id=tool_call_id)])

    @tool
    def forgets_to_answer(text: str) -> Any:
        """Updates the note without answering the call."""
        return Command(update={"note": text})

    @tool
    def goes_somewhere() -> Any:
        """Only routes."""
        return Command(goto="elsewhere")

    @tool
    def clears(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Clears the messages."""
        return Command(update={"messages": [RemoveMessage(id="__remove_all__")]})

    @tool
    def fans_out(target: str) -> Any:
        """Sends to the parent graph."""
        return Command(graph=Command.PARENT, goto=[Send(target, {"from": target})])

    @tool
    def many(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Returns a command and the answering message separately."""
        return [Command(update={"note": "many"}), ToolMessage(["a"], tool_call_id=tool_call_id)]

    @tool
    def many_without_answer() -> Any:
        """Returns a list that answers nothing."""
        return [Command(update={"note": "x"})]

    return [
        update_note,
        update_as_dicts,
        update_list,
        forgets_to_answer,
        goes_somewhere,
        clears,
        fans_out,
        many,
        many_without_answer,
        add,
    ]


def commanding(kit: Kit, **kwargs: Any) -> Any:
    return kit.ToolNode(command_tools(kit), **kwargs)


@pytest.mark.parametrize("mode", MODES)
async def test_commands_mixed_with_messages(mode: Mode) -> None:
    calls = [
        ("add", {"a": 1, "b": 1}),
        ("update_note", {"text": "n"}),
        ("update_as_dicts", {}),
        ("goes_somewhere", {}),
        ("clears", {}),
        ("many", {}),
    ]
    kind, out = await both(commanding, state(*calls), mode)
    assert kind == "ok" and isinstance(out, list) and len(out) == 7
    assert out[0]["messages"][0]["content"] == "2"
    note = out[1]["<command>"]["update"]
    assert note["note"] == "n" and note["messages"][0]["name"] == "update_note"
    assert out[2]["<command>"]["update"]["messages"][0] == {
        "role": "tool",
        "content": "ok",
        "tool_call_id": "call_2",
    }
    assert out[6]["messages"][0]["content"] == '["a"]'


@pytest.mark.parametrize("mode", MODES)
async def test_parent_fan_out_commands_are_merged_last(mode: Mode) -> None:
    calls = [
        ("fans_out", {"target": "a"}),
        ("add", {"a": 1, "b": 1}),
        ("fans_out", {"target": "b"}),
    ]
    kind, out = await both(commanding, state(*calls), mode)
    assert kind == "ok" and len(out) == 2
    merged = out[1]["<command>"]
    assert merged["graph"] == "__parent__"
    assert [send["<send>"][0] for send in merged["goto"]] == ["a", "b"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("handling", ["default", True])
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (state(("forgets_to_answer", {"text": "n"})), "Expected to have a matching ToolMessage"),
        ([ai(("update_note", {"text": "n"}))], "Tools can provide a dict in Command.update"),
        (state(("update_list", {})), "Tools can provide a list of messages in Command.update"),
        (state(("many_without_answer", {})), "returned a list with 0 messages bound"),
    ],
    ids=["no-answer", "dict-for-list", "list-for-dict", "list-no-answer"],
)
async def test_invalid_commands(mode: Mode, handling: Any, given: Any, expected: str) -> None:
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    kind, out = await both(lambda kit: commanding(kit, **kwargs), given, mode)
    if handling == "default":
        assert kind == "raised" and out[0] == "ValueError" and expected in out[1]
    else:
        assert kind == "ok"
        answers = out if isinstance(out, list) else out["messages"]
        assert expected in answers[0]["content"] and answers[0]["status"] == "error"


@pytest.mark.parametrize("mode", MODES)
async def test_list_update_for_list_input(mode: Mode) -> None:
    kind, out = await both(commanding, [ai(("update_list", {}))], mode)
    assert kind == "ok"
    assert out[0]["<command>"]["update"][0]["name"] == "update_list"


# --- wrappers ------------------------------------------------------------------------------------


def doubling(request: Any, execute: Callable[[Any], Any]) -> Any:
    call = request.tool_call
    if call["name"] == "ghost":
        return ToolMessage("handled by the wrapper", tool_call_id=call["id"], name="ghost")
    if call["name"] == "fail":
        raise RuntimeError("wrapper gave up")
    args = {k: v * 2 for k, v in call["args"].items()}
    return execute(request.override(tool_call={**call, "args": args}))


async def adoubling(request: Any, execute: Callable[[Any], Any]) -> Any:
    call = request.tool_call
    args = {k: v * 10 for k, v in call["args"].items()}
    return await execute(request.override(tool_call={**call, "args": args}))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("handling", ["default", True])
async def test_wrap_tool_call(mode: Mode, handling: Any) -> None:
    kwargs = {} if handling == "default" else {"handle_tool_errors": handling}
    build = nodes(add, fail, wrap_tool_call=doubling, **kwargs)
    calls = [("add", {"a": 1, "b": 2}), ("ghost", {})]
    kind, out = await both(build, state(*calls), mode)
    assert kind == "ok" and [m["content"] for m in out["messages"]] == [
        "6",
        "handled by the wrapper",
    ]
    kind, out = await both(build, state(("fail", {"reason": "r"})), mode)
    if handling == "default":
        assert (kind, out) == ("raised", ("RuntimeError", "wrapper gave up"))
    else:
        assert out["messages"][0]["content"].startswith("Error: RuntimeError(")


@pytest.mark.parametrize("mode", MODES)
async def test_awrap_tool_call(mode: Mode) -> None:
    build = nodes(add, multiply, wrap_tool_call=doubling, awrap_tool_call=adoubling)
    kind, out = await both(build, state(("add", {"a": 1, "b": 2})), mode)
    assert kind == "ok"
    assert out["messages"][0]["content"] == ("6" if mode == "invoke" else "30")
    kind, out = await both(nodes(add, awrap_tool_call=adoubling), state(("add", {"a": 1})), mode)
    assert kind == "ok"  # invoke ignores the async wrapper; ainvoke reports the missing b


def test_tool_call_request_override_and_deprecated_assignment() -> None:
    seen: list[ToolCallRequest] = []

    def keep(request: ToolCallRequest, execute: Callable[[ToolCallRequest], Any]) -> Any:
        seen.append(request)
        changed = request.override(tool_call={**request.tool_call, "args": {"a": 0, "b": 0}})
        assert request.tool_call["args"] == {"a": 1, "b": 2} and changed is not request
        with pytest.warns(DeprecationWarning, match="override"):
            request.state = {"messages": []}
        return execute(changed)

    out = rw_prebuilt.ToolNode([add], wrap_tool_call=keep).invoke(state(("add", {"a": 1, "b": 2})))
    assert out["messages"][0].content == "0"
    assert seen[0].tool is not None and seen[0].runtime.tool_call_id == "call_0"


# --- callbacks -----------------------------------------------------------------------------------


class ToolEvents(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kwargs: Any) -> None:
        self.events.append(("start", serialized.get("name")))

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.events.append(("end", getattr(output, "name", None)))

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> None:
        self.events.append(("error", type(error).__name__))

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.events.append(("chain", kwargs.get("name")))


@pytest.mark.parametrize("mode", MODES)
async def test_tools_report_to_the_configs_callbacks(mode: Mode) -> None:
    recorded = []
    for kit in (LG, RW):
        handler = ToolEvents()
        node = kit.ToolNode([add, fail], handle_tool_errors=True)
        given = state(("add", {"a": 1, "b": 2}), ("fail", {"reason": "r"}))
        kind, _ = await outcome(kit, node, given, mode, {"callbacks": [handler]})
        assert kind == "ok"
        recorded.append(sorted(handler.events, key=repr))
    assert recorded[0] == recorded[1]
    assert ("start", "add") in recorded[1] and ("error", "ValueError") in recorded[1]
    assert not any(kind == "chain" for kind, _ in recorded[1])  # the node opens no run itself


# --- tools_condition -----------------------------------------------------------------------------


class ChatState(BaseModel):
    messages: list[Any] = []
    chat: list[Any] = []


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ([HumanMessage("hi"), ai(("add", {}))], "messages"),
        ([ai(("add", {})), ToolMessage("x", tool_call_id="call_0")], "messages"),
        ({"messages": [AIMessage("done")]}, "messages"),
        ({"messages": [ai(("add", {}))]}, "messages"),
        ({"messages": [HumanMessage("hi")]}, "messages"),
        ({"chat": [ai(("add", {}))]}, "chat"),
        (ChatState(messages=[ai(("add", {}))]), "messages"),
        (ChatState(chat=[AIMessage("x")]), "chat"),
        ({"messages": []}, "messages"),
        ({}, "messages"),
        (ChatState(), "messages"),
        ({"chat": [ai(("add", {}))]}, "messages"),
    ],
)
def test_tools_condition(given: Any, key: str) -> None:
    results = []
    for kit in (LG, RW):
        try:
            results.append(("ok", kit.tools_condition(given, messages_key=key)))
        except Exception as exc:
            results.append(("raised", (type(exc).__name__, str(exc))))
    assert results[1] == results[0]


def test_tools_condition_declares_its_destinations() -> None:
    from typing import get_type_hints

    hints = get_type_hints(rw_prebuilt.tools_condition)
    assert hints["return"] == Literal["tools", "__end__"]


# --- in graphs -----------------------------------------------------------------------------------


class LgAgentState(TypedDict, total=False):
    messages: Annotated[list[Any], lg_graph.add_messages]
    note: str


class RwAgentState(TypedDict, total=False):
    messages: Annotated[list[Any], rw_graph.add_messages]
    note: str


def agent_graph(kit: Kit, turns: list[AIMessage], tools: list[BaseTool]) -> Any:
    replies = iter(turns)

    def agent(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [next(replies)]}

    graph = kit.StateGraph(LgAgentState if kit is LG else RwAgentState)
    graph.add_node("agent", agent)
    graph.add_node(kit.ToolNode(tools))
    graph.add_edge(kit.START, "agent")
    graph.add_conditional_edges("agent", kit.tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=kit.Saver())


def graph_tools(kit: Kit) -> list[BaseTool]:
    ToolRuntime = kit.ToolRuntime

    @tool
    def whoami(runtime: ToolRuntime[Any, Any]) -> str:
        """Reads the run's context and state."""
        return f"{runtime.context['user']} sees {len(runtime.state['messages'])} messages"

    return [*injecting_tools(kit), whoami, add]


async def run_both(build: Callable[[Kit], Any], input: Any, **kwargs: Any) -> list[Any]:
    results = []
    for kit in (LG, RW):
        app = build(kit)
        try:
            output = await app.ainvoke(input, {"configurable": {"thread_id": "t"}}, **kwargs)
        finally:
            if kit is RW:  # rewind keeps a store open per event loop until told otherwise
                await app.checkpointer.aclose()
        results.append(norm(output))
    return results


async def test_tool_node_in_a_graph() -> None:
    def build(kit: Kit) -> Any:
        turns = [
            ai(("add", {"a": 1, "b": 2}), ("whole_state", {"x": 1}), ("whoami", {})),
            ai(("nope", {})),
            AIMessage("done"),
        ]
        return agent_graph(kit, turns, graph_tools(kit))

    expected, actual = await run_both(build, {"messages": [("user", "hi")]}, context={"user": "u"})
    assert actual == expected
    contents = [m["content"] for m in actual["messages"] if m["<message>"] == "ToolMessage"]
    assert contents[0] == "3" and contents[2] == "u sees 2 messages"


async def test_tool_calls_are_recorded_in_the_log() -> None:
    saver = RwSaver()
    graph = rw_graph.StateGraph(RwAgentState)
    turns = iter([ai(("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})), AIMessage("done")])
    graph.add_node("agent", lambda state: {"messages": [next(turns)]})
    graph.add_node(rw_prebuilt.ToolNode([add]))
    graph.add_edge(rw_graph.START, "agent")
    graph.add_conditional_edges("agent", rw_prebuilt.tools_condition)
    graph.add_edge("tools", "agent")
    app = graph.compile(checkpointer=saver)
    try:
        await app.ainvoke({"messages": [("user", "hi")]}, {"configurable": {"thread_id": "log"}})
        store = await saver.log()
        [run] = await store.list_runs(thread_id="log")
        events = await store.read(run.run_id, types=[EventType.TOOL_STARTED, EventType.TOOL_ENDED])
    finally:
        await saver.aclose()
    assert {(e.type, e.node) for e in events} == {
        (EventType.TOOL_STARTED, "tools"),
        (EventType.TOOL_ENDED, "tools"),
    }
    assert len(events) == 4
    assert sorted(e.payload["name"] for e in events if e.type == EventType.TOOL_STARTED) == [
        "add",
        "add",
    ]


async def test_command_from_a_tool_in_a_graph() -> None:
    def build(kit: Kit) -> Any:
        turns = [ai(("update_note", {"text": "n"}), ("add", {"a": 1, "b": 1})), AIMessage("done")]
        return agent_graph(kit, turns, command_tools(kit))

    expected, actual = await run_both(build, {"messages": [("user", "hi")]})
    assert expected["note"] == "n"
    assert actual == expected


# --- the stream-mode corpus's tool-calling graph, through the import rewrite ----------------------

G10 = Path(__file__).resolve().parents[1] / "runtime" / "corpus" / "g10_llm_tokens_tools.py"


def _load(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(G10)
    sys.modules[name] = module  # so that the graph's classes can be resolved by name
    try:
        exec(compile(source, str(G10), "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@pytest.fixture
def g10() -> Iterator[tuple[types.ModuleType, types.ModuleType]]:
    source = G10.read_text()
    rewritten = re.sub(r"^(from|import) langgraph\b", r"\1 rewind", source, flags=re.MULTILINE)
    assert "langgraph" not in "\n".join(
        line for line in rewritten.splitlines() if line.startswith(("from ", "import "))
    )
    modules = (_load(source, "_g10_langgraph"), _load(rewritten, "_g10_rewind"))
    yield modules
    for module in modules:
        sys.modules.pop(module.__name__, None)


def test_g10_invoke_matches_langgraph(g10: tuple[types.ModuleType, types.ModuleType]) -> None:
    reference, candidate = g10
    assert candidate.ToolNode is rw_prebuilt.ToolNode
    assert candidate.InMemorySaver is RwSaver
    given = {"messages": [{"role": "user", "content": "Weather in Paris?"}]}
    config: RunnableConfig = {"configurable": {"thread_id": "1"}}
    expected_graph = reference.build(reference.InMemorySaver())
    saver = candidate.InMemorySaver()
    actual_graph = candidate.build(saver)
    expected = norm(expected_graph.invoke(given, config))
    try:
        actual = norm(actual_graph.invoke(given, config))
        actual_state = actual_graph.get_state(config)
    finally:
        saver.close()
    assert actual == expected
    assert [m["<message>"] for m in actual["messages"]] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert actual["messages"][2]["content"] == "Sunny in Paris"
    assert actual["summary"] == "Summary: sunny."
    expected_state = expected_graph.get_state(config)
    assert norm(actual_state.values) == norm(expected_state.values)
    assert actual_state.next == expected_state.next == ()
