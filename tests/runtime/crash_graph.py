"""A graph killed mid-run by tests/runtime/test_crash_resume.py (run as a child process).

    python crash_graph.py DB_PATH THREAD_ID EXECUTIONS_FILE

Each node appends its name to EXECUTIONS_FILE when it runs, so the test can count executions
across the killed process and the one that resumes.
"""

from __future__ import annotations

import operator
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def node(name: str, delay: float, executions: Path) -> Any:
    def run(state: State) -> dict[str, Any]:
        with executions.open("a") as fh:
            fh.write(name + "\n")
        time.sleep(delay)
        return {"log": [name]}

    run.__name__ = name
    return run


def build(db: str, executions: Path) -> Any:
    g = StateGraph(State)
    for name in ("n1", "n2", "n3"):
        g.add_node(name, node(name, 0.05, executions))
    g.add_node("fast", node("fast", 0.01, executions))
    g.add_node("slow", node("slow", 0.3, executions))
    for name in ("n4", "n5", "n6"):
        g.add_node(name, node(name, 0.05, executions))
    g.add_edge(START, "n1")
    g.add_edge("n1", "n2")
    g.add_edge("n2", "n3")
    g.add_edge("n3", "fast")
    g.add_edge("n3", "slow")
    g.add_edge(["fast", "slow"], "n4")
    g.add_edge("n4", "n5")
    g.add_edge("n5", "n6")
    g.add_edge("n6", END)
    return g.compile(checkpointer=SqliteSaver.from_conn_string(db).__enter__())


if __name__ == "__main__":
    db, thread, executions = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    graph = build(db, executions)
    config = {"configurable": {"thread_id": thread}}
    resume = len(sys.argv) > 4 and sys.argv[4] == "resume"
    durability = os.environ.get("REWIND_TEST_DURABILITY", "sync")
    if resume and not graph.get_state(config).values:  # nothing of the killed run was durable:
        resume = False  # the user submits the input again
    result = graph.invoke(None if resume else {"log": []}, config, durability=durability)
    print(",".join(result["log"]), flush=True)
