"""The state graph a low-level ``Pregel`` program runs on: a schema of its channels, its
output channels as the graph's output, and its nodes as the graph's (without edges: its loop
starts tasks from channel updates); and the nodes its interrupt specs name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

from rewind.channels import BaseChannel
from rewind.runtime.channels import HIDDEN_CHANNELS, SPEC_CHANNELS
from rewind.runtime.graph import NodeSpec, StateGraph
from rewind.runtime.pregel_nodes import PregelNode, no_function
from rewind.runtime.timeouts import natively_async, sync_timeout_unsupported
from rewind.types import CachePolicy, RetryPolicy

__all__ = ["interrupt_nodes", "program_builder"]


def program_builder(
    nodes: Mapping[str, PregelNode],
    channels: Mapping[str, BaseChannel[Any, Any, Any]],
    retry_policy: list[RetryPolicy],
    output_channels: str | Sequence[str],
    cache_policy: CachePolicy[Any] | None = None,
    context_schema: Any = None,
) -> StateGraph[Any]:
    """A state graph whose state is the program's channels, whose output is its output
    channels (what it shows as a subgraph), and whose nodes are its nodes (no edges: its loop
    starts tasks from channel updates)."""
    for key, channel in channels.items():
        known = isinstance(channel, (*SPEC_CHANNELS, *HIDDEN_CHANNELS))
        if not known and type(channel).__name__ not in ("LastValue", "BinaryOperatorAggregate"):
            raise NotImplementedError(
                f"Pregel channel '{key}' is a {type(channel).__name__}, which rewind does not "
                "run (a channel class of its own: the log could not rebuild it); use one of "
                "rewind.channels"
            )
    schema = TypedDict(  # type: ignore[misc]
        "PregelChannels", {k: Annotated[Any, c] for k, c in channels.items()}, total=False
    )
    builder: StateGraph[Any] = StateGraph(schema, context_schema)
    for key, channel in channels.items():  # (errors name a channel's own key, as LangGraph's)
        made = builder.channels[key]
        made.key = channel.key
        if made.spec is not None:
            made.spec.key = channel.key
    outputs = [output_channels] if isinstance(output_channels, str) else output_channels
    if set(outputs) != set(channels):
        builder.schemas.output = TypedDict(  # type: ignore[misc]
            "PregelOutput", dict.fromkeys(outputs, Any), total=False
        )
    for name, node in nodes.items():
        timeout = getattr(node, "timeout", None)
        if timeout is not None and not natively_async(node.bound):  # as LangGraph validates it
            raise sync_timeout_unsupported(name)
        builder.nodes[name] = NodeSpec(
            name=name,
            action=node.bound if node.bound is not None else no_function,
            input_schema=None,
            retry_policy=node.retry_policy or retry_policy or None,
            metadata=node.metadata or None,
            cache_policy=node.cache_policy or cache_policy,
            timeout=timeout,
        )
    builder.compiled = True
    return builder


def interrupt_nodes(
    spec: str | Sequence[str], nodes: Mapping[str, Any], unknown: bool = False
) -> list[str]:
    """The nodes an ``interrupt_before_nodes``/``interrupt_after_nodes`` spec names (``"*"``:
    all of them; when validating, none, as an unknown name is what is checked)."""
    if spec == "*":
        return [] if unknown else list(nodes)
    return [spec] if isinstance(spec, str) else list(spec)
