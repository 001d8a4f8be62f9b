"""``CompiledStateGraph``: invoke a graph, read its state; all of it through the log.

The async methods are the implementation; the sync ones drive them, and work from code that
already runs an event loop (Jupyter, a web handler) by running the call on a worker thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rewind.events import RunStatus, run_ended, run_started
from rewind.projections.state import CheckpointView, fold_checkpoints
from rewind.runtime.channels import MISSING
from rewind.runtime.graph import START
from rewind.runtime.pregel import PULL, RunLoop, Task
from rewind.types import PregelTask, StateSnapshot

if TYPE_CHECKING:
    from rewind.runtime.graph import StateGraph
    from rewind.store import EventStore

__all__ = ["CompiledStateGraph", "run_sync"]

T = TypeVar("T")
_THREAD_KEYS = "thread_id, checkpoint_ns, checkpoint_id"


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, whether or not a loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rewind-sync") as pool:
        return pool.submit(asyncio.run, coro).result()


class CompiledStateGraph:
    """A validated graph, ready to run. Made by :meth:`StateGraph.compile`."""

    def __init__(
        self,
        *,
        builder: StateGraph[Any],
        checkpointer: Any,
        interrupt_before: list[str],
        interrupt_after: list[str],
        name: str,
        debug: bool,
    ) -> None:
        self.builder = builder
        self.checkpointer = checkpointer
        self.interrupt_before_nodes = interrupt_before
        self.interrupt_after_nodes = interrupt_after
        self.name = name
        self.debug = debug
        self.stream_mode = "updates"

    def get_name(self) -> str:
        """The graph's name."""
        return self.name

    # --- stores -------------------------------------------------------------------------------

    @asynccontextmanager
    async def _store(self) -> AsyncIterator[EventStore]:
        from rewind.store import EventStore, open_store

        saver = self.checkpointer
        if isinstance(saver, EventStore):
            yield saver
            return
        store = await (saver.open_store() if saver is not None else open_store(None))
        try:
            yield store
        finally:
            await store.aclose()

    def _thread_id(self, config: dict[str, Any] | None) -> str | None:
        configurable = (config or {}).get("configurable") or {}
        thread_id = configurable.get("thread_id")
        if self.checkpointer is not None and thread_id is None:
            raise ValueError(
                f"Checkpointer requires one or more of the following 'configurable' keys: "
                f"{_THREAD_KEYS}"
            )
        return None if thread_id is None else str(thread_id)

    # --- invoke -------------------------------------------------------------------------------

    def invoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run the graph to the end (or an interrupt) and return its output state."""
        return run_sync(self.ainvoke(input, config, **kwargs))

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        durability: str | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end (or an interrupt) and return its output state."""
        config = dict(config or {})
        if context is not None:
            config["__rewind_context"] = context
        thread_id = self._thread_id(config)
        limit = int(config.get("recursion_limit", 25))
        async with self._store() as store:
            views = await self._thread_views(store, thread_id) if thread_id else []
            head = views[-1] if views else None
            run_id = str(config.get("run_id") or uuid.uuid4())
            loop = RunLoop(
                self,
                store=store,
                run_id=run_id,
                config=config,
                durability=durability or "async",
                recursion_limit=limit,
            )
            await loop.emit(
                run_started(
                    thread_id=thread_id or run_id,
                    graph=self.name,
                    origin_run_id=head.run_id if head else None,
                    origin_checkpoint_id=head.id if head else None,
                    extra={
                        "input": input,
                        "checkpointer": self.checkpointer is not None,
                        "python": sys.version.split()[0],
                    },
                )
            )
            if head is not None:
                loop.values.update(head.values)
                loop.barriers = {k: list(v) for k, v in head.barriers.items()}
                loop.step, loop.checkpoint_id = head.step, head.id
            try:
                if input is None:
                    tasks = [Task.from_description(d) for d in head.next] if head else []
                else:
                    loop.step = head.step + 1 if head else -1
                    tasks = [
                        Task(id="", name=START, path=(PULL, START), triggers=(START,), arg=input)
                    ]
                    # A new thread's reducer keys start empty ([] for a list), as LangGraph's do.
                    initial = [
                        [name, "value", value]
                        for name, value in loop.values.items()
                        if head is None and value is not MISSING
                    ]
                    await loop.checkpoint(source="input", changes=initial, tasks=tasks)
                await loop.run(tasks)
            except BaseException as exc:
                await loop.emit(
                    run_ended(
                        RunStatus.ERROR, error={"type": type(exc).__name__, "message": str(exc)}
                    )
                )
                await store.flush()
                raise
            await loop.emit(run_ended(RunStatus.SUCCESS))
            await store.flush()
            return self._output(loop.state())

    def _output(self, state: dict[str, Any]) -> Any:
        schema = self.builder.schemas.output
        if schema is self.builder.schemas.state:
            return state
        from rewind.runtime.pregel import _all_keys

        keys = _all_keys(schema)
        return {k: v for k, v in state.items() if k in keys}

    # --- state --------------------------------------------------------------------------------

    async def _thread_views(self, store: EventStore, thread_id: str) -> list[CheckpointView]:
        views: list[CheckpointView] = []
        for run in await store.list_runs(thread_id=thread_id, oldest_first=True):
            base = views[-1] if views else None
            events = await store.read(run.run_id)
            views += fold_checkpoints(
                events,
                base=base.values if base else None,
                base_barriers=base.barriers if base else None,
            )
        return views

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread at its newest checkpoint (or ``checkpoint_id``)."""
        return run_sync(self.aget_state(config, subgraphs=subgraphs))

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread at its newest checkpoint (or ``checkpoint_id``)."""
        if self.checkpointer is None:
            raise ValueError("No checkpointer set")
        thread_id = self._thread_id(config)
        assert thread_id is not None
        async with self._store() as store:
            views = await self._thread_views(store, thread_id)
        wanted = (config.get("configurable") or {}).get("checkpoint_id")
        if wanted is not None:
            views = [v for v in views if v.id == wanted]
        if not views:
            return StateSnapshot(
                values={},
                next=(),
                config=cast(Any, config),
                metadata=None,
                created_at=None,
                parent_config=None,
                tasks=(),
                interrupts=(),
            )
        by_id = {v.id: v for v in views}
        return self._snapshot(views[-1], thread_id, by_id)

    def get_state_history(self, config: dict[str, Any], **kwargs: Any) -> Iterator[StateSnapshot]:
        """Every checkpoint of a thread, newest first."""
        return iter(run_sync(self._history(config)))

    async def aget_state_history(
        self, config: dict[str, Any], **kwargs: Any
    ) -> AsyncIterator[StateSnapshot]:
        """Every checkpoint of a thread, newest first."""
        for snapshot in await self._history(config):
            yield snapshot

    async def _history(self, config: dict[str, Any]) -> list[StateSnapshot]:
        if self.checkpointer is None:
            raise ValueError("No checkpointer set")
        thread_id = self._thread_id(config)
        assert thread_id is not None
        async with self._store() as store:
            views = await self._thread_views(store, thread_id)
        by_id = {v.id: v for v in views}
        return [self._snapshot(v, thread_id, by_id) for v in reversed(views)]

    def _snapshot(
        self, view: CheckpointView, thread_id: str, by_id: dict[str, CheckpointView]
    ) -> StateSnapshot:
        def cfg(checkpoint_id: str | None) -> Any:
            return {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": "",
                    "checkpoint_id": checkpoint_id,
                }
            }

        tasks = tuple(
            PregelTask(
                id=t["id"],
                name=t["name"],
                path=tuple(t["path"]),
                error=cast(Any, view.errors.get(t["id"])),
                interrupts=(),
                state=None,
                result=view.results.get(t["id"]),
            )
            for t in view.next
        )
        values = {k: v for k, v in view.values.items() if v is not MISSING}
        return StateSnapshot(
            values=values,
            next=tuple(t["name"] for t in view.next),
            config=cfg(view.id),
            metadata=dict(view.metadata),
            created_at=view.ts.isoformat(),
            parent_config=cfg(view.parent_id) if view.parent_id in by_id else None,
            tasks=tasks,
            interrupts=(),
        )
