"""rewind in one file: run a graph, watch its tokens live, replay it from the log, check it.

    python examples/quickstart.py [path/to/rewind.db]

The chat model is LangChain's offline fake, so no key and no network are needed.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk

from rewind import open_log, replay
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph
from rewind.graph.message import add_messages


class State(TypedDict, total=False):
    messages: Annotated[list[Any], add_messages]


def build(saver: SqliteSaver) -> Any:
    model = GenericFakeChatModel(
        messages=iter(
            [AIMessage("Hello from the flight recorder: every token of this answer is in the log.")]
        )
    )

    def agent(state: State) -> dict[str, Any]:
        get_stream_writer()({"status": "thinking"})
        return {"messages": [model.invoke(state["messages"])]}

    g = StateGraph(State)
    g.add_node("agent", agent)
    g.add_edge(START, "agent")
    g.add_edge("agent", END)
    return g.compile(checkpointer=saver)


def main(db: Path) -> None:
    thread = f"quickstart-{uuid.uuid4().hex[:8]}"
    config = {"configurable": {"thread_id": thread}}
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = build(saver)
        print("live (tokens as the model streams them):")
        for mode, chunk in graph.stream(
            {"messages": [("user", "hi")]}, config, stream_mode=["messages", "custom"]
        ):
            if mode == "messages" and isinstance(chunk[0], AIMessageChunk):
                print(chunk[0].content, end="", flush=True)
        print()
        history = list(graph.get_state_history(config))

    log = asyncio.run(open_log(db))
    try:
        (run,) = asyncio.run(log.list_runs(thread_id=thread))
        print(f"\nreplayed from the log in another mode (run {run.run_id}):")
        for update in replay(log, run.run_id, stream_mode="updates"):
            print(" ", update)
        report = asyncio.run(log.verify_chain(run.run_id))
        print(f"hash chain: {'intact' if report.ok else report.reason} ({report.checked} events)")
        print(f"checkpoints on thread {thread!r}: {len(history)}")
    finally:
        asyncio.run(log.aclose())
    print(
        f"\nthe log is in {db.resolve()}; replay any run with rewind.replay(log, run_id, "
        "stream_mode=...), or check it with `rewind --db PATH db verify`"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "rewind.db"))
