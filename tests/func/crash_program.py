"""A functional workflow killed mid-run by tests/func/test_resume.py (run as a child process).

    python crash_program.py DB_PATH THREAD_ID EXECUTIONS_FILE [resume]

Each task appends its name to EXECUTIONS_FILE when its body runs, so the test can count
executions across the killed process and the one that resumes. Killed, ``second`` hangs until
the test kills the process; resumed, it finishes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rewind.checkpoint.sqlite import SqliteSaver
from rewind.func import entrypoint, task


def build(db: str, executions: Path, *, resuming: bool) -> object:
    @task
    def first(number: int) -> int:
        with executions.open("a") as fh:
            fh.write("first\n")
        return number + 1

    @task
    def second(number: int) -> int:
        with executions.open("a") as fh:
            fh.write("second\n")
        if not resuming:
            time.sleep(60)  # killed meanwhile
        return number * 10

    @entrypoint(checkpointer=SqliteSaver.from_conn_string(db).__enter__())
    def workflow(number: int) -> list[int]:
        a = first(number).result()
        return [a, second(a).result()]

    return workflow


if __name__ == "__main__":
    db, thread, executions = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    resuming = len(sys.argv) > 4 and sys.argv[4] == "resume"
    graph = build(db, executions, resuming=resuming)
    config = {"configurable": {"thread_id": thread}}
    result = graph.invoke(None if resuming else 1, config)  # type: ignore[attr-defined]
    print(result, flush=True)
