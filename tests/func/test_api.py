"""The functional API's surface: what functions are given, what their calls return, how they run
together, and LangGraph's errors for bad use (nothing partial left in the log)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rewind import open_log
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.events import EventType, RunStatus
from rewind.func import entrypoint, task
from rewind.runtime.calls import SyncAsyncFuture
from rewind.types import CachePolicy, StreamWriter, TimeoutPolicy

CONFIG = {"configurable": {"thread_id": "t"}}


class Unstorable:
    """A value the log cannot hold (nor LangGraph's checkpointer)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


@task
def add_one(number: int) -> int:
    return number + 1


def test_a_task_called_outside_an_entrypoint_fails_as_in_langgraph() -> None:
    with pytest.raises(RuntimeError, match=r"^Called get_config outside of a runnable context$"):
        add_one(1)


def test_the_decorators_refuse_what_langgraph_refuses() -> None:
    with pytest.raises(NotImplementedError, match="Generators are not supported"):

        @entrypoint()
        def generator(x: int) -> Any:
            yield x

    with pytest.raises(ValueError, match=r"^Entrypoint function must have at least one parameter$"):

        @entrypoint()
        def nothing() -> None:
            return None

    with pytest.raises(TypeError, match=r"Too few arguments for .*entrypoint\.final"):
        entrypoint.final[int]  # type: ignore[type-arg]  # as a return annotation spells it


def test_entrypoint_final_needs_both_values() -> None:
    @entrypoint()
    def workflow(x: int) -> Any:
        return entrypoint.final(value=x)  # type: ignore[call-arg]

    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'save'") as e:
        workflow.invoke(1)
    assert e.value.__notes__[0].startswith("During task with name 'workflow' and id ")


def test_a_timeout_is_refused_on_a_sync_task_and_kept_on_an_async_one() -> None:
    with pytest.raises(ValueError, match="Task 'work' is sync"):

        @task(timeout=1.0)
        def work(x: int) -> int:
            return x

    @task(timeout=1.0)
    async def awork(x: int) -> int:
        return x

    assert awork.timeout == TimeoutPolicy(run_timeout=1.0)


def test_a_cache_policy_without_a_cache_is_accepted() -> None:
    # A cache policy without a cache caches nothing, on LangGraph too: accepted.
    cached = task(cache_policy=CachePolicy())(lambda x: x)
    assert cached.cache_policy is not None


@pytest.mark.parametrize("where", ["task", "entrypoint"])
def test_an_unstorable_result_fails_the_run_with_langgraphs_error(
    tmp_path: Path, where: str
) -> None:
    @task
    def make() -> Any:
        return Unstorable()

    @entrypoint(checkpointer=SqliteSaver.from_conn_string(str(tmp_path / "x.db")).__enter__())
    def workflow(x: int) -> Any:
        return make().result() if where == "task" else Unstorable()

    with pytest.raises(TypeError) as raised:
        workflow.invoke(1, CONFIG)
    assert str(raised.value) == "Type is not msgpack serializable: Unstorable"
    assert not getattr(raised.value, "__notes__", None)

    async def check() -> None:
        log = await open_log(tmp_path / "x.db")
        try:
            (run,) = await log.list_runs()
            events = await log.read(run.run_id)
        finally:
            await log.aclose()
        assert run.status == RunStatus.ERROR
        assert not [e for e in events if e.type == EventType.TASK_ENDED]  # nothing partial
        assert [e.type for e in events if e.type == EventType.CHECKPOINT] == ["checkpoint"]

    asyncio.run(check())


def test_without_a_checkpointer_nothing_needs_storing() -> None:
    @task
    def make() -> Any:
        return Unstorable()

    @entrypoint()
    def workflow(x: int) -> str:
        return type(make().result()).__name__

    assert workflow.invoke(1) == "Unstorable"
    with pytest.raises(ValueError, match="No checkpointer set"):
        workflow.get_state(CONFIG)


def test_async_functions_need_the_async_api_as_in_langgraph() -> None:
    @task
    async def async_task(x: int) -> int:
        return x

    @entrypoint()
    def sync_workflow(x: int) -> int:
        return int(async_task(x).result())

    @entrypoint()
    async def async_workflow(x: int) -> int:
        return x

    with pytest.raises(RuntimeError, match=r"^In an sync context async tasks cannot be called"):
        sync_workflow.invoke(1)
    with pytest.raises(TypeError, match='No synchronous function provided to "async_workflow"'):
        async_workflow.invoke(1)
    assert asyncio.run(sync_workflow.ainvoke(2)) == 2  # an async task from sync code, async API


def test_functions_get_what_they_ask_for() -> None:
    seen: dict[str, Any] = {}

    @task
    def inner(x: int, config: dict[str, Any]) -> int:
        seen["task_ns"] = config["configurable"]["checkpoint_ns"]
        seen["task_node"] = config["metadata"]["langgraph_node"]
        return x

    @entrypoint(checkpointer=InMemorySaver(), context_schema=dict)
    def workflow(
        x: int,
        *,
        config: dict[str, Any],
        writer: StreamWriter,
        runtime: Any,
        store: Any,
        previous: Any,
    ) -> int:
        seen.update(context=runtime.context, store=store, previous=previous)
        seen["ns"] = config["configurable"]["checkpoint_ns"]
        writer("hello")
        return int(inner(x).result()) + (previous or 0)

    chunks = list(workflow.stream(1, CONFIG, stream_mode="custom", context={"user": "ann"}))
    assert chunks == ["hello"]
    assert seen["context"] == {"user": "ann"} and seen["store"] is None
    assert seen["previous"] is None
    assert seen["ns"].startswith("workflow:")
    assert seen["task_ns"].startswith(seen["ns"] + "|inner:")  # nested in its caller's
    assert seen["task_node"] == "inner"
    assert workflow.invoke(1, CONFIG) == 2  # previous: the last run's return
    assert seen["previous"] == 1


def test_calls_return_futures_and_run_in_parallel() -> None:
    @task
    def slow(x: int) -> int:
        time.sleep(0.2)
        return x

    @task
    async def aslow(x: int) -> int:
        await asyncio.sleep(0.2)
        return x

    kinds: list[type] = []

    @entrypoint()
    def sync_workflow(n: int) -> list[int]:
        futures = [slow(i) for i in range(n)]
        kinds.append(type(futures[0]))
        return [f.result() for f in futures]

    @entrypoint()
    async def async_workflow(n: int) -> list[int]:
        futures = [aslow(i) for i in range(n)]
        kinds.append(type(futures[0]))
        return list(await asyncio.gather(*futures))

    start = time.monotonic()
    assert sync_workflow.invoke(4) == [0, 1, 2, 3]
    assert asyncio.run(async_workflow.ainvoke(4)) == [0, 1, 2, 3]
    assert time.monotonic() - start < 0.75  # 2 x 0.2 s, not 8 x 0.2 s
    assert issubclass(kinds[0], SyncAsyncFuture)
    assert issubclass(kinds[1], asyncio.Future)


def test_a_failed_call_raises_in_its_caller_with_both_tasks_noted() -> None:
    @task
    def boom(x: int) -> int:
        raise ValueError(f"boom {x}")

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(x: int) -> int:
        return int(boom(x).result())

    with pytest.raises(ValueError, match="boom 1") as raised:
        workflow.invoke(1, CONFIG)
    notes = raised.value.__notes__
    assert [n.split(" and id ")[0] for n in notes] == [
        "During task with name 'boom'",
        "During task with name 'workflow'",
    ]
    (failed,) = workflow.get_state(CONFIG).tasks
    assert failed.name == "workflow" and failed.error == "ValueError('boom 1')"


def test_update_state_writes_the_output_as_if_returned() -> None:
    """As LangGraph's (the update is made as the entrypoint's only node): the output and the
    value saved for the next run; nothing left to run, even from an interrupt."""
    from rewind.types import interrupt

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(x: int, *, previous: Any = None) -> list[Any]:
        if x < 0:
            return [interrupt("why negative?")]
        return [x, previous]

    workflow.invoke(1, CONFIG)
    workflow.update_state(CONFIG, 99)
    state = workflow.get_state(CONFIG)
    assert (state.values, state.next, state.metadata["source"]) == (99, (), "update")
    assert workflow.invoke(2, CONFIG) == [2, 99]
    workflow.invoke(-1, CONFIG)
    workflow.update_state(CONFIG, entrypoint.final(value="patched", save=0))
    state = workflow.get_state(CONFIG)
    assert (state.values, state.next, state.tasks) == ("patched", (), ())
    assert workflow.invoke(3, CONFIG) == [3, 0]
