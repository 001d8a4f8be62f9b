"""rewind's flight recorder in one file: record a run, watch it live, replay it, check it.

python examples/quickstart.py [path/to/rewind.db]
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from langchain_core.messages import AIMessageChunk, HumanMessage

from rewind import EventType, NewEvent, RunStatus, open_store, run_ended, run_started


async def main(db: Path) -> None:
    store = await open_store(db)
    run_id, thread_id = str(uuid.uuid4()), "quickstart"

    async def watch() -> None:  # a live client: sees every event as it is committed
        async for event in store.subscribe(run_id=run_id):
            if event.type == EventType.CHAT_TOKEN:
                print(event.payload.content, end="", flush=True)
        print()

    seq = 0

    async def record(*events: NewEvent) -> None:
        nonlocal seq
        await store.append(run_id, list(events), expected_seq=seq)
        seq += len(events)

    await record(
        run_started(
            thread_id=thread_id,
            graph="quickstart",
            extra={"input": {"messages": [HumanMessage("hello")]}},
        )
    )
    watcher = asyncio.create_task(watch())
    await record(NewEvent(type=EventType.TASK_STARTED, step=1, node="agent"))
    for token in ["Hello", ",", " from", " the", " flight", " recorder", "."]:
        await record(
            NewEvent(
                type=EventType.CHAT_TOKEN,
                step=1,
                node="agent",
                payload=AIMessageChunk(content=token),
            )
        )
        await asyncio.sleep(0.05)  # a model streaming
    await record(
        NewEvent(
            type=EventType.TASK_ENDED,
            step=1,
            node="agent",
            payload={"messages": [AIMessageChunk(content="Hello, ...")]},
        )
    )
    await record(run_ended(RunStatus.SUCCESS))
    await watcher
    await store.flush()

    print(f"\nrecorded run {run_id} in {db.resolve()}")
    for event in await store.read(run_id):
        print(f"  #{event.position:<4} seq {event.seq:<3} {event.type:<13} {event.node or ''}")
    report = await store.verify_chain(run_id)
    print(f"hash chain: {'intact' if report.ok else report.reason} ({report.checked} events)")
    runs = await store.list_runs(thread_id=thread_id)
    print(f"thread {thread_id!r} has {len(runs)} run(s); run this again to add one")
    await store.aclose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "rewind.db")))
