"""Appends to a log until the file system refuses to grow it (a size limit on this process's
files stands in for a full disk): prints each durable seq, then the error that stopped it."""

from __future__ import annotations

import asyncio
import os
import resource
import sys

from rewind import NewEvent, open_log
from rewind.events import EventType, run_started


async def main(path: str, room: int) -> int:
    log = await open_log(path, durability="sync")
    await log.append("r", [run_started(thread_id="t", graph="g")], expected_seq=0)
    size = os.path.getsize(path) + os.path.getsize(path + "-wal")
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + room, resource.RLIM_INFINITY))
    seq = 1
    try:
        while True:
            event = NewEvent(type=EventType.CUSTOM, payload={"n": seq, "pad": "x" * 4000})
            await log.append("r", [event], expected_seq=seq)
            print(seq, flush=True)
            seq += 1
    except Exception as exc:  # what the writer is told
        print(f"refused {type(exc).__name__}: {exc}", flush=True)
    # Space returns: the refused append, made again, gets in.
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    try:
        await log.append("r", [event], expected_seq=seq)
        print(seq, flush=True)
        print("resumed", flush=True)
    except Exception as exc:
        print(f"not resumed {type(exc).__name__}: {exc}", flush=True)
    try:
        await log.aclose()
    except Exception as exc:
        print(f"close {type(exc).__name__}: {exc}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
