"""The runs' calls: every stream mode, interrupts, errors, queues, cancels and joins."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.server.reference.calls.base import HI, Call, Ctx, parts, registrar, sync_parts

THREAD_STREAM_WAIT = 10.0  # seconds a thread's stream may take to replay one finished run
CALLS: list[Call] = []
call = registrar(CALLS)


@call("runs.create")
async def create_run(c: Any, ctx: Ctx) -> Any:
    run = await c.runs.create(ctx["thread"], "chat", input=HI, metadata={"n": 1})
    ctx["run"] = run["run_id"]
    return run


@call("runs.join")
async def join_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.join(ctx["thread"], ctx["run"])


@call("runs.get")
async def get_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.get(ctx["thread"], ctx["run"])


@call("runs.list")
async def list_runs(c: Any, ctx: Ctx) -> Any:
    return await c.runs.list(ctx["thread"])


@call("runs.list", "status, select")
async def list_runs_select(c: Any, ctx: Ctx) -> Any:
    return await c.runs.list(ctx["thread"], status="success", select=["run_id", "status"])


@call("runs.stream")
async def stream_values(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(ctx["thread"], "chat", input=HI))


@call("runs.stream", "updates, custom, messages-tuple")
async def stream_modes(c: Any, ctx: Ctx) -> Any:
    modes = ["updates", "custom", "messages-tuple"]
    return await parts(c.runs.stream(ctx["thread"], "chat", input=HI, stream_mode=modes))


@call("runs.stream", "stateless, tokens, messages")
async def stream_tokens(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(None, "tokens", input=HI, stream_mode="messages"))


@call("runs.stream", "stateless, tokens, messages-tuple")
async def stream_token_tuples(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(None, "tokens", input=HI, stream_mode="messages-tuple"))


@call("runs.stream", "subgraphs")
async def stream_subgraphs(c: Any, ctx: Ctx) -> Any:
    stream = c.runs.stream(
        None, "nested", input=HI, stream_mode=["values", "updates"], stream_subgraphs=True
    )
    return await parts(stream)


@call("runs.stream", "debug")
async def stream_debug(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(ctx["thread"], "chat", input=HI, stream_mode="debug"))


@call("runs.stream", "tasks, checkpoints")
async def stream_tasks(c: Any, ctx: Ctx) -> Any:
    modes = ["tasks", "checkpoints"]
    return await parts(c.runs.stream(ctx["thread"], "chat", input=HI, stream_mode=modes))


@call("runs.stream", "stateless, checkpoints")
async def stream_stateless_checkpoints(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(None, "chat", input=HI, stream_mode="checkpoints"))


@call("runs.stream", "events")
async def stream_events(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(None, "chat", input=HI, stream_mode="events"))


@call("runs.stream", "version v2")
async def stream_v2(c: Any, ctx: Ctx) -> Any:
    stream = c.runs.stream(None, "chat", input=HI, stream_mode=["values"], version="v2")
    return await parts(stream)


@call("runs.stream", "error")
async def stream_error(c: Any, ctx: Ctx) -> Any:
    return await parts(c.runs.stream(None, "boom", input={"x": 1}))


@call("runs.stream", "interrupt")
async def stream_interrupt(c: Any, ctx: Ctx) -> Any:
    ctx["ask"] = (await c.threads.create())["thread_id"]
    return await parts(c.runs.stream(ctx["ask"], "ask", input=HI, stream_mode="updates"))


@call("threads.get", "interrupted")
async def get_interrupted_thread(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get(ctx["ask"])


@call("threads.get_state", "interrupted")
async def get_interrupted_state(c: Any, ctx: Ctx) -> Any:
    return await c.threads.get_state(ctx["ask"])


@call("runs.wait", "resume")
async def wait_resume(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(ctx["ask"], "ask", command={"resume": "yes"})


@call("threads.get_state", "subgraphs")
async def get_subgraph_state(c: Any, ctx: Ctx) -> Any:
    thread = (await c.threads.create())["thread_id"]
    await c.runs.wait(thread, "nested", input=HI, interrupt_before=["count"])
    return await c.threads.get_state(thread, subgraphs=True)


@call("runs.wait", "interrupt_before")
async def wait_interrupt_before(c: Any, ctx: Ctx) -> Any:
    thread = (await c.threads.create())["thread_id"]
    return await c.runs.wait(thread, "chat", input=HI, interrupt_before=["count"])


@call("runs.wait", "stateless")
async def wait_stateless(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(None, "chat", input=HI)


@call("runs.wait", "error", detail=True)
async def wait_error(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(None, "boom", input={"x": 1})


@call("runs.wait", "error, raise_error=False")
async def wait_error_quiet(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(None, "boom", input={"x": 1}, raise_error=False)


@call("runs.wait", "missing thread", detail=True)
async def wait_missing_thread(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(str(uuid.uuid4()), "chat", input=HI)


@call("runs.wait", "if_not_exists")
async def wait_if_not_exists(c: Any, ctx: Ctx) -> Any:
    return await c.runs.wait(str(uuid.uuid4()), "chat", input=HI, if_not_exists="create")


@call("runs.create", "unknown assistant", detail=True)
async def create_run_unknown(c: Any, ctx: Ctx) -> Any:
    return await c.runs.create(ctx["thread"], "nope", input=HI)


@call("runs.create", "slow")
async def create_slow_run(c: Any, ctx: Ctx) -> Any:
    ctx["slow"] = (await c.threads.create())["thread_id"]
    run = await c.runs.create(ctx["slow"], "slow", input={"seconds": 30})
    ctx["slow_run"] = run["run_id"]
    return run


@call("runs.create", "multitask reject", detail=True)
async def create_run_rejected(c: Any, ctx: Ctx) -> Any:
    return await c.runs.create(
        ctx["slow"], "slow", input={"seconds": 0}, multitask_strategy="reject"
    )


@call("runs.create", "multitask enqueue")
async def create_run_enqueued(c: Any, ctx: Ctx) -> Any:
    run = await c.runs.create(
        ctx["slow"], "slow", input={"seconds": 0}, multitask_strategy="enqueue"
    )
    ctx["queued_run"] = run["run_id"]
    return run


@call("runs.cancel")
async def cancel_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.cancel(ctx["slow"], ctx["slow_run"], wait=True)


@call("runs.get", "cancelled")
async def get_cancelled_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.get(ctx["slow"], ctx["slow_run"])


@call("runs.join", "queued")
async def join_queued_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.join(ctx["slow"], ctx["queued_run"])


@call("runs.cancel_many")
async def cancel_many(c: Any, ctx: Ctx) -> Any:
    run = await c.runs.create(ctx["slow"], "slow", input={"seconds": 30})
    ctx["many_run"] = run["run_id"]
    return await c.runs.cancel_many(thread_id=ctx["slow"], run_ids=[run["run_id"]])


@call("runs.join", "after cancel_many")
async def join_cancelled_many(c: Any, ctx: Ctx) -> Any:
    await asyncio.wait_for(c.runs.join(ctx["slow"], ctx["many_run"]), 20)
    return await c.runs.get(ctx["slow"], ctx["many_run"])


@call("runs.create_batch", unordered=["$"])
async def create_batch(c: Any, ctx: Ctx) -> Any:
    return await c.runs.create_batch(
        [
            {"assistant_id": "chat", "input": HI},
            {"assistant_id": "slow", "input": {"seconds": 0}},
        ]
    )


@call("runs.create", "stateless")
async def create_stateless_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.create(None, "chat", input=HI)


@call("runs.create", "stream_resumable")
async def create_resumable_run(c: Any, ctx: Ctx) -> Any:
    ctx["resumable"] = (await c.threads.create())["thread_id"]
    run = await c.runs.create(
        ctx["resumable"], "chat", input=HI, stream_mode=["values", "updates"], stream_resumable=True
    )
    ctx["resumable_run"] = run["run_id"]
    return run


@call("runs.join_stream", "from the start")
async def join_stream_replay(c: Any, ctx: Ctx) -> Any:
    stream = c.runs.join_stream(ctx["resumable"], ctx["resumable_run"], last_event_id="-")
    return await parts(stream)


@call("runs.join_stream", "ended run, no Last-Event-ID")
async def join_stream_ended(c: Any, ctx: Ctx) -> Any:
    await c.runs.join(ctx["resumable"], ctx["resumable_run"])
    return await parts(c.runs.join_stream(ctx["resumable"], ctx["resumable_run"]))


@call("threads.join_stream", "from the start")
async def join_thread_stream(c: Any, ctx: Ctx) -> Any:
    got: list[Any] = []

    async def follow() -> None:
        # The async client's join_stream is a coroutine that returns the stream.
        stream = await c.threads.join_stream(ctx["resumable"], last_event_id="-")
        async for part in stream:
            got.append([part.event, part.data])
            if part.event == "metadata" and part.data.get("status") == "run_done":
                return

    try:
        await asyncio.wait_for(follow(), THREAD_STREAM_WAIT)
    except TimeoutError:
        got.append(["<no run_done before the timeout>", None])
    return got


@call("threads.stream")
async def thread_stream(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="chat") as thread:
        started = await thread.run.start(input=HI)
        output = await thread.output.with_timeout(20)
    return {"run.start": started, "output": output}


@call("runs.delete")
async def delete_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.delete(ctx["thread"], ctx["run"])


@call("runs.get", "deleted")
async def get_deleted_run(c: Any, ctx: Ctx) -> Any:
    return await c.runs.get(ctx["thread"], ctx["run"])


@call("runs.stream", sync=True)
def sync_stream(c: Any, ctx: Ctx) -> Any:
    return sync_parts(c.runs.stream(None, "chat", input=HI, stream_mode="updates"))


@call("runs.create", sync=True)
def sync_create_run(c: Any, ctx: Ctx) -> Any:
    run = c.runs.create(ctx["sync_thread"], "chat", input=HI)
    ctx["sync_run"] = run["run_id"]
    return run


@call("runs.join", sync=True)
def sync_join(c: Any, ctx: Ctx) -> Any:
    return c.runs.join(ctx["sync_thread"], ctx["sync_run"])
