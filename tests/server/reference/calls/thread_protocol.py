"""The thread protocol's calls (``client.threads.stream``): the events each graph makes, an
interrupt answered, a failed run, and the commands' errors (an error the SDK raises is
returned as ``{"raised": message}``).

An event's ``event_id`` is compared when the session makes it up (``synth:{run_id}:...``); one
made from the run's stream names a place in each server's own store, so it is compared as
``<stream id>``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.server.reference.calls.base import HI, Call, Ctx, registrar

WAIT = 20.0  # seconds a run may take to reach its end (a deadline)
CALLS: list[Call] = []
call = registrar(CALLS)


def _shown(event: dict[str, Any]) -> dict[str, Any]:
    event_id = str(event.get("event_id"))
    return {**event, "event_id": event_id if event_id.startswith("synth:") else "<stream id>"}


def _root_end(event: dict[str, Any]) -> bool:
    params = event.get("params") or {}
    phase = (params.get("data") or {}).get("event")
    return (
        event.get("method") == "lifecycle"
        and not params.get("namespace")
        and phase in ("completed", "failed", "interrupted")
    )


async def _until_end(subscription: Any) -> list[dict[str, Any]]:
    """A subscription's events up to its run's end."""
    got: list[dict[str, Any]] = []

    async def read() -> None:
        async for event in subscription:
            got.append(_shown(event))
            if _root_end(event):
                return

    await asyncio.wait_for(read(), WAIT)
    return got


async def _interrupted(thread: Any) -> None:
    for _ in range(int(WAIT / 0.02)):
        if thread.interrupted:
            return
        await asyncio.sleep(0.02)


async def _events_of_a_run(c: Any, transport: str) -> Any:
    async with c.threads.stream(assistant_id="chat", transport=transport) as thread:
        subscription = thread.subscribe(["lifecycle", "values", "messages", "input", "updates"])
        started = await thread.run.start(input=HI, metadata={"via": "protocol"})
        events = await _until_end(subscription)
        output = await thread.output.with_timeout(WAIT)
    run = await c.runs.get(thread.thread_id, started["run_id"])
    return {"events": events, "output": output, "run metadata": run["metadata"]}


@call("threads.stream", "events")
async def stream_events(c: Any, ctx: Ctx) -> Any:
    return await _events_of_a_run(c, "sse")


@call("threads.stream", "events, websocket")
async def stream_events_over_a_socket(c: Any, ctx: Ctx) -> Any:
    return await _events_of_a_run(c, "websocket")


@call("threads.stream", "interrupt, respond")
async def stream_interrupt(c: Any, ctx: Ctx) -> Any:
    # (the SDK ends its subscriptions when the run stops at the interrupt: when that is
    # depends on its own lifecycle stream, so the events are compared by "subgraph" and
    # "events", and here what the thread shows)
    async with c.threads.stream(assistant_id="ask") as thread:
        await thread.run.start(input=HI)
        await _interrupted(thread)
        interrupts = list(thread.interrupts)
        responded = await thread.run.respond("yes")
        output = await thread.output.with_timeout(WAIT)
    return {"interrupts": interrupts, "respond": responded, "output": output}


@call("threads.stream", "subgraph")
async def stream_subgraph(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="nested") as thread:
        subscription = thread.subscribe(["lifecycle", "values"])
        await thread.run.start(input=HI)
        return await _until_end(subscription)


@call("threads.stream", "tokens, messages")
async def stream_tokens(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="tokens") as thread:
        subscription = thread.subscribe(["messages", "lifecycle"])
        await thread.run.start(input=HI)
        return await _until_end(subscription)


@call("threads.stream", "failed run")
async def stream_failed(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="boom") as thread:
        subscription = thread.subscribe(["lifecycle", "values"])
        await thread.run.start(input={})
        events = await _until_end(subscription)
        try:
            await thread.output.with_timeout(WAIT)
        except RuntimeError as exc:  # the run's error
            return {"events": events, "raised": str(exc)}
    return {"events": events, "raised": None}


@call("threads.stream", "unknown assistant")
async def stream_unknown(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="nope") as thread:
        try:
            return await thread.run.start(input=HI)
        except RuntimeError as exc:  # the command's error
            return {"raised": str(exc)}


@call("threads.stream", "unknown interrupt")
async def stream_unknown_interrupt(c: Any, ctx: Ctx) -> Any:
    async with c.threads.stream(assistant_id="ask") as thread:
        await thread.run.start(input=HI)
        await _interrupted(thread)
        thread.interrupts.append({"interrupt_id": "nope", "value": None, "namespace": []})
        try:
            return await thread.run.respond("yes", interrupt_id="nope")
        except RuntimeError as exc:  # the command's error
            return {"raised": str(exc)}


@call("threads.stream", "sync", sync=True)
def sync_stream(c: Any, ctx: Ctx) -> Any:
    with c.threads.stream(assistant_id="chat") as thread:
        started = thread.run.start(input=HI)
        return {"run.start": started, "output": thread.output}
