"""Time per streamed chat-model token: rewind against LangGraph, in one process.

One graph of one node that calls a chat model (LangChain's ``GenericFakeChatModel``, which
streams its reply word by word: a word, then the space after it, each a token) and returns its
reply; consumed with ``graph.stream(input, config, stream_mode="messages")`` as a UI would,
every chunk taken. Two replies: ``long`` (about 1,000 tokens) and ``short`` (1 token).

Configurations, every stream on a new ``thread_id``:

* rewind, ``SqliteSaver`` on a file, default durability: every token goes to the durable log
  (checked at the end: the last run's log holds each token as an event);
* rewind, ``InMemorySaver`` (for reference);
* LangGraph, ``InMemorySaver`` -- the goal's peer -- and ``SqliteSaver`` on a file.

The configurations take turns stream by stream, in rounds (each in another order), after a
warm-up. Figures (medians):

* µs per token: the ``long`` stream's time divided by its tokens (the fixed cost of a run
  included, as a user sees it); goal: rewind ``SqliteSaver`` <= 1.0x LangGraph ``InMemorySaver``;
* the marginal µs per token: ``(long - short) / (tokens - 1)`` (a run's fixed cost excluded);
* ``tagged``: µs per token of the ``long`` reply from a model that tags each chunk as a
  provider's does (ChatOpenAI's ``response_metadata={"model_provider": "openai"}``), what most
  users' models stream (no goal of its own).

    python bench/tokens.py [--tokens 1000] [--streams 40] [--rounds 4] [--quick]
        [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LangGraphStateGraph

from rewind import open_log
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.events import EventType
from rewind.graph import END, START, StateGraph
from summary import Row, write_rows

GOAL = 1.0
"""rewind SqliteSaver's µs per token over LangGraph InMemorySaver's, at most."""


class State(TypedDict, total=False):
    prompt: str
    reply: BaseMessage


class TaggedChat(BaseChatModel):
    """Streams its reply as ``GenericFakeChatModel`` does (a word, then the space after it),
    each chunk tagged as a provider's chat model tags it (ChatOpenAI:
    ``response_metadata={"model_provider": "openai"}``) and with the provider's message id."""

    reply: str

    @property
    def _llm_type(self) -> str:
        return "tagged"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        raise NotImplementedError("streamed only")

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        for token in re.split(r"(\s)", self.reply):
            if token:
                yield ChatGenerationChunk(
                    message=AIMessageChunk(
                        content=token,
                        id="chatcmpl-1",
                        response_metadata={"model_provider": "openai"},
                    )
                )


def build(state_graph: Any, start: str, end: str, words: int, *, tagged: bool = False) -> Any:
    reply = AIMessage(content=" ".join(f"w{i}" for i in range(words)))

    def chat(state: State) -> dict[str, Any]:
        if tagged:
            model: BaseChatModel = TaggedChat(reply=str(reply.content))
        else:
            model = GenericFakeChatModel(messages=iter([reply]))
        return {"reply": model.invoke(state["prompt"])}

    builder = state_graph(State)
    builder.add_node("chat", chat)
    builder.add_edge(start, "chat")
    builder.add_edge("chat", end)
    return builder


@dataclass
class Config:
    name: str
    library: str
    open: Callable[[], contextlib.AbstractContextManager[Any]]
    graphs: dict[str, Any] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    last_thread: dict[str, str] = field(default_factory=dict)

    def stream(self, kind: str) -> float:
        """Seconds for one whole ``messages`` stream of graph ``kind`` on a new thread."""
        thread_id = self.last_thread[kind] = uuid.uuid4().hex
        config = {"configurable": {"thread_id": thread_id}}
        start = time.perf_counter()
        n = sum(
            1 for _ in self.graphs[kind].stream({"prompt": "go"}, config, stream_mode="messages")
        )
        elapsed = time.perf_counter() - start
        # The node's returned message is not streamed again: only the model's tokens.
        if self.tokens.setdefault(kind, n) != n:
            raise RuntimeError(f"{self.name} {kind}: {n} chunks, earlier {self.tokens[kind]}")
        return elapsed


def configs(tmp: Path) -> list[Config]:
    @contextlib.contextmanager
    def made(factory: Callable[[], Any]) -> Iterator[Any]:
        yield factory()

    return [
        Config(
            "rewind SqliteSaver",
            "rewind",
            lambda: SqliteSaver.from_conn_string(str(tmp / "rewind.db")),
        ),
        Config("rewind InMemorySaver", "rewind", lambda: made(InMemorySaver)),
        Config("LangGraph InMemorySaver", "langgraph", lambda: made(LangGraphInMemorySaver)),
        Config(
            "LangGraph SqliteSaver",
            "langgraph",
            lambda: LangGraphSqliteSaver.from_conn_string(str(tmp / "langgraph.db")),
        ),
    ]


async def logged_tokens(path: Path, thread_id: str) -> int:
    """Chat-token events of the thread's run in the log at ``path`` (read after it closed)."""
    store = await open_log(path)
    try:
        (run,) = await store.list_runs(thread_id=thread_id)
        return len(await store.read(run.run_id, types=[EventType.CHAT_TOKEN]))
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="tokens of the long reply")
    parser.add_argument("--streams", type=int, default=40, help="timed streams per config")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="12 streams in 3 rounds")
    parser.add_argument("--summary", help="append the summary rows to this file (JSON lines)")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.rounds, args.warmup = 12, 3, 2
    words = (args.tokens + 1) // 2  # words and the spaces between them
    sizes = {"long": words, "short": 1, "tagged": words}
    per_round = max(1, args.streams // args.rounds)
    tmp = Path(tempfile.mkdtemp(prefix="rewind-bench-tokens-"))
    all_configs = configs(tmp)
    with contextlib.ExitStack() as stack:
        for c in all_configs:
            saver = stack.enter_context(c.open())
            lib = (
                (StateGraph, START, END)
                if c.library == "rewind"
                else (LangGraphStateGraph, LG_START, LG_END)
            )
            for kind, n in sizes.items():
                c.graphs[kind] = build(*lib, n, tagged=kind == "tagged").compile(checkpointer=saver)
                c.times[kind] = []
                for _ in range(args.warmup):
                    c.stream(kind)
        # Interleaved stream by stream (not a block of streams per configuration), each
        # round in another order: a drift of the machine's speed over the run (another
        # process, the CPU's clock) falls on every configuration alike.
        for turn in range(args.rounds):
            order = all_configs[turn % len(all_configs) :] + all_configs[: turn % len(all_configs)]
            gc.collect()
            for _ in range(per_round):
                for c in order:
                    for kind in sizes:
                        c.times[kind].append(c.stream(kind))
    durable = asyncio.run(logged_tokens(tmp / "rewind.db", all_configs[0].last_thread["long"]))

    tokens = all_configs[0].tokens["long"]
    print(
        f"chat model streaming {tokens} tokens, stream_mode='messages'; "
        f"{per_round * args.rounds} timed streams per configuration (median)"
    )
    print(
        f"  {'':<26}{'us/token':>10}{'marginal':>10}{'long ms':>10}{'short ms':>10}{'tagged':>10}"
    )
    per_token: dict[str, float] = {}
    for c in all_configs:
        long_, short, tagged = (statistics.median(c.times[k]) for k in ("long", "short", "tagged"))
        per_token[c.name] = long_ / tokens * 1e6
        marginal = (long_ - short) / (tokens - 1) * 1e6
        print(
            f"  {c.name:<26}{per_token[c.name]:>10.1f}{marginal:>10.1f}"
            f"{long_ * 1e3:>10.2f}{short * 1e3:>10.2f}"
            f"{tagged / c.tokens['tagged'] * 1e6:>10.1f}"
        )
    print(
        "  (tagged: µs per token of the same reply from a model whose chunks carry what a "
        "provider's do, ChatOpenAI's response_metadata)"
    )
    print(f"  tokens in the durable log of rewind's last long run: {durable} of {tokens}")
    if durable != tokens:
        raise SystemExit("the log does not hold every token")
    ratio = per_token["rewind SqliteSaver"] / per_token["LangGraph InMemorySaver"]
    ok = "met" if ratio <= GOAL else "NOT met"
    print(f"ratio rewind SqliteSaver / LangGraph InMemorySaver: {ratio:.2f} (goal <= {GOAL}: {ok})")
    write_rows(
        args.summary,
        [
            Row(
                "tokens",
                "chat tokens, messages mode, µs per token",
                "µs",
                per_token["rewind SqliteSaver"],
                GOAL,
                "ratio_max",
                per_token["LangGraph InMemorySaver"],
                "LangGraph InMemorySaver",
            )
        ],
    )


if __name__ == "__main__":
    main()
