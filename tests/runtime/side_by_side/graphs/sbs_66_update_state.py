"""State updates from outside a run, as LangGraph's how-tos make them: ``update_state`` with and
without ``as_node`` (the node that ran last is inferred; two that ran together are ambiguous),
``bulk_update_state`` with several super-steps and several updates in one, and the special
``as_node`` values ``__input__`` (a new input; the pending tasks stay), ``__copy__`` (a copy of
the checkpoint, then updates on it) and ``END`` with no values (the pending tasks dropped). An
update made as a pending task's node takes that task's id, so the history shows its result.

START -> reply -> count -> END ; fan-out: START -> left, right -> join -> END
"""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import StateUpdate


class State(TypedDict, total=False):
    msgs: Annotated[list[str], operator.add]
    turns: int


def reply(state: State) -> dict:
    return {"msgs": ["r"]}


def count(state: State) -> dict:
    return {"turns": state.get("turns", 0) + 1}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("reply", reply)
    g.add_node("count", count)
    g.add_edge(START, "reply")
    g.add_edge("reply", "count")
    g.add_edge("count", END)
    return g.compile(checkpointer=checkpointer)


def side(name: str):
    def run(state: State) -> dict:
        return {"msgs": [name]}

    run.__name__ = name
    return run


def build_fanout(checkpointer):
    g = StateGraph(State)
    for name in ("left", "right", "join"):
        g.add_node(name, side(name))
    g.add_edge(START, "left")
    g.add_edge(START, "right")
    g.add_edge(["left", "right"], "join")
    g.add_edge("join", END)
    return g.compile(checkpointer=checkpointer)


def update(values, as_node=None, **kwargs):
    kwargs = {"as_node": as_node, **kwargs} if as_node is not None else kwargs
    return {"input": values, "api": "update_state", "kwargs": kwargs}


def bulk(*supersteps, api="bulk_update_state"):
    return {"input": [list(s) for s in supersteps], "api": api}


RUN = {"input": {"msgs": ["u"]}}
BEFORE_COUNT = {"input": {"msgs": ["u"]}, "kwargs": {"interrupt_before": ["count"]}}

SCENARIOS = [
    {
        "name": "seed_a_thread_in_two_supersteps",
        "calls": [
            bulk(
                [StateUpdate({"msgs": ["hi"]}, "__input__")],
                [StateUpdate({"turns": 5}, "count")],
            ),
            {"input": None},
        ],
    },
    {
        "name": "input_then_run",
        "calls": [bulk([StateUpdate({"msgs": ["hi"]}, "__input__")]), {"input": None}],
    },
    {"name": "as_a_node_on_a_fresh_thread", "calls": [update({"msgs": ["x"]}, "reply")]},
    {
        "name": "no_node_on_a_fresh_thread_is_start",
        "calls": [update({"msgs": ["x"]}), {"input": None}],
    },
    {
        "name": "two_updates_in_one_superstep",
        "calls": [
            bulk([StateUpdate({"msgs": ["a"]}, "reply"), StateUpdate({"turns": 2}, "count")]),
            {"input": None},
        ],
    },
    {
        "name": "several_updates_need_their_nodes",
        "calls": [bulk([StateUpdate({"msgs": ["a"]}, "reply"), StateUpdate({"turns": 2})])],
    },
    {"name": "no_such_node", "calls": [update({"msgs": ["a"]}, "nope")]},
    {"name": "no_supersteps", "calls": [bulk()]},
    {"name": "an_empty_superstep", "calls": [bulk([])]},
    {"name": "after_a_run_as_the_last_node", "calls": [RUN, update({"turns": 9})]},
    {"name": "after_a_run_clear", "calls": [RUN, update(None, END)]},
    {
        "name": "at_a_breakpoint_as_the_last_node",
        "calls": [BEFORE_COUNT, update({"turns": 9}), {"input": None}],
    },
    {"name": "at_a_breakpoint_clear", "calls": [BEFORE_COUNT, update(None, END)]},
    {
        "name": "at_a_breakpoint_copy",
        "calls": [BEFORE_COUNT, update(None, "__copy__"), {"input": None}],
    },
    {
        "name": "at_a_breakpoint_copy_and_update",
        "calls": [BEFORE_COUNT, update([({"turns": 4}, "count")], "__copy__")],
    },
    {
        "name": "at_a_breakpoint_input",
        "calls": [BEFORE_COUNT, update({"msgs": ["again"]}, "__input__"), {"input": None}],
    },
    {
        "name": "at_a_breakpoint_as_the_pending_node",
        "calls": [BEFORE_COUNT, update({"turns": 1}, "count")],
    },
    {
        "name": "at_a_breakpoint_two_supersteps",
        "calls": [
            BEFORE_COUNT,
            bulk(
                [StateUpdate({"turns": 1}, "count")],
                [StateUpdate({"msgs": ["z"]}, "reply")],
                api="abulk_update_state",
            ),
        ],
    },
    {
        "name": "at_a_past_checkpoint",
        "calls": [
            RUN,
            {**update({"msgs": ["fork"]}, "reply"), "at": ["count"]},
            {"input": None},
        ],
    },
    {
        "name": "after_parallel_nodes_is_ambiguous",
        "build": "build_fanout",
        "calls": [
            {"input": {"msgs": []}, "kwargs": {"interrupt_before": ["join"]}},
            update({"msgs": ["?"]}),
            update({"msgs": ["left again"]}, "left"),
            {"input": None},
        ],
    },
    {
        "name": "a_task_id_given",
        "calls": [BEFORE_COUNT, update({"turns": 3}, "count", task_id="my-task")],
    },
]

# The parallel left/right tasks: LangGraph interleaves their astream_events by thread timing.
EVENTS_COMPARABLE = False
