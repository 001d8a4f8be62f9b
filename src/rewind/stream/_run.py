"""``stream_events(version="v3")`` of a rewind graph: its run stream, over its own ``stream``.

The run stream's mux is made from the built-in transformers, the graph's compile-time ones
(``compile(transformers=...)``) and the call's; the graph is then streamed (v2 parts, with
subgraphs) in exactly the stream modes those transformers read, and with LangGraph's
``__pregel_stream_messages_v2`` flag in its config, so that chat models stream content-block
events (see :class:`~rewind.runtime.callbacks.ProtocolRecorder`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.runnables.config import ensure_config, merge_configs

from rewind.runtime.streaming import STREAM_MESSAGES_V2
from rewind.stream._mux import StreamMux
from rewind.stream._types import StreamTransformer, TransformerFactory
from rewind.stream.run_stream import AsyncGraphRunStream, GraphRunStream, warn_experimental
from rewind.stream.transformers import (
    LifecycleTransformer,
    MessagesTransformer,
    SubgraphTransformer,
    ValuesTransformer,
)

__all__ = ["astream_v3", "reject_v3_kwargs", "run_mux", "stream_v3", "transformer_factories"]

_BUILT_IN: list[TransformerFactory] = [
    ValuesTransformer,
    MessagesTransformer,
    LifecycleTransformer,
    SubgraphTransformer,
]
_OWNED = ("stream_mode", "subgraphs")
"""What v3 decides itself (and so refuses from the caller)."""


def reject_v3_kwargs(kwargs: dict[str, Any]) -> None:
    """Refuse ``stream_mode``/``subgraphs``, as LangGraph does.

    Raises:
        TypeError: one of them was given.
    """
    given = [k for k in _OWNED if k in kwargs]
    if given:
        raise TypeError(
            "stream_events(version='v3') / astream_events(version='v3') do not accept "
            f"{', '.join(given)}; v3 owns these (stream_mode is built from the transformer "
            "mux, subgraphs is forced True so nested namespaces flow through scoped muxes)."
        )


def transformer_factories(
    specs: Sequence[Callable[[tuple[str, ...]], Any]] | None,
) -> list[TransformerFactory]:
    """The scope-taking factories of ``specs`` (transformer classes, or callables).

    Raises:
        TypeError: a spec is a transformer instance (it could not be made again for each
            subgraph's scope), or not callable.
    """
    factories: list[TransformerFactory] = []
    for spec in specs or ():
        if isinstance(spec, StreamTransformer):
            raise TypeError(
                "stream_events(version='v3') transformers must be scope-aware callables, "
                f"got pre-built instance {type(spec).__name__}. Pass the transformer class "
                "or a factory like `lambda scope: MyTransformer(scope, ...)`."
            )
        if not callable(spec):
            raise TypeError(
                "stream_events(version='v3') transformers must be scope-aware callables, "
                f"got {type(spec).__name__}."
            )
        factories.append(spec)
    return factories


def run_mux(
    graph: Any,
    transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None,
    *,
    scope: tuple[str, ...] = (),
    is_async: bool,
) -> tuple[StreamMux, list[str]]:
    """A run stream's mux (the built-in transformers, ``graph``'s compile-time ones and
    ``transformers``) and the stream modes its transformers read.

    Raises:
        TypeError: a transformer spec is an instance, or not callable.
    """
    factories = [
        *_BUILT_IN,
        *transformer_factories(getattr(graph, "stream_transformers", None)),
        *transformer_factories(transformers),
    ]
    mux = StreamMux(factories=factories, scope=scope, is_async=is_async)
    return mux, sorted({m for t in mux._transformers for m in t.required_stream_modes})


def _parent_scope(graph: Any, config: dict[str, Any] | None) -> tuple[str, ...]:
    """The namespace the call runs in: ``()`` at the root, the calling task's inside a node
    (the projections then read the run's own root events)."""
    merged = ensure_config(
        merge_configs(getattr(graph, "config", None), config)  # type: ignore[arg-type]
    )
    ns = (merged.get("configurable") or {}).get("checkpoint_ns")
    return tuple(ns.split("|")) if ns else ()


def _prepared(
    graph: Any,
    config: dict[str, Any] | None,
    transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None,
    *,
    is_async: bool,
) -> tuple[StreamMux, dict[str, Any], list[str]]:
    """The mux, the config the graph runs with, and the stream modes it is asked for."""
    warn_experimental("astream_events" if is_async else "stream_events")
    mux, modes = run_mux(graph, transformers, scope=_parent_scope(graph, config), is_async=is_async)
    config = dict(config or {})
    config["configurable"] = {**(config.get("configurable") or {}), STREAM_MESSAGES_V2: True}
    return mux, config, modes


def _absolute(parts: Iterator[Any], scope: tuple[str, ...]) -> Iterator[Any]:
    """``parts`` with namespaces under ``scope``: a graph streamed inside a node gives its
    parts namespaces relative to itself in rewind, under the calling task's in LangGraph."""
    try:
        for part in parts:
            yield _under(part, scope)
    finally:
        if (close := getattr(parts, "close", None)) is not None:
            close()


async def _aabsolute(parts: AsyncIterator[Any], scope: tuple[str, ...]) -> AsyncIterator[Any]:
    """:func:`_absolute` of async parts."""
    try:
        async for part in parts:
            yield _under(part, scope)
    finally:
        if (aclose := getattr(parts, "aclose", None)) is not None:
            await aclose()


def _under(part: Any, scope: tuple[str, ...]) -> Any:
    ns = tuple(part["ns"])
    return part if ns[: len(scope)] == scope else {**part, "ns": (*scope, *ns)}


def _run_kwargs(
    interrupt_before: Any, interrupt_after: Any, control: Any, kwargs: dict[str, Any]
) -> dict[str, Any]:
    out = dict(kwargs)
    for key, value in (
        ("interrupt_before", interrupt_before),
        ("interrupt_after", interrupt_after),
        ("control", control),
    ):
        if value is not None:
            out[key] = value
    return out


def stream_v3(
    graph: Any,
    input: Any,
    config: dict[str, Any] | None = None,
    *,
    interrupt_before: Any = None,
    interrupt_after: Any = None,
    control: Any = None,
    transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
    **kwargs: Any,
) -> GraphRunStream:
    """``graph.stream_events(input, config, version="v3")``: a sync run stream, not started
    until read. Other keyword arguments go to ``graph.stream`` (``context``, ``durability``...)."""
    reject_v3_kwargs(kwargs)
    mux, config, modes = _prepared(graph, config, transformers, is_async=False)
    parts = graph.stream(
        input,
        config,
        stream_mode=modes,
        subgraphs=True,
        version="v2",
        **_run_kwargs(interrupt_before, interrupt_after, control, kwargs),
    )
    parts = iter(parts)
    return GraphRunStream(_absolute(parts, mux.scope) if mux.scope else parts, mux)


async def astream_v3(
    graph: Any,
    input: Any,
    config: dict[str, Any] | None = None,
    *,
    interrupt_before: Any = None,
    interrupt_after: Any = None,
    control: Any = None,
    transformers: Sequence[Callable[[tuple[str, ...]], Any]] | None = None,
    **kwargs: Any,
) -> AsyncGraphRunStream:
    """``await graph.astream_events(input, config, version="v3")``: an async run stream."""
    reject_v3_kwargs(kwargs)
    mux, config, modes = _prepared(graph, config, transformers, is_async=True)
    parts = graph.astream(
        input,
        config,
        stream_mode=modes,
        subgraphs=True,
        version="v2",
        **_run_kwargs(interrupt_before, interrupt_after, control, kwargs),
    )
    parts = aiter(parts)
    return AsyncGraphRunStream(_aabsolute(parts, mux.scope) if mux.scope else parts, mux)
