"""One function of several a low-level ``Pregel`` node runs (``NodeBuilder().do(f).do(g)``),
as LangGraph's ``RunnableCallable(trace=True)`` runs it: a step of the node's sequence that is
a run of its own (``seq:step:2``...), started with its input whole (it is invoked, not
streamed) and named after the function. The node's one function is traced by the task's own
call instead (see :func:`rewind.runtime.pregel_nodes.traced_step`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    get_callback_manager_for_config,
    patch_config,
    run_in_executor,
)

from rewind.runtime.context import _RUNTIME
from rewind.runtime.tasks import callable_facts, injected_kwargs, no_sync_function

__all__ = ["TracedStep"]


class TracedStep(Runnable[Any, Any]):
    """A node function run as a step of its node's sequence, a run of its own."""

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        self.func = func
        self.afunc = func
        """The function (how a timed node's check tells an async one)."""
        self.name = name

    def _kwargs(self, config: RunnableConfig) -> dict[str, Any]:
        """What the function asks for by name (``config``, ``runtime``, ``writer``...), as a
        node's function is given it."""
        runtime = _RUNTIME.get()
        if runtime is None:
            return injected_kwargs(self.func, dict(config))
        return injected_kwargs(
            self.func, dict(config), runtime.stream_writer, runtime, runtime.store
        )

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the function under a run of its own (a sync one; an async one is refused, as
        LangGraph refuses it)."""
        if callable_facts(self.func)[1]:
            raise no_sync_function(self.get_name())
        config = _own(config)
        run = get_callback_manager_for_config(config).on_chain_start(None, input, name=self.name)
        child = patch_config(config, callbacks=run.get_child())
        try:
            output = self.func(input, **self._kwargs(child))
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(output)
        return output

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the function under a run of its own (a sync one in a worker thread)."""
        config = _own(config)
        manager = get_async_callback_manager_for_config(config)
        run = await manager.on_chain_start(None, input, name=self.name)
        child = patch_config(config, callbacks=run.get_child())
        try:
            if callable_facts(self.func)[1]:
                output = await self.func(input, **self._kwargs(child))
            else:
                output = await run_in_executor(child, self.func, input, **self._kwargs(child))
        except BaseException as exc:
            await run.on_chain_error(exc)
            raise
        await run.on_chain_end(output)
        return output


def _own(config: RunnableConfig | None) -> RunnableConfig:
    """The config a step was given (its node's, as LangGraph's ``RunnableCallable`` takes it:
    without ``configurable`` values copied into its metadata, as LangChain's
    ``ensure_config`` would copy them); a full one when it was given none."""
    return config if config is not None else ensure_config(None)
