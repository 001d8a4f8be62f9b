"""The runnables a node runs inside itself, recorded: a prompt, an LCEL sequence and its steps,
an output parser, a ``RunnableLambda``, a retriever (a part of
:class:`~rewind.runtime.callbacks.Recorder`; a mixin).

LangChain reports each such run to the task's callback handlers, as it reports them to
LangGraph's event stream: ``chain.started``, ``chain.chunk`` and ``chain.ended`` events of the
task carry what its ``astream_events`` shows of them (see :mod:`rewind.events`). The task's own
run reports to the recorder too: it is told apart by its run id, one comparison, so a node that
runs no nested runnable records nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.messages import BaseMessage

from rewind.errors import EncodingError
from rewind.events import EventType
from rewind.log.codec import encode, unrecorded
from rewind.projections.state import refer_to_state

__all__ = ["NO_INPUT", "ChainRecording", "storable"]

T = TypeVar("T")

NO_INPUT: Any = object()
"""A recorder given no input of its task (a task call's arguments are not one value)."""

_NONE_OPEN: dict[Any, str] = {}
"""A recorder's nested runs before its first (never written to)."""
_NO_INPUT_YET = {"input": ""}
"""What LangChain gives a streamed run as its input at its start (its event stream shows none)."""


class ChainRecording:
    """Records the nested runs of one task (the chain part of the recorder)."""

    _own_run_id: uuid.UUID | None
    _node_input: Any
    _state: Callable[[], Mapping[str, Any]] | None
    _chains: dict[uuid.UUID, str] = _NONE_OPEN
    """The nested runs started and not ended: their run ids' text (made at the first one: a
    task that runs none makes nothing)."""
    _tapped: set[uuid.UUID]
    """The nested runs whose output is tapped (made with the first nested run)."""

    if TYPE_CHECKING:  # Recorder's

        def _emit(self, type_: str, payload: Any) -> None: ...

    def _chain_started(
        self,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        name: str,
        run_type: str,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        inputs: Any,
    ) -> None:
        chains = self.__dict__.get("_chains")
        if chains is None:  # (setdefault: one dict, whichever thread starts a run first)
            chains = self.__dict__.setdefault("_chains", {})
            self.__dict__.setdefault("_tapped", set())
        text = chains[run_id] = str(run_id)
        payload: dict[str, Any] = {
            "run_id": text,
            "parent_run_id": None if parent_run_id is None else str(parent_run_id),
            "name": name,
            "run_type": run_type,
            "tags": list(tags or ()),
            "metadata": _encodable_items(metadata or {}),
        }
        if not (type(inputs) is dict and inputs == _NO_INPUT_YET):
            self._put(payload, "input", inputs)
        self._emit(EventType.CHAIN_STARTED, payload)

    def _chain_ended(
        self, run_id: uuid.UUID, output: Any, inputs: Any = None, error: Any = None
    ) -> None:
        text = self._chains.pop(run_id, None)
        if text is None:  # the task's own run, or one it did not see start
            return
        self._tapped.discard(run_id)
        payload: dict[str, Any] = {"run_id": text}
        if error is not None:
            payload["error"] = {"type": type(error).__name__, "message": str(error)}
        else:
            self._put(payload, "output", output)
            if _truthy(inputs):  # (LangChain's event stream shows the start's input otherwise)
                self._put(payload, "input", inputs)
        self._emit(EventType.CHAIN_ENDED, payload)

    def _put(self, payload: dict[str, Any], key: str, value: Any) -> None:
        """``payload[key] = value``, as the log can hold it: the task's own input is named
        (``node_input``), a run of the state's messages is a slice of it, a value the codec
        cannot store is named by its type."""
        if value is self._node_input and value is not None:
            payload["node_input" if key == "input" else f"{key}_is_node_input"] = True
            return
        if (
            self._state is not None
            and type(value) is list
            and value
            and isinstance(value[0], BaseMessage)
        ):
            value = refer_to_state([value], self._state())[0]
        payload[key] = storable(value)

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A nested run began (the task's own run is not one)."""
        if run_id is self._own_run_id or run_id == self._own_run_id:
            return
        name = _name_of(kwargs.get("name"), serialized)
        run_type = kwargs.get("run_type") or "chain"
        self._chain_started(run_id, parent_run_id, name, run_type, tags, metadata, inputs)

    def on_chain_end(self, outputs: Any, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """A nested run ended: its output (and its input, when LangChain knows it only now)."""
        if self._chains and run_id in self._chains:
            self._chain_ended(run_id, outputs, kwargs.get("inputs"))

    def on_chain_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """A nested run failed."""
        if self._chains and run_id in self._chains:
            self._chain_ended(run_id, None, error=error)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever began: its query is its input, as LangChain's event stream shows it."""
        name = _name_of(kwargs.get("name"), serialized)
        inputs = {"query": query}
        self._chain_started(run_id, parent_run_id, name, "retriever", tags, metadata, inputs)

    def on_retriever_end(
        self, documents: Sequence[Any], *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        """A retriever ended: the documents it found."""
        if run_id in self._chains:
            self._chain_ended(run_id, documents)

    def on_retriever_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """A retriever failed."""
        if run_id in self._chains:
            self._chain_ended(run_id, None, error=error)

    def _taps(self, run_id: uuid.UUID) -> bool:
        """Whether a streamed run's chunks are to be recorded: a nested run's, the first time
        its output is tapped (as LangChain's event stream taps a run once)."""
        if run_id not in self._chains or run_id in self._tapped:
            return False
        self._tapped.add(run_id)
        return True

    def _chunk(self, run_id: uuid.UUID, chunk: Any) -> None:
        text = self._chains.get(run_id)
        if text is not None:
            payload: dict[str, Any] = {"run_id": text}
            self._put(payload, "chunk", chunk)
            self._emit(EventType.CHAIN_CHUNK, payload)

    def _tapped_iter(self, run_id: uuid.UUID, output: Iterator[T]) -> Iterator[T]:
        for chunk in output:
            self._chunk(run_id, chunk)
            yield chunk

    async def _tapped_aiter(self, run_id: uuid.UUID, output: AsyncIterator[T]) -> AsyncIterator[T]:
        async for chunk in output:
            self._chunk(run_id, chunk)
            yield chunk


def _name_of(name: str | None, serialized: Mapping[str, Any] | None) -> str:
    """A run's name as LangChain's event stream gives it."""
    if name is not None:
        return name
    if serialized:
        if "name" in serialized:
            return str(serialized["name"])
        if "id" in serialized:
            return str(serialized["id"][-1])
    return "Unnamed"


def storable(value: Any) -> Any:
    """``value`` as the log can hold it: itself, or with each part the codec cannot encode (a
    live object) named by its type instead (:func:`~rewind.log.codec.unrecorded`)."""
    try:
        encode(value)
    except EncodingError:
        if type(value) is dict:
            return {k: storable(v) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(storable(v) for v in value)
        return unrecorded(value)
    except Exception:  # a value whose encoding itself fails (a broken __iter__...)
        return unrecorded(value)
    return value


def _encodable_items(metadata: dict[str, Any]) -> dict[str, Any]:
    """A run's metadata without what the codec cannot store (as a chat model's is recorded:
    callback metadata may hold live objects)."""
    try:
        encode(metadata)
    except Exception:
        return {k: v for k, v in metadata.items() if storable(v) is v}
    return metadata


def _truthy(value: Any) -> bool:
    """``bool(value)``, ``True`` for a value whose truth cannot be told (an array)."""
    try:
        return bool(value)
    except Exception:
        return True
