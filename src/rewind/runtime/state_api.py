"""A compiled graph's state methods: ``get_state``, ``get_state_history`` and the snapshots they
show, read from a thread's head (or any checkpoint's nearest snapshot) and the events after it
(:mod:`rewind.thread_state`), as LangGraph's checkpointer gives them back (:mod:`.read_back`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, cast

from rewind.projections.state import CheckpointView
from rewind.runtime.channels import MISSING
from rewind.runtime.graph import START
from rewind.runtime.loops import run_sync
from rewind.runtime.read_back import checkpointed, read_back_with
from rewind.runtime.remote_states import remote_nodes, remote_states, task_namespace
from rewind.runtime.shapes import coerce
from rewind.thread_state import ReadBack, ThreadState, history, read_checkpoint, read_head
from rewind.types import PregelTask, StateSnapshot

if TYPE_CHECKING:
    from rewind.log import EventLog
    from rewind.runtime.graph import StateGraph

__all__ = ["StateMethods", "checkpoint_state"]


class StateMethods:
    """The state methods of :class:`~rewind.runtime.compiled.CompiledStateGraph` (a mixin)."""

    builder: StateGraph[Any]
    checkpointer: Any

    def _event_log(self) -> AbstractAsyncContextManager[EventLog]:
        raise NotImplementedError

    def _thread_id(self, config: dict[str, Any] | None) -> str | None:
        raise NotImplementedError

    def _in_schema_order(self, values: dict[str, Any], *, own: bool = True) -> dict[str, Any]:
        """The state's keys in the schema's order, as LangGraph shows them: ``own``, its own
        channels only (a thread another graph ran keeps that graph's keys, for it), a
        reducer key the checkpoint lacks (another graph's) as its empty value; else (a
        subgraph's state) every key it has, those of this schema first."""
        present = {k: v for k, v in values.items() if v is not MISSING}
        out = {}
        for key, channel in self.builder.channels.items():
            value = present.get(key, MISSING)
            if value is MISSING and own:
                value = channel.initial()
            if value is not MISSING:
                out[key] = value
        if not own:
            out.update((k, v) for k, v in present.items() if k not in out)
        return out

    def _shown_state(self, values: dict[str, Any]) -> Any:
        """The state as a snapshot shows it (the whole state; an entrypoint's, its output)."""
        return values

    def _own_result(self, task: dict[str, Any], result: Any) -> Any:
        """A task's result as this graph shows it: an input's writes (``__start__``'s) to
        its own keys only (the input may be another graph's, on the thread)."""
        if task["name"] != START or not isinstance(result, dict):
            return result
        return {k: v for k, v in result.items() if k in self.builder.channels}

    def _with_writes(
        self, values: dict[str, Any], tasks: list[dict[str, Any]], view: CheckpointView
    ) -> dict[str, Any]:
        out = dict(values)
        channels = self.builder.channels
        grouped: dict[str, list[Any]] = {}
        for task in tasks:
            for name, written in view.writes[task["id"]].items():
                grouped.setdefault(name, []).extend(written)
        for name, writes in grouped.items():
            if name in channels:
                out[name] = channels[name].apply(out.get(name, MISSING), writes)
        return out

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread at its newest checkpoint (or ``checkpoint_id``)."""
        return run_sync(self.aget_state(config, subgraphs=subgraphs))

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The state of a thread at its newest checkpoint (or ``checkpoint_id``)."""
        if self.checkpointer is None:
            raise ValueError("No checkpointer set")
        thread_id = self._thread_id(config)
        assert thread_id is not None
        wanted = (config.get("configurable") or {}).get("checkpoint_id")
        read_back = read_back_with(self.checkpointer)
        async with self._event_log() as event_log:
            if wanted is None:
                state: ThreadState | None = await read_head(
                    event_log, thread_id, read_back=read_back
                )
            else:
                state = await checkpoint_state(event_log, thread_id, wanted, read_back=read_back)
        view = state.view if state is not None else None
        if state is None or view is None:
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
        nested = self._subgraph_states(state, thread_id, view) if subgraphs else {}
        if subgraphs:  # (a RemoteGraph node's task: the remote thread's state, as LangGraph's)
            nested.update(await remote_states(self, view, thread_id))
        self._validate_next(view)
        # As LangGraph: the newest checkpoint shows its finished tasks' writes; an explicitly
        # requested one shows the state as it was written.
        return self._snapshot(view, thread_id, pending_writes=wanted is None, nested=nested)

    def _validate_next(self, view: CheckpointView) -> None:
        """As LangGraph's get_state: a pydantic state that no longer validates raises, since
        the next tasks' input could not be built from it."""
        schema = self.builder.schemas.state
        if not hasattr(schema, "__pydantic_fields__"):
            return
        for task in view.next:
            if task["name"] in self.builder.nodes and "arg" not in task:
                values = {k: v for k, v in view.values.items() if v is not MISSING}
                try:
                    coerce(schema, values, schema)
                except Exception as exc:
                    exc.add_note(
                        f"Before task with name '{task['name']}' and path '{tuple(task['path'])}'"
                    )
                    raise
                return

    def _subgraph_states(
        self, state: ThreadState, thread_id: str, view: CheckpointView, ns: str = ""
    ) -> dict[str, StateSnapshot]:
        """Snapshots of the subgraphs that pending tasks of ``view`` are stopped in (their
        checkpoints are among the events after the root checkpoint ``state`` read)."""
        out: dict[str, StateSnapshot] = {}
        for task in view.next:
            child_ns = view.subgraphs.get(task["id"])
            if child_ns is None or task["id"] in view.results:
                continue
            child_views = state.views_at(child_ns)
            if not child_views:
                continue
            head = child_views[-1]
            deeper = self._subgraph_states(state, thread_id, head, child_ns)
            out[task["id"]] = self._snapshot(head, thread_id, ns=child_ns, nested=deeper)
        return out

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """A thread's checkpoints, newest first (``filter``: metadata to match; ``before``: a
        config whose ``checkpoint_id`` they precede; ``limit``: at most this many)."""
        return iter(run_sync(self._history(config, filter=filter, before=before, limit=limit)))

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """A thread's checkpoints, newest first, read as they are yielded (see
        :meth:`get_state_history`)."""
        if self.checkpointer is None:
            raise ValueError("No checkpointer set")
        thread_id = self._thread_id(config)
        assert thread_id is not None
        earlier = ((before or {}).get("configurable") or {}).get("checkpoint_id")
        wanted = (config.get("configurable") or {}).get("checkpoint_id")
        read_back = read_back_with(self.checkpointer)
        async with self._event_log() as event_log:
            if wanted:  # as LangGraph's savers list a config naming one: that one alone
                found = await checkpoint_state(event_log, thread_id, wanted, read_back=read_back)
                view = found.view if found is not None else None
                if view is not None and limit != 0 and _matches(view, filter):
                    self._validate_next(view)
                    yield self._snapshot(view, thread_id)
                return
            views = history(
                event_log,
                thread_id,
                before=earlier,
                limit=limit,
                metadata=filter,
                read_back=read_back,
            )
            async for view in views:
                self._validate_next(view)
                yield self._snapshot(view, thread_id)

    async def _history(self, config: dict[str, Any], **kwargs: Any) -> list[StateSnapshot]:
        return [snapshot async for snapshot in self.aget_state_history(config, **kwargs)]

    def _snapshot(
        self,
        view: CheckpointView,
        thread_id: str,
        *,
        ns: str = "",
        pending_writes: bool = False,
        nested: dict[str, StateSnapshot] | None = None,
    ) -> StateSnapshot:
        nested = nested or {}

        def cfg_ns(child_ns: str) -> Any:
            return {"configurable": {"thread_id": thread_id, "checkpoint_ns": child_ns}}

        def cfg(checkpoint_id: str | None) -> Any:
            configurable: dict[str, Any] = {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
            }
            if ns:  # where every enclosing graph is, as LangGraph's checkpoint_map
                configurable["checkpoint_map"] = {
                    **view.metadata.get("parents", {}),
                    ns: checkpoint_id,
                }
            return {"configurable": configurable}

        remotes = {} if ns else remote_nodes(self)

        def state_of(task_id: str, name: str) -> Any:
            if task_id in nested:
                return nested[task_id]
            if name in remotes:  # (LangGraph counts a RemoteGraph node as a subgraph)
                return cfg_ns(task_namespace(ns, name, task_id))
            return cfg_ns(view.subgraphs[task_id]) if task_id in view.subgraphs else None

        # (a checkpoint another graph wrote on the thread lists its nodes: not this graph's
        # tasks, as LangGraph's, and its input's writes to keys of this graph's only)
        listed = [
            t for t in view.next if ns or t["name"] in self.builder.nodes or t["name"] == START
        ]
        tasks = tuple(
            PregelTask(
                id=t["id"],
                name=t["name"],
                path=tuple(t["path"]),
                error=cast(Any, view.errors.get(t["id"])),
                interrupts=tuple(view.interrupts.get(t["id"], ())),
                state=state_of(t["id"], t["name"]),
                result=view.results.get(t["id"])
                if ns
                else self._own_result(t, view.results.get(t["id"])),
            )
            for t in listed
        )
        pending = tuple(i for task_id in view.interrupted_order for i in view.interrupts[task_id])
        values = self._in_schema_order(view.values, own=not ns)
        next_names = tuple(t["name"] for t in listed)
        done = [t for t in listed if t["id"] in view.writes]
        if pending_writes and done:
            # As LangGraph's get_state: the writes of tasks that finished from the newest
            # checkpoint (siblings of a failed or interrupted task) show in its values.
            values = self._with_writes(values, sorted(done, key=_path_key), view)
            next_names = tuple(t["name"] for t in listed if t["id"] not in view.writes)
        return StateSnapshot(
            values=self._shown_state(values),
            next=next_names,
            config=cfg(view.id),
            metadata=dict(view.metadata),
            created_at=view.ts.isoformat(),
            parent_config=cfg(view.parent_id) if view.parent_id else None,
            tasks=tasks,
            interrupts=pending,
        )


def _path_key(task: dict[str, Any]) -> str:
    return "~".join(str(p) for p in task["path"][:3])


def _matches(view: CheckpointView, filter: dict[str, Any] | None) -> bool:
    """Whether a checkpoint's metadata has every key/value of ``filter``."""
    return all(view.metadata.get(k) == v for k, v in (filter or {}).items())


async def checkpoint_state(
    event_log: EventLog,
    thread_id: str,
    checkpoint_id: str,
    *,
    read_back: ReadBack | None = checkpointed,
) -> ThreadState | None:
    """A root checkpoint of the thread by id (``None`` when the thread has none by that id), as
    the checkpointer gives it back (``read_back``: the graph's; LangGraph's default serializer's
    when not given)."""
    return await read_checkpoint(event_log, checkpoint_id, thread_id=thread_id, read_back=read_back)
