"""Generative UI messages (LangGraph's ``langgraph.graph.ui``): a node pushes UI components for
a client to render, as ``custom`` stream chunks and into a state key (``ui`` by default) whose
reducer, :func:`ui_message_reducer`, adds, replaces, merges and removes them by id."""

from __future__ import annotations

from typing import Any, Literal, cast
from uuid import uuid4

from langchain_core.messages import AnyMessage
from typing_extensions import TypedDict

from rewind.config import get_config, get_stream_writer

__all__ = (
    "AnyUIMessage",
    "RemoveUIMessage",
    "UIMessage",
    "delete_ui_message",
    "push_ui_message",
    "ui_message_reducer",
)


class UIMessage(TypedDict):
    """A UI component to render: its id, name, props and metadata."""

    type: Literal["ui"]
    id: str
    name: str
    props: dict[str, Any]
    metadata: dict[str, Any]


class RemoveUIMessage(TypedDict):
    """Remove the UI component of this id."""

    type: Literal["remove-ui"]
    id: str


AnyUIMessage = UIMessage | RemoveUIMessage


def push_ui_message(
    name: str,
    props: dict[str, Any],
    *,
    id: str | None = None,
    metadata: dict[str, Any] | None = None,
    message: AnyMessage | None = None,
    state_key: str | None = "ui",
    merge: bool = False,
) -> UIMessage:
    """Push a UI component from a running node: streamed at once (``custom``) and, with a
    ``state_key``, written to the state with the node's other writes.

    Args:
        name: The component's name.
        props: Its properties.
        id: Its id (a new UUID by default; the same id replaces an earlier one).
        metadata: More metadata.
        message: A chat message it belongs to (its id is noted as ``message_id``).
        state_key: The state key the UI messages are kept under (``None``: streamed only).
        merge: Whether its props merge into those of the component it replaces.
    """
    from rewind.runtime.calling import send_writes

    writer = get_stream_writer()
    config = get_config()
    message_id = None
    if message:
        if isinstance(message, dict) and "id" in message:
            message_id = message.get("id")
        elif hasattr(message, "id"):
            message_id = message.id
    event: UIMessage = {
        "type": "ui",
        "id": id or str(uuid4()),
        "name": name,
        "props": props,
        "metadata": {
            "merge": merge,
            "run_id": config.get("run_id", None),
            "tags": config.get("tags", None),
            "name": config.get("run_name", None),
            **(metadata or {}),
            **({"message_id": message_id} if message_id else {}),
        },
    }
    writer(event)
    if state_key:
        send_writes([(state_key, event)])
    return event


def delete_ui_message(id: str, *, state_key: str = "ui") -> RemoveUIMessage:
    """Remove the UI component ``id``: streamed at once, and written to ``state_key``."""
    from rewind.runtime.calling import send_writes

    writer = get_stream_writer()
    event: RemoveUIMessage = {"type": "remove-ui", "id": id}
    writer(event)
    send_writes([(state_key, event)])
    return event


def ui_message_reducer(
    left: list[AnyUIMessage] | AnyUIMessage,
    right: list[AnyUIMessage] | AnyUIMessage,
) -> list[AnyUIMessage]:
    """The UI messages after ``right``: new ids added, known ids replaced (props merged when
    the new one says ``merge``), ``remove-ui`` ids removed.

    Raises:
        ValueError: a ``remove-ui`` of an id that is not there.
    """
    left = left if isinstance(left, list) else [left]
    right = right if isinstance(right, list) else [right]
    merged = list(left)
    where = {m.get("id"): i for i, m in enumerate(merged)}
    removed: set[Any] = set()
    for msg in right:
        msg_id = msg.get("id")
        at = where.get(msg_id)
        if at is not None:
            if msg.get("type") == "remove-ui":
                removed.add(msg_id)
                continue
            removed.discard(msg_id)
            new = cast(UIMessage, msg)
            if new.get("metadata", {}).get("merge", False):
                previous = cast(UIMessage, merged[at])
                msg = cast(UIMessage, {**new, "props": {**previous["props"], **new["props"]}})
            merged[at] = msg
        elif msg.get("type") == "remove-ui":
            raise ValueError(
                f"Attempting to delete an UI message with an ID that doesn't exist ('{msg_id}')"
            )
        else:
            where[msg_id] = len(merged)
            merged.append(msg)
    return [m for m in merged if m.get("id") not in removed]
