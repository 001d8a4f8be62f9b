"""``rewind tail`` follows runs that another process is making."""

from __future__ import annotations

import json
import queue
import threading

from tests.cli.conftest import Cli


def test_tail_sees_a_run_made_by_another_process(cli: Cli) -> None:
    cli.run("db", "upgrade").ok()  # the database exists before anyone follows it
    tail = cli.start("tail", "--all", "--json")
    try:
        assert tail.stderr is not None and tail.stdout is not None
        assert "following all runs" in tail.stderr.readline()
        made = cli.run("run", "graphs.py:approval", "--input", '{"draft": "owls"}').ok()
        run_id = made.run_id()
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in tail.stdout], daemon=True).start()
        seen: list[dict[str, object]] = []
        while not any(e["type"] == "run.ended" for e in seen):
            seen.append(json.loads(lines.get(timeout=20)))
    finally:
        tail.terminate()
        tail.communicate(timeout=10)
    assert {e["run_id"] for e in seen} == {run_id}
    assert [e["seq"] for e in seen] == list(range(len(seen)))  # every event, in order
    assert seen[0]["type"] == "run.started"
    assert seen[-1]["payload"] == {"status": "interrupted"}
    (asked,) = [e for e in seen if e["type"] == "interrupt"]
    assert asked["node"] == "review"
