"""The runs list's feed on a real log: a run's start and end sent at once, its many events
coalesced (a message per second at most, not one per event), and the feed ending when the
server stops."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

from rewind.log import open_log
from rewind.ui.feed import _feed
from tests.ui.agents import talker


def _message(raw: bytes) -> dict[str, Any]:
    lines = raw.decode().strip().splitlines()
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert "event: runs" in lines
    return dict(json.loads(data[0]))


async def test_a_run_coalesced_into_few_messages(tmp_path: Path) -> None:
    log = await open_log(str(tmp_path / "feed.db"))
    stopping = False
    try:
        feed = _feed(log, await log.head(), lambda: stopping)
        assert await anext(feed) == b": following\n\n"
        graph = copy.copy(talker)
        graph.checkpointer = log
        question = {"messages": [{"role": "user", "content": "300 tokens at 300/s"}]}
        config = {"configurable": {"thread_id": "t"}}
        # (streamed, so that the model's tokens are recorded; a second long, so that the run
        # is surely running when its start is sent, however loaded the machine)
        ran = asyncio.create_task(graph.ainvoke(question, config, stream_mode="values"))
        messages = []
        while not messages or messages[-1]["runs"][-1]["live"]:
            messages.append(_message(await asyncio.wait_for(anext(feed), 20)))
        await ran
        rows = [r for m in messages for r in m["runs"]]
        assert {r["run_id"] for r in rows} == {rows[0]["run_id"]}
        assert rows[0]["status"] == "running" and rows[-1]["status"] == "success"
        assert rows[-1]["events"] > 300  # the run's every token, in a few messages:
        assert len(messages) <= 5
        stopping = True  # the server stops: the feed ends
        assert [m async for m in feed] == []
    finally:
        await log.aclose()
