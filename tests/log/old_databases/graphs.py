"""The graphs behind the old-database fixture (``before_heads.db``).

``make_fixture.py`` runs them under the release that wrote the fixture and
``tests/log/test_old_databases.py`` builds them again under the current code (``get_state``
needs a compiled graph; new runs continue the old threads), so this module keeps to the API
both releases share, and its names (the codec stores class paths) must not move.

Every node is deterministic, so that a run on an old thread has one right outcome: the flaky
node fails its first attempt of every run, and the chat model answers from its input.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage

from rewind.config import get_stream_writer
from rewind.graph import END, START, StateGraph, add_messages
from rewind.types import Command, RetryPolicy, Send, interrupt

__all__ = ["BUILDERS", "TransientError", "build"]


# --- routes: routing functions (the old log copies the state into a `route` event) ----------


class RouteState(TypedDict, total=False):
    n: int
    path: Annotated[list[str], operator.add]


def _route_start(state: RouteState) -> str:
    return "small" if state["n"] < 10 else "big"


def _small(state: RouteState) -> dict[str, Any]:
    get_stream_writer()({"small": state["n"]})
    return {"n": state["n"] + 3, "path": ["small"]}


def _big(state: RouteState) -> dict[str, Any]:
    return {"n": state["n"] - 4, "path": ["big"]}


def _parity(state: RouteState) -> str:
    return "e" if state["n"] % 2 == 0 else "o"


def _even(state: RouteState) -> dict[str, Any]:
    return {"path": ["even"]}


def _odd(state: RouteState) -> dict[str, Any]:
    return {"path": ["odd"]}


def _tally(state: RouteState) -> dict[str, Any]:
    return {"path": [f"tally:{len(state['path'])}"]}


def _fan(state: RouteState) -> list[str]:
    """Both ``tally`` and the next step when n is a multiple of 4 (a list of destinations)."""
    again = "small" if state["n"] < 6 else END
    return [again, "tally"] if state["n"] % 4 == 0 else [again]


def build_routes(checkpointer: Any) -> Any:
    """START routes to small or big; small routes by parity (a path map); even and odd fan out
    to small again (while n < 6) and to tally (when n is a multiple of 4)."""
    g: StateGraph[RouteState] = StateGraph(RouteState)
    g.add_node("small", _small)
    g.add_node("big", _big)
    g.add_node("even", _even)
    g.add_node("odd", _odd)
    g.add_node("tally", _tally)
    g.add_conditional_edges(START, _route_start)
    g.add_conditional_edges("small", _parity, {"e": "even", "o": "odd"})
    g.add_edge("big", "even")
    g.add_conditional_edges("even", _fan, ["small", "tally", END])
    g.add_conditional_edges("odd", _fan, ["small", "tally", END])
    g.add_edge("tally", END)
    return g.compile(checkpointer=checkpointer)


# --- approval: interrupt() in a node, resumed with Command(resume=...) -----------------------


class ApprovalState(TypedDict, total=False):
    topic: str
    draft: str
    approved: str
    log: Annotated[list[str], operator.add]


def _write(state: ApprovalState) -> dict[str, Any]:
    return {"draft": f"a post about {state['topic']}", "log": ["write"]}


def _review(state: ApprovalState) -> dict[str, Any]:
    answer = interrupt({"question": "publish this?", "draft": state["draft"]})
    return {"approved": answer, "log": [f"review:{answer}"]}


def _publish(state: ApprovalState) -> dict[str, Any]:
    return {"log": [f"publish:{state['approved']}"]}


def build_approval(checkpointer: Any) -> Any:
    """write → review (asks with interrupt()) → publish."""
    g: StateGraph[ApprovalState] = StateGraph(ApprovalState)
    g.add_node("write", _write)
    g.add_node("review", _review)
    g.add_node("publish", _publish)
    g.add_edge(START, "write")
    g.add_edge("write", "review")
    g.add_edge("review", "publish")
    g.add_edge("publish", END)
    return g.compile(checkpointer=checkpointer)


# --- nested: a subgraph node whose inner node interrupts -------------------------------------


class NestedState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    answer: str


def _prep(state: NestedState) -> dict[str, Any]:
    return {"log": ["prep"]}


def _s1(state: NestedState) -> dict[str, Any]:
    get_stream_writer()({"s1": len(state["log"])})
    return {"log": ["s1"]}


def _ask(state: NestedState) -> dict[str, Any]:
    answer = interrupt(f"question after {len(state['log'])} entries")
    return {"answer": answer, "log": [f"ask:{answer}"]}


def _s2(state: NestedState) -> dict[str, Any]:
    return {"log": ["s2"]}


def _finish(state: NestedState) -> dict[str, Any]:
    return {"log": [f"finish:{state['answer']}"]}


def build_nested(checkpointer: Any) -> Any:
    """prep → sub (s1 → ask, which interrupts → s2) → finish; the subgraph shares the parent's
    checkpointer."""
    inner: StateGraph[NestedState] = StateGraph(NestedState)
    inner.add_node("s1", _s1)
    inner.add_node("ask", _ask)
    inner.add_node("s2", _s2)
    inner.add_edge(START, "s1")
    inner.add_edge("s1", "ask")
    inner.add_edge("ask", "s2")
    inner.add_edge("s2", END)
    g: StateGraph[NestedState] = StateGraph(NestedState)
    g.add_node("prep", _prep)
    g.add_node("sub", inner.compile())
    g.add_node("finish", _finish)
    g.add_edge(START, "prep")
    g.add_edge("prep", "sub")
    g.add_edge("sub", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)


# --- edits: update_state and forks from older checkpoints ------------------------------------


class EditState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    count: int


def _step(name: str) -> Callable[[EditState], dict[str, Any]]:
    def step(state: EditState) -> dict[str, Any]:
        return {"log": [f"{name}{len(state['log'])}"], "count": state.get("count", 0) + 1}

    step.__name__ = name
    return step


def build_edits(checkpointer: Any) -> Any:
    """a → b → c, each appending to log and counting."""
    g: StateGraph[EditState] = StateGraph(EditState)
    for name in ("a", "b", "c"):
        g.add_node(name, _step(name))
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile(checkpointer=checkpointer)


# --- mapreduce: Send -------------------------------------------------------------------------


class MapState(TypedDict, total=False):
    items: list[str]
    results: Annotated[list[str], operator.add]
    summary: str


class WorkItem(TypedDict):
    item: str


def _split(state: MapState) -> dict[str, Any]:
    return {"results": [f"split:{len(state['items'])}"]}


def _fan_out(state: MapState) -> list[Send]:
    return [Send("work", {"item": item}) for item in state["items"]]


def _work(item: WorkItem) -> dict[str, Any]:
    return {"results": [item["item"].upper()]}


def _combine(state: MapState) -> dict[str, Any]:
    return {"summary": "+".join(state["results"])}


def build_mapreduce(checkpointer: Any) -> Any:
    """split → one ``work`` task per item (Send) → combine."""
    g: StateGraph[MapState] = StateGraph(MapState)
    g.add_node("split", _split)
    g.add_node("work", _work)
    g.add_node("combine", _combine)
    g.add_edge(START, "split")
    g.add_conditional_edges("split", _fan_out, ["work"])
    g.add_edge("work", "combine")
    g.add_edge("combine", END)
    return g.compile(checkpointer=checkpointer)


# --- retries: a RetryPolicy that succeeds on the second attempt, and a run that fails --------


class TransientError(Exception):
    """What the flaky node raises on its first attempt."""


class RetryState(TypedDict, total=False):
    fail: bool
    log: Annotated[list[str], operator.add]


_flaky_attempts = [0]


def _flaky(state: RetryState) -> dict[str, Any]:
    # Odd attempts fail: every run's first attempt fails and its retry succeeds.
    _flaky_attempts[0] += 1
    get_stream_writer()({"attempt_is_retry": _flaky_attempts[0] % 2 == 0})
    if _flaky_attempts[0] % 2 == 1:
        raise TransientError("flaky failed its first attempt")
    return {"log": ["flaky"]}


def _steady(state: RetryState) -> dict[str, Any]:
    return {"log": ["steady"]}


def _check(state: RetryState) -> dict[str, Any]:
    if state.get("fail"):
        raise ValueError(f"check failed after {len(state['log'])} entries")
    return {"log": ["check"]}


def build_retries(checkpointer: Any) -> Any:
    """flaky and steady in parallel → check, which raises when ``fail`` (retried once)."""
    g: StateGraph[RetryState] = StateGraph(RetryState)
    g.add_node(
        "flaky",
        _flaky,
        retry_policy=RetryPolicy(
            max_attempts=3, initial_interval=0.01, jitter=False, retry_on=TransientError
        ),
    )
    g.add_node("steady", _steady)
    g.add_node(
        "check",
        _check,
        retry_policy=RetryPolicy(
            max_attempts=2, initial_interval=0.01, jitter=False, retry_on=ValueError
        ),
    )
    g.add_edge(START, "flaky")
    g.add_edge(START, "steady")
    g.add_edge(["flaky", "steady"], "check")
    g.add_edge("check", END)
    return g.compile(checkpointer=checkpointer)


# --- chat: a chat model streamed token by token into an add_messages state -------------------


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    turns: int


def _greet(state: ChatState) -> Command[Any]:
    return Command(update={"turns": state.get("turns", 0) + 1}, goto="reply")


def _reply(state: ChatState) -> dict[str, Any]:
    said = state["messages"][-1].content
    answer = AIMessage(content=f"turn {state['turns']}: you said {said}")
    model = GenericFakeChatModel(messages=iter([answer]))
    return {"messages": [model.invoke(state["messages"])]}


def build_chat(checkpointer: Any) -> Any:
    """greet (a Command: update and goto) → reply (a fake chat model, streamed)."""
    g: StateGraph[ChatState] = StateGraph(ChatState)
    g.add_node("greet", _greet, destinations=("reply",))
    g.add_node("reply", _reply)
    g.add_edge(START, "greet")
    g.add_edge("reply", END)
    return g.compile(checkpointer=checkpointer)


BUILDERS: dict[str, Callable[[Any], Any]] = {
    "routes": build_routes,
    "approval": build_approval,
    "nested": build_nested,
    "edits": build_edits,
    "mapreduce": build_mapreduce,
    "retries": build_retries,
    "chat": build_chat,
}
"""Each thread of the fixture by name, with the graph its runs ran."""


def build(thread: str, checkpointer: Any) -> Any:
    """The compiled graph of ``thread``, on ``checkpointer``."""
    return BUILDERS[thread](checkpointer)
