"""A full disk: a size limit on the writer's files stands in for it (no mount needed). The
append that does not fit is refused with an error that says so; nothing acknowledged before is
lost; once there is room again the refused append, made again, gets in, and the file opens
whole afterwards."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from rewind import open_log

CHILD = Path(__file__).with_name("full_disk_child.py")


@pytest.mark.faults
@pytest.mark.parametrize("room", [64_000, 300_000])
async def test_a_full_disk_refuses_the_append_that_does_not_fit_and_loses_nothing(
    tmp_path: Path, room: int
) -> None:
    path = tmp_path / "full.db"
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(CHILD), str(path), str(room)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr
    lines = child.stdout.splitlines()
    refused = [line for line in lines if line.startswith("refused ")]
    assert len(refused) == 1, lines
    assert "LogError: could not commit to" in refused[0]
    assert "the disk may be full" in refused[0] and "append again" in refused[0]
    assert lines[-1] == "resumed", lines
    acknowledged = [int(line) for line in lines if line.isdigit()]
    assert acknowledged == list(range(1, len(acknowledged) + 1)) and len(acknowledged) > 2

    log = await open_log(path)
    try:
        events = await log.read("r")
        assert [e.seq for e in events] == list(range(len(acknowledged) + 1))  # gapless, all
        assert [e.payload["n"] for e in events[1:]] == acknowledged
        assert (await log.verify_chain("r")).ok
        print(f"FAULTS full disk ({room} bytes of room): acknowledged {len(acknowledged)}, lost 0")
    finally:
        await log.aclose()
