"""Message-list state: the ``add_messages`` reducer and the ``MessagesState`` schema.

A chat agent keeps its conversation in one state key holding a list of LangChain messages.
Nodes return new messages for that key and :func:`add_messages` folds them into the list:

* anything message-like is accepted (message objects, ``{"role": ..., "content": ...}``
  dicts, ``(role, content)`` tuples, bare strings, message chunks), alone or in a list, and
  is coerced to a message with ``langchain_core``'s own conversion functions;
* a message without an id gets a fresh ``str(uuid.uuid4())`` id. The id is written *in
  place* on message objects the caller passed in, on both sides of the merge, so a node's
  write already carries the ids it will have in the state when rewind records it. Chunks,
  dicts, tuples and strings are converted to new objects first; those inputs stay untouched;
* a message whose id is already present replaces the old one at the old one's position;
* ``RemoveMessage(id=...)`` deletes a present message, and ``RemoveMessage(id=``
  :data:`REMOVE_ALL_MESSAGES` ``)`` drops everything written before it.

The behaviour matches ``langgraph.graph.message`` of LangGraph 1.2.22, quirks included, so a
graph file whose ``langgraph.`` imports are rewritten to ``rewind.`` runs unchanged.
``MessageGraph`` (deprecated since LangGraph 1.0, with LangGraph's warning) is a graph whose
whole state is such a list (see :mod:`rewind.runtime.root`); ``push_message`` (which needs the
running graph's stream machinery) is not provided here.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, Final, Literal, TypeAlias, cast, overload

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    MessageLikeRepresentation,
    RemoveMessage,
    convert_to_messages,
    message_chunk_to_message,
)

# LangGraph declares MessagesState with typing_extensions' TypedDict. On Python < 3.12 that
# is a different class from typing's, and the two cannot be mixed as bases of one TypedDict,
# so users who combine MessagesState with their own typing_extensions TypedDicts need this one.
from typing_extensions import TypedDict

from rewind.errors import LangGraphDeprecatedSinceV10
from rewind.runtime.graph import StateGraph
from rewind.runtime.root import RootGraph, root_schema

__all__ = [
    "add_messages",
    "MessageGraph",
    "MessagesState",
    "REMOVE_ALL_MESSAGES",
]

Messages: TypeAlias = list[MessageLikeRepresentation] | MessageLikeRepresentation
"""What either side of :func:`add_messages` may be: one message-like value or a list of them."""

REMOVE_ALL_MESSAGES: Final = "__remove_all__"
"""Id for a ``RemoveMessage`` that clears the list: ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``.

Only the messages that follow it in the same update are kept.
"""

_OPENAI_FORMAT: Final = "langchain-openai"

_MergedMessages: TypeAlias = list[AnyMessage]


def _to_message_list(value: Messages) -> list[BaseMessage]:
    """Turn one side of a merge into a list of complete (non-chunk) messages.

    Message objects are kept as the same objects; every other form is converted to a new one.
    The caller's list is never modified, but it may be returned as is, so it must not be
    modified here either.
    """
    items: list[Any] = value if isinstance(value, list) else [value]
    # A state's history is usually all plain messages of a handful of classes, and both
    # conversions would return those unchanged: test each class once, not each item.
    if all(
        issubclass(kind, BaseMessage) and not issubclass(kind, BaseMessageChunk)
        for kind in {type(item) for item in items}
    ):
        return cast(list[BaseMessage], items)
    # Convert everything first, then turn chunks into messages, so that a bad item raises
    # the same error LangGraph raises when several items are bad.
    return [message_chunk_to_message(message) for message in convert_to_messages(items)]


def _give_ids(messages: list[BaseMessage]) -> None:
    """Assign a fresh uuid4 string id, in place, to each message whose id is ``None``."""
    for message in messages:
        if message.id is None:
            message.id = str(uuid.uuid4())


def _remove_all_position(messages: list[BaseMessage]) -> int | None:
    """Return the index of the last ``REMOVE_ALL_MESSAGES`` marker, or ``None`` if none."""
    position = None
    for index, message in enumerate(messages):
        if isinstance(message, RemoveMessage) and message.id == REMOVE_ALL_MESSAGES:
            position = index
    return position


def _apply(current: list[BaseMessage], updates: list[BaseMessage]) -> list[BaseMessage]:
    """Apply ``updates`` to a copy of ``current``: replace by id, append, or delete."""
    result = list(current)
    # With duplicate ids in ``current`` the last one is the one an update replaces.
    index_of = {message.id: index for index, message in enumerate(result)}
    doomed: set[str | None] = set()
    for message in updates:
        index = index_of.get(message.id)
        if index is None:
            if isinstance(message, RemoveMessage):
                raise ValueError(
                    f"Attempting to delete a message with an ID that doesn't exist ('{message.id}')"
                )
            index_of[message.id] = len(result)
            result.append(message)
        elif isinstance(message, RemoveMessage):
            doomed.add(message.id)
        else:
            # A later write of the same id revives a message deleted earlier in this update.
            doomed.discard(message.id)
            result[index] = message
    if doomed:
        result = [message for message in result if message.id not in doomed]
    return result


def _openai_formatted(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Round-trip ``messages`` through the OpenAI message format.

    Content blocks come back as text / ``image_url`` blocks and tool results as their own
    ``ToolMessage``. The round trip does not keep message ids.
    """
    try:
        from langchain_core.messages import convert_to_openai_messages
    except ImportError:  # langchain-core older than 0.3.11
        warnings.warn(
            "Must have langchain-core>=0.3.11 installed to use automatic message formatting "
            "(format='langchain-openai'). Please update your langchain-core version or remove "
            "the 'format' flag. Returning un-formatted messages.",
            UserWarning,
            stacklevel=1,
        )
        return list(messages)
    return convert_to_messages(convert_to_openai_messages(messages))


def _merge(
    left: Messages,
    right: Messages,
    *,
    format: Literal["langchain-openai"] | None = None,
) -> _MergedMessages:
    """Merge ``right`` into ``left``; the reducer behind :func:`add_messages`."""
    current = _to_message_list(left)
    updates = _to_message_list(right)
    _give_ids(current)
    _give_ids(updates)

    cut = _remove_all_position(updates)
    if cut is not None:
        # As in LangGraph: returned before ``format`` is looked at, so it is neither applied
        # nor validated, and RemoveMessages after the marker are kept as they are.
        return cast(_MergedMessages, updates[cut + 1 :])

    merged = _apply(current, updates)
    if format == _OPENAI_FORMAT:
        merged = _openai_formatted(merged)
    elif format:
        raise ValueError(
            f"Unrecognized format={format!r}. Expected one of {_OPENAI_FORMAT!r}, None."
        )
    return cast(_MergedMessages, merged)


# Named like the public function so that errors about its arguments ("add_messages() got an
# unexpected keyword argument ...") and the repr of ``add_messages(format=...)`` read as they
# do in LangGraph.
_merge.__name__ = _merge.__qualname__ = "add_messages"


@overload
def add_messages(
    left: Messages,
    right: Messages,
    *,
    format: Literal["langchain-openai"] | None = None,
) -> _MergedMessages: ...


@overload
def add_messages(
    left: None = None,
    right: None = None,
    *,
    format: Literal["langchain-openai"] | None = None,
) -> Callable[[Messages, Messages], _MergedMessages]: ...


def add_messages(
    left: Messages | None = None,
    right: Messages | None = None,
    **kwargs: Any,
) -> _MergedMessages | Callable[[Messages, Messages], _MergedMessages]:
    """Merge two lists of messages, updating messages that share an id.

    The state stays append-only except where an update reuses an id already present: that
    message is replaced where it stands. ``RemoveMessage(id=...)`` deletes the message with
    that id, and ``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` discards everything before it
    (the current messages and the earlier items of the same update).

    Messages without an id get a fresh ``str(uuid.uuid4())`` id first. Message objects the
    caller passed in, on either side, receive it in place; dicts, tuples, strings and chunks
    are converted to new message objects, which receive it instead.

    Called without ``left`` and ``right``, returns the reducer with the given keyword
    arguments bound, for use as ``Annotated[list, add_messages(format="langchain-openai")]``.

    Args:
        left: The current messages: a list of message-like values or a single one.
        right: The update: a list of message-like values or a single one.
        **kwargs: Passed on to the merge. The only one it accepts is ``format``: ``None``
            (the default) returns messages as they are; ``"langchain-openai"`` round-trips the
            merged list through the OpenAI message format, which normalises content blocks to
            text / ``image_url`` blocks, splits tool results into their own ``ToolMessage``
            objects and drops message ids. It is not applied when the update contains
            ``REMOVE_ALL_MESSAGES``.

    Returns:
        A new list of messages with ``right`` merged into ``left``; or, when neither ``left``
        nor ``right`` is given, the merge function with ``kwargs`` bound.

    Raises:
        ValueError: If only one of ``left`` and ``right`` is given; if a ``RemoveMessage``
            names an id that is not present; if ``format`` is neither ``None`` (or another
            false value) nor ``"langchain-openai"``; or if a value cannot be coerced to a
            message.
        TypeError: If a keyword argument other than ``format`` is given.
        NotImplementedError: If a value is of a kind that cannot be a message.

    Example:
        ```python
        from langchain_core.messages import AIMessage, HumanMessage

        add_messages([HumanMessage("Hello", id="1")], [AIMessage("Hi there!", id="2")])
        # [HumanMessage(content='Hello', id='1'), AIMessage(content='Hi there!', id='2')]

        add_messages([HumanMessage("Hello", id="1")], HumanMessage("Hello again", id="1"))
        # [HumanMessage(content='Hello again', id='1')]
        ```
    """
    if left is None and right is None:
        return partial(_merge, **kwargs)
    if left is None or right is None:
        # LangGraph names the side it received by truthiness, so an empty ``left`` list with
        # no ``right`` is reported as "received: 'right'". Kept for identical messages.
        received = "left" if left else "right"
        raise ValueError(
            "Must specify non-null arguments for both 'left' and 'right'. "
            f"Only received: '{received}'."
        )
    return _merge(left, right, **kwargs)


class MessagesState(TypedDict):
    """A graph state holding just a conversation, merged with :func:`add_messages`.

    Subclass it to add more keys::

        class State(MessagesState):
            documents: list[str]

    Attributes:
        messages: The conversation so far.
    """

    messages: Annotated[list[AnyMessage], add_messages]


_MESSAGE_GRAPH_DEPRECATION = (
    "MessageGraph is deprecated in LangGraph v1.0.0, to be removed in v2.0.0. Please use "
    "StateGraph with a `messages` key instead."
)


class MessageGraph(StateGraph[Any]):
    """A graph whose whole state is a list of messages (deprecated since LangGraph 1.0: use a
    ``StateGraph`` with a ``messages`` key).

    Each node is given the list and returns one or more messages, merged into it by
    :func:`add_messages`; ``invoke`` returns the list::

        builder = MessageGraph()
        builder.add_node("chatbot", lambda messages: [("assistant", "Hello!")])
        builder.set_entry_point("chatbot")
        builder.set_finish_point("chatbot")
        builder.compile().invoke([("user", "Hi there.")])  # [HumanMessage, AIMessage]
    """

    compiled_class = RootGraph

    def __init__(self) -> None:
        warnings.warn(_MESSAGE_GRAPH_DEPRECATION, LangGraphDeprecatedSinceV10, stacklevel=2)
        super().__init__(
            root_schema(Annotated[list[AnyMessage], add_messages], name="MessageGraphState")
        )
