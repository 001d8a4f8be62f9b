"""A compiled graph's nodes and channels as LangGraph lists them (``graph.nodes``,
``graph.channels``): what users inspect (``list(graph.nodes)``, ``"x" in graph.nodes``,
``graph.channels["messages"]``).

rewind does not run a ``StateGraph`` through these objects (its executor routes edges itself
and keeps state in :class:`~rewind.runtime.channels.Channel`); they describe the graph with
LangGraph's names and kinds: the state's keys, the managed values, ``__start__``,
``__pregel_tasks``, a ``branch:to:<node>`` channel per node (``LastValueAfterFinish`` for a
deferred node) and a ``join:<a>+<b>:<node>`` barrier per edge from several nodes.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

from rewind.channels import (
    BaseChannel,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
    Topic,
)
from rewind.runtime.graph import END, START
from rewind.runtime.pregel_nodes import PregelNode
from rewind.runtime.shapes import all_keys
from rewind.types import Send

if TYPE_CHECKING:
    from rewind.runtime.channels import Channel
    from rewind.runtime.graph import StateGraph

__all__ = ["graph_channels", "graph_nodes"]

TASKS = "__pregel_tasks"
"""LangGraph's channel of ``Send`` packets."""


def graph_channels(builder: StateGraph[Any]) -> dict[str, Any]:
    """The channels of a compiled graph, by name, in LangGraph's order: the state's keys
    (every schema's), the managed values, ``__start__``, ``__pregel_tasks``, each node's
    branch channel, each join's barrier."""
    schemas = builder.schemas
    out: dict[str, Any] = {name: _as_channel(ch) for name, ch in schemas.channels.items()}
    out.update(schemas.managed)
    out[START] = _keyed(EphemeralValue(schemas.input), START)
    out[TASKS] = _keyed(Topic(Send, accumulate=False), TASKS)
    for name, spec in builder.nodes.items():
        key = f"branch:to:{name}"
        out[key] = _keyed(
            LastValueAfterFinish(Any) if spec.defer else EphemeralValue(Any, guard=False), key
        )
    for starts, end in sorted(builder.waiting_edges):
        if end == END:
            continue
        key = f"join:{'+'.join(starts)}:{end}"
        deferred = end in builder.nodes and builder.nodes[end].defer
        barrier = NamedBarrierValueAfterFinish if deferred else NamedBarrierValue
        out[key] = _keyed(barrier(str, set(starts)), key)
    return out


def graph_nodes(builder: StateGraph[Any], triggers: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The nodes of a compiled graph, by name (``__start__`` first), as LangGraph's
    ``PregelNode``: what starts each one, the keys it reads, what it runs."""
    schemas = builder.schemas
    out: dict[str, Any] = {
        START: PregelNode(channels=START, triggers=[START], bound=None, tags=["langsmith:hidden"])
    }
    for name, spec in builder.nodes.items():
        keys = all_keys(spec.input_schema or schemas.state, ordered=True)
        out[name] = PregelNode(
            channels=keys,
            triggers=list(triggers.get(name, (f"branch:to:{name}",))),
            bound=spec.action,
            metadata=dict(spec.metadata or {}),
            retry_policy=_policies(spec.retry_policy),
            cache_policy=spec.cache_policy,
        )
    return out


def _as_channel(channel: Channel) -> BaseChannel[Any, Any, Any]:
    """A state key's channel as LangGraph has it: the one it was annotated with, a
    ``BinaryOperatorAggregate`` for a reducer, a ``LastValue`` otherwise."""
    if channel.spec is not None:
        return channel.spec
    made: BaseChannel[Any, Any, Any]
    if channel.reducer is not None:
        base = typing.get_origin(channel.annotation) is typing.Annotated
        typ = channel.annotation.__origin__ if base else channel.annotation
        made = BinaryOperatorAggregate(typ, channel.reducer)
    else:
        made = LastValue(channel.annotation)
    return _keyed(made, channel.name)


def _keyed(channel: BaseChannel[Any, Any, Any], key: str) -> BaseChannel[Any, Any, Any]:
    channel.key = key
    return channel


def _policies(policy: Any) -> list[Any]:
    if policy is None:
        return []
    return list(policy) if isinstance(policy, list | tuple) else [policy]
