"""A node that is a LangChain runnable (``add_node("classify", prompt | model | parser)``),
run as LangGraph runs it.

LangGraph makes a node's runnable the first step of the node's own sequence: a
``RunnableSequence`` is flattened into it, so its steps run directly under the node's run,
tagged ``seq:step:1``, ``seq:step:2``... (no run of the sequence's own). While an
``astream_events`` stream is open, LangGraph streams each node: the first step's ``astream``
feeds the next step's ``atransform``, and so on, so each step streams its output as it comes
(``on_chain_stream``, ``on_parser_stream``...) and a step that does not take a stream of inputs
is given its input whole, its chunks added up. A node function LangGraph traces (its
``RunnableCallable``'s default, as ``create_react_agent``'s agent node) is a run of its own
inside the node's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig, RunnableSequence
from langchain_core.runnables.config import (
    get_callback_manager_for_config,
    patch_config,
    var_child_runnable_config,
)

__all__ = ["run_runnable_node", "streams_as_node", "traced_run"]


def streams_as_node(action: Any) -> bool:
    """Whether LangGraph would stream ``action`` as a node under ``astream_events``: a
    LangChain runnable of the user's (rewind's own runnables, its graphs and ``ToolNode``,
    run as they are)."""
    return isinstance(action, Runnable) and not type(action).__module__.startswith("rewind.")


async def run_runnable_node(
    action: Any,
    node_input: Any,
    config: dict[str, Any],
    run_manager: Any,
    *,
    stream: bool,
    whole: bool = False,
) -> Any:
    """Run a node's runnable under its node's run (``run_manager``; ``config``: the config its
    first step runs with, tagged ``seq:step:1``); ``stream``: as LangGraph does under
    ``astream_events``; ``whole``: a sequence runs as one run of its own, not flattened.
    Returns what the node returned."""
    flat = isinstance(action, RunnableSequence) and not whole
    steps: list[Any] = list(action.steps) if flat else [action]
    # (each step's config is the node's with the step's callbacks, as LangGraph patches it:
    # not through LangChain's ensure_config, which copies configurable values into metadata)
    own = {k: v for k, v in config.items() if k not in ("run_name", "run_id")}
    configs = [config] + [
        {**own, "callbacks": run_manager.get_child(f"seq:step:{i}")}
        for i in range(2, len(steps) + 1)
    ]
    if not stream:
        value = node_input
        for step, step_config in zip(steps, configs, strict=True):
            value = await step.ainvoke(value, step_config)
        return value
    async with contextlib.AsyncExitStack() as stack:
        chunks: AsyncIterator[Any] = steps[0].astream(node_input, configs[0])
        stack.push_async_callback(_closer(chunks))
        for step, step_config in zip(steps[1:], configs[1:], strict=True):
            chunks = step.atransform(chunks, step_config)
            stack.push_async_callback(_closer(chunks))
        return await _added_up(chunks)


def traced_run(config: dict[str, Any], node_input: Any, name: str) -> Any:
    """A traced node function's own run (LangGraph's ``RunnableCallable(..., trace=True)``:
    ``create_react_agent``'s ``call_model``), begun under the node's run (``config``: the
    node's); what the function runs without passing a config nests in it (its context's
    config), what it runs with the config it is given, in the node. Returns its run manager."""
    manager = get_callback_manager_for_config(_config(config))
    run = manager.on_chain_start(None, node_input, name=name)
    var_child_runnable_config.set(patch_config(_config(config), callbacks=run.get_child()))
    return run


def _config(config: dict[str, Any]) -> RunnableConfig:
    return config  # type: ignore[return-value]


def _closer(chunks: AsyncIterator[Any]) -> Any:
    async def close() -> None:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    return close


async def _added_up(chunks: AsyncIterator[Any]) -> Any:
    """The node's output: its last step's chunks added up, as the node's writers take them
    (``Runnable.atransform``: a chunk that cannot be added replaces the sum)."""
    total: Any = None
    first = True
    async for chunk in chunks:
        if first:
            total, first = chunk, False
            continue
        try:
            total = total + chunk
        except TypeError:
            total = chunk
    return total
