"""Redacting one payload's text: what is replaced, what is kept, what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from rewind.events import REDACTED, EventType, Redacted
from rewind.log import codec
from rewind.log.redaction import STRUCTURAL_TYPES, RefusedError, redact_text
from rewind.log.token_form import compact_token, expand_token
from rewind.types import Interrupt

EMAIL = "ann@example.com"


def _redacted(payload: Any, type_: str, **kw: Any) -> tuple[Any, str]:
    """The payload redacted (decoded), and the scope."""
    rewrite = redact_text(codec.encode(payload), type_, **kw)
    assert rewrite is not None
    return codec.decode(rewrite.text), rewrite.scope


def test_the_marker_reads_back_as_a_string_that_says_so() -> None:
    assert codec.encode(REDACTED) == codec.REDACTED_TEXT == '{"__rw__":"redacted"}'
    assert codec.decode(codec.REDACTED_TEXT) is REDACTED
    assert isinstance(REDACTED, str) and str(REDACTED) == "[redacted]"
    assert Redacted() == REDACTED and repr(REDACTED) == "Redacted()"
    assert json.dumps({"a": REDACTED}) == '{"a": "[redacted]"}'
    # A node's own dict cannot pass for the marker: the codec tags a "__rw__" key.
    forged = codec.encode({"__rw__": "redacted"})
    assert forged != codec.REDACTED_TEXT
    assert codec.decode(forged) == {"__rw__": "redacted"}


@pytest.mark.parametrize(
    "type_", [EventType.CHAT_TOKEN, EventType.CUSTOM, EventType.TOOL_ENDED, "store.write"]
)
def test_a_payload_is_replaced_whole(type_: str) -> None:
    value, scope = _redacted({"anything": [EMAIL, 1]}, type_)
    assert (value, scope) == (REDACTED, "payload")
    assert redact_text(codec.REDACTED_TEXT, type_) is None  # nothing more to erase


@pytest.mark.parametrize("type_", sorted(STRUCTURAL_TYPES))
def test_a_structural_event_is_never_replaced_whole(type_: str) -> None:
    with pytest.raises(RefusedError, match="structure"):
        redact_text(codec.encode({"input": EMAIL}), type_)


def test_message_texts_go_and_their_structure_stays() -> None:
    message = AIMessage(
        content=f"I will write to {EMAIL}",
        id="m1",
        name="assistant",
        tool_calls=[{"name": "send_mail", "args": {"to": EMAIL, "n": 2}, "id": "c1"}],
        additional_kwargs={"refusal": "none"},
        response_metadata={"model_name": "m"},
    )
    tool = ToolMessage(content="sent", tool_call_id="c1", name="send_mail", artifact={"x": 1})
    human = HumanMessage(content=[{"type": "text", "text": EMAIL}], id="h1")
    payload = {"generations": [[message]], "other": [tool, human], "run_id": "r"}
    value, scope = _redacted(payload, EventType.CHAT_ENDED, contents_only=True)
    assert scope == "contents"
    got = value["generations"][0][0]
    assert isinstance(got, AIMessage)
    assert (got.content, got.id, got.name) == ("[redacted]", "m1", "assistant")
    assert got.tool_calls[0]["name"] == "send_mail" and got.tool_calls[0]["id"] == "c1"
    assert got.tool_calls[0]["args"] == {"to": "[redacted]", "n": "[redacted]"}
    assert got.additional_kwargs == {"refusal": "[redacted]"}
    assert got.response_metadata == {"model_name": "m"}
    tool_out, human_out = value["other"]
    assert (tool_out.content, tool_out.tool_call_id, tool_out.artifact) == (
        "[redacted]",
        "c1",
        REDACTED,
    )
    assert (human_out.content, human_out.id) == ("[redacted]", "h1")
    assert value["run_id"] == "r"


def test_plain_message_dicts_and_prompts_lose_their_texts() -> None:
    payload = {"messages": [{"role": "user", "content": EMAIL}], "prompts": [EMAIL, ""]}
    value, _ = _redacted(payload, EventType.CHAT_STARTED, contents_only=True)
    assert value == {"messages": [{"role": "user", "content": REDACTED}], "prompts": [REDACTED, ""]}


def test_a_token_loses_its_text_and_reads_back_as_a_chunk() -> None:
    chunk = AIMessageChunk(content="ann", id="lc_run--r1")
    stored = compact_token({"run_id": "r1", "token": "ann", "chunk": chunk})
    value, _ = _redacted(stored, EventType.CHAT_TOKEN, contents_only=True)
    whole = expand_token(value)
    assert whole["token"] is REDACTED
    assert whole["chunk"].content == "[redacted]" and whole["chunk"].id == "lc_run--r1"
    # A whole chunk (tool call chunks) keeps its calls' names.
    chunk = AIMessageChunk(
        content="", tool_call_chunks=[{"name": "f", "args": '{"a": 1}', "id": "c", "index": 0}]
    )
    value, _ = _redacted(
        {"run_id": "r1", "token": "", "chunk": chunk}, EventType.CHAT_TOKEN, contents_only=True
    )
    assert value["chunk"].tool_call_chunks[0]["name"] == "f"
    assert value["chunk"].tool_call_chunks[0]["args"] == "[redacted]"


def test_a_match_replaces_the_strings_and_numbers_holding_it() -> None:
    payload = {
        "to": f"<{EMAIL}>",
        "cc": ["bob@example.com", EMAIL],
        "phone": 5551234,
        "when": (1, "x"),
        "keep": "nothing here",
    }
    value, scope = _redacted({"input": payload}, EventType.TASK_STARTED, match=EMAIL)
    assert scope == "contents"
    assert value["input"] == {
        "to": REDACTED,
        "cc": ["bob@example.com", REDACTED],
        "phone": 5551234,
        "when": (1, "x"),
        "keep": "nothing here",
    }
    value, _ = _redacted({"input": payload}, EventType.TASK_STARTED, match="555")
    assert value["input"]["phone"] is REDACTED
    assert redact_text(codec.encode({"input": "x"}), EventType.TASK_STARTED, match=EMAIL) is None


def test_a_match_left_in_a_key_takes_the_whole_payload_or_is_refused() -> None:
    value, scope = _redacted({EMAIL: 1}, EventType.CUSTOM, contents_only=True, match=EMAIL)
    assert (value, scope) == (REDACTED, "payload")
    with pytest.raises(RefusedError, match="structure"):
        redact_text(codec.encode({"input": {EMAIL: 1}}), EventType.TASK_STARTED, match=EMAIL)


def test_a_checkpoint_keeps_its_structure() -> None:
    checkpoint = {
        "id": "cp1",
        "changes": [["contact", "value", EMAIL], ["messages", "messages", [0, "t2"]]],
        "next": [
            {"name": "__start__", "triggers": ["__start__"], "arg": {"contact": EMAIL}},
            {"name": "send", "triggers": ["x"]},
        ],
        "metadata": {"source": "loop", "step": 1, "parents": {}, "user": EMAIL},
    }
    value, _ = _redacted(checkpoint, EventType.CHECKPOINT, match=EMAIL)
    assert value == {
        "id": "cp1",
        "changes": [["contact", "value", REDACTED], ["messages", "messages", [0, "t2"]]],
        "next": [
            {"name": "__start__", "triggers": ["__start__"], "arg": {"contact": REDACTED}},
            {"name": "send", "triggers": ["x"]},
        ],
        "metadata": {"source": "loop", "step": 1, "parents": {}, "user": REDACTED},
    }
    with pytest.raises(RefusedError, match="structure"):
        redact_text(codec.encode(checkpoint), EventType.CHECKPOINT, match="send")


def test_a_task_end_keeps_its_channels() -> None:
    ended = {"update": {"notes": [EMAIL]}, "writes": [["notes", [EMAIL]], ["notes", ["b"]]]}
    value, _ = _redacted(ended, EventType.TASK_ENDED, match=EMAIL)
    assert value == {
        "update": {"notes": [REDACTED]},
        "writes": [["notes", [REDACTED]], ["notes", ["b"]]],
    }


def test_an_interrupt_keeps_its_id_and_a_failure_its_kind() -> None:
    asked = {"interrupts": [Interrupt(value={"q": EMAIL}, id="a" * 32)]}
    value, _ = _redacted(asked, EventType.INTERRUPT, match=EMAIL)
    (got,) = value["interrupts"]
    assert isinstance(got, Interrupt)
    assert (got.value, got.id) == ({"q": REDACTED}, "a" * 32)
    failed = {
        "type": "ValueError",
        "message": EMAIL,
        "repr": f"ValueError({EMAIL!r})",
        "traceback": f"... {EMAIL}",
        "error": ValueError(EMAIL),
        "attempt": 1,
        "retrying": True,
    }
    value, _ = _redacted(failed, EventType.TASK_FAILED, match=EMAIL)
    assert (value["type"], value["attempt"], value["retrying"]) == ("ValueError", 1, True)
    assert value["message"] is REDACTED and value["traceback"] is REDACTED
    assert EMAIL not in repr(value)


class _Bounced(Exception):
    def __init__(self, to: str) -> None:
        super().__init__("bounced")
        self.to = to
        self.attempts = 2


def test_a_failures_kept_fields_are_redacted_too() -> None:
    failed = {"type": "_Bounced", "message": "bounced", "error": _Bounced(EMAIL), "attempt": 1}
    value, _ = _redacted(failed, EventType.TASK_FAILED, match=EMAIL)
    error = value["error"]
    assert isinstance(error, _Bounced) and str(error) == "bounced"
    assert (error.to, error.attempts) == (REDACTED, 2)
    assert EMAIL not in repr(vars(error))


def test_a_match_may_ignore_case() -> None:
    payload = {"to": "Ann@Example.COM", "name": "ZOË", "other": "ann"}
    assert (
        redact_text(codec.encode(payload), EventType.CUSTOM, contents_only=True, match=EMAIL)
        is None
    )
    value, _ = _redacted(
        payload, EventType.CUSTOM, contents_only=True, match=EMAIL, ignore_case=True
    )
    assert value == {"to": REDACTED, "name": "ZOË", "other": "ann"}
    value, _ = _redacted(
        payload, EventType.CUSTOM, contents_only=True, match="zoë", ignore_case=True
    )
    assert value == {"to": "Ann@Example.COM", "name": REDACTED, "other": "ann"}


def test_a_content_block_event_and_a_tool_delta_lose_their_texts() -> None:
    """v3 run streams record a model's content-block protocol events (``chat.event``) and a
    tool's partial output (``tool.delta``): their texts, arguments and data go, their kinds,
    positions, ids and names stay."""
    ids = {"run_id": "r1", "parent_run_id": "p1"}
    delta = {
        "event": "content-block-delta",
        "index": 0,
        "delta": {"type": "text-delta", "text": EMAIL},
    }
    value, _ = _redacted({**ids, "event": delta}, EventType.CHAT_EVENT, contents_only=True)
    assert value == {
        **ids,
        "event": {
            "event": "content-block-delta",
            "index": 0,
            "delta": {"type": "text-delta", "text": REDACTED},
        },
    }
    call = {
        "event": "content-block-finish",
        "index": 1,
        "content": {"type": "tool_call", "id": "c1", "name": "lookup", "args": {"email": EMAIL}},
    }
    value, _ = _redacted({**ids, "event": call}, EventType.CHAT_EVENT, contents_only=True)
    assert value["event"]["content"] == {
        "type": "tool_call",
        "id": "c1",
        "name": "lookup",
        "args": {"email": REDACTED},
    }
    assert EMAIL not in json.dumps(codec.encode(value))
    value, _ = _redacted(
        {"tool_call_id": "c1", "delta": EMAIL}, EventType.TOOL_DELTA, contents_only=True
    )
    assert value == {"tool_call_id": "c1", "delta": REDACTED}


def test_a_nested_run_s_texts_go_under_a_redaction_of_contents() -> None:
    """A prompt's input, a parser's output, a retriever's documents and a streamed chunk lose
    their texts; keys, numbers, class names, ids and references to the state stay."""
    from langchain_core.documents import Document
    from langchain_core.prompt_values import ChatPromptValue

    from rewind.events import StateSlice

    started = {
        "run_id": "r1",
        "name": "ChatPromptTemplate",
        "run_type": "prompt",
        "input": {"topic": EMAIL, "n": 3, "history": [StateSlice("messages", 0, 2)]},
    }
    value, scope = _redacted(started, EventType.CHAIN_STARTED, contents_only=True)
    assert scope == "contents"
    assert value["input"] == {"topic": REDACTED, "n": 3, "history": [StateSlice("messages", 0, 2)]}
    assert (value["run_id"], value["name"], value["run_type"]) == ("r1", started["name"], "prompt")

    ended = {
        "run_id": "r1",
        "output": ChatPromptValue(messages=[HumanMessage(EMAIL, id="m1")]),
        "input": [Document(page_content=EMAIL, metadata={"source": EMAIL, "rank": 1})],
    }
    value, _ = _redacted(ended, EventType.CHAIN_ENDED, contents_only=True)
    assert value["output"].messages[0].content == REDACTED
    assert value["output"].messages[0].id == "m1"
    (document,) = value["input"]
    assert document.page_content == REDACTED
    assert document.metadata == {"source": REDACTED, "rank": 1}

    value, _ = _redacted(
        {"run_id": "r1", "chunk": EMAIL}, EventType.CHAIN_CHUNK, contents_only=True
    )
    assert value == {"run_id": "r1", "chunk": REDACTED}
