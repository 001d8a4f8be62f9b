"""Graphs that LangGraph refuses to build or compile, written as a LangGraph user writes them.

Each ``CASES`` entry builds a graph and compiles it; the harness compares what each engine
raises (exception type and message), or, for the valid baselines, that both compile the same
nodes. These are compile-time checks: nothing is invoked.
"""

import operator
from typing import Annotated, Literal, TypedDict

from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.managed import IsLastStep, RemainingSteps
from langgraph.types import Command, TimeoutPolicy


class State(TypedDict, total=False):
    x: int
    log: Annotated[list[str], operator.add]


def a(state: State) -> dict:
    return {"x": 1}


def b(state: State) -> dict:
    return {"log": ["b"]}


def route(state: State) -> str:
    return "b"


def route_to_nowhere(state: State) -> Literal["b", "nowhere"]:
    return "b"


def jump(state: State) -> Command[Literal["b", "nowhere"]]:
    return Command(goto="b")


def _ab() -> StateGraph:
    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", b)
    return g


def valid():
    g = _ab()
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile()


def valid_start_to_end_only():
    g = StateGraph(State)
    g.add_edge(START, END)
    return g.compile()


def edge_to_unknown_node():
    g = _ab()
    g.add_edge(START, "a")
    g.add_edge("a", "nope")
    return g.compile()


def edge_from_unknown_node():
    g = _ab()
    g.add_edge(START, "a")
    g.add_edge("ghost", "b")
    return g.compile()


def finish_point_unknown_node():
    g = _ab()
    g.set_entry_point("a")
    g.set_finish_point("ghost")
    return g.compile()


def no_entry_point():
    g = _ab()
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile()


def empty_graph():
    return StateGraph(State).compile()


def duplicate_node():
    g = _ab()
    g.add_node("a", b)
    return g.compile()


def reserved_name_start():
    g = StateGraph(State)
    g.add_node(START, a)
    return g.compile()


def reserved_name_end():
    g = StateGraph(State)
    g.add_node(END, a)
    return g.compile()


def reserved_character_pipe():
    g = StateGraph(State)
    g.add_node("a|b", a)
    return g.compile()


def reserved_character_colon():
    g = StateGraph(State)
    g.add_node("a:b", a)
    return g.compile()


def end_as_start():
    g = _ab()
    g.add_edge(END, "a")
    return g.compile()


def start_as_end():
    g = _ab()
    g.add_edge("a", START)
    return g.compile()


def waiting_edge_unknown_source():
    g = _ab()
    g.add_edge(START, "a")
    g.add_edge(["a", "ghost"], "b")
    return g.compile()


def waiting_edge_unknown_target():
    g = _ab()
    g.add_edge(START, "a")
    g.add_edge(["a", "b"], "nope")
    return g.compile()


def path_map_unknown_target():
    g = _ab()
    g.add_edge(START, "a")
    g.add_conditional_edges("a", route, {"b": "b", "c": "nope"})
    return g.compile()


def list_path_map_unknown_target():
    g = _ab()
    g.add_edge(START, "a")
    g.add_conditional_edges("a", route, ["b", "nope"])
    return g.compile()


def literal_router_unknown_target():
    g = _ab()
    g.add_edge(START, "a")
    g.add_conditional_edges("a", route_to_nowhere)
    return g.compile()


def branch_from_unknown_node():
    g = _ab()
    g.add_edge(START, "a")
    g.add_conditional_edges("ghost", route, ["b"])
    return g.compile()


def duplicate_branch_name():
    g = _ab()
    g.add_edge(START, "a")
    g.add_conditional_edges("a", route, ["b"])
    g.add_conditional_edges("a", route, ["b", END])
    return g.compile()


def command_unknown_destination():
    g = StateGraph(State)
    g.add_node("jump", jump)
    g.add_node("b", b)
    g.add_edge(START, "jump")
    return g.compile()


def empty_sequence():
    g = StateGraph(State)
    g.add_sequence([])
    return g.compile()


def duplicate_in_sequence():
    g = StateGraph(State)
    g.add_sequence([a, b, a])
    return g.compile()


def bad_reducer_signature():
    class BadState(TypedDict):
        items: Annotated[list[str], lambda only_one: only_one]

    g = StateGraph(BadState)
    g.add_node("a", a)
    g.add_edge(START, "a")
    return g.compile()


def managed_value_in_input_schema():
    class Managed(TypedDict):
        x: int
        remaining_steps: RemainingSteps

    class Input(TypedDict):
        x: int
        remaining_steps: RemainingSteps

    g = StateGraph(Managed, input_schema=Input)
    g.add_node("a", a)
    g.add_edge(START, "a")
    return g.compile()


def managed_value_in_output_schema():
    class Managed(TypedDict):
        x: int
        is_last_step: IsLastStep

    class Output(TypedDict):
        is_last_step: IsLastStep

    return StateGraph(Managed, output_schema=Output).compile()


def pregel_stream_channel_unknown():
    from langgraph.channels import LastValue
    from langgraph.pregel import NodeBuilder, Pregel

    return Pregel(
        nodes={"n": NodeBuilder().subscribe_only("a").do(lambda x: x).write_to("b")},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels="b",
        stream_channels=["b", "nope"],
    )


def timeout_on_sync_node():  # a sync node cannot be cancelled: refused at compile
    g = _ab()
    g.add_node("c", a, timeout=0.5)
    g.add_edge(START, "c")
    return g.compile()


def timeout_default_on_sync_node():
    g = _ab()
    g.set_node_defaults(timeout=0.5)
    g.add_edge(START, "a")
    return g.compile()


async def _async_node(state: State) -> dict:
    return {"x": 2}


def timeout_on_async_node():
    g = StateGraph(State)
    g.add_node("c", _async_node, timeout=TimeoutPolicy(run_timeout=1, idle_timeout=0.5))
    g.add_edge(START, "c")
    return g.compile()


def timeout_not_positive():
    g = StateGraph(State)
    g.add_node("c", _async_node, timeout=0)
    return g.compile()


def timeout_refresh_on_unknown():
    g = StateGraph(State)
    g.add_node("c", _async_node, timeout=TimeoutPolicy(idle_timeout=1, refresh_on="tokens"))
    return g.compile()


def timeout_on_sync_task():
    @task(timeout=0.5)
    def work(x: int) -> int:
        return x

    @entrypoint()
    async def flow(x: int) -> int:
        return await work(x)

    return flow


def timeout_on_sync_entrypoint():
    @entrypoint(timeout=0.5)
    def flow(x: int) -> int:
        return x

    return flow


CASES = {
    fn.__name__: fn
    for fn in (
        valid,
        valid_start_to_end_only,
        edge_to_unknown_node,
        edge_from_unknown_node,
        finish_point_unknown_node,
        no_entry_point,
        empty_graph,
        duplicate_node,
        reserved_name_start,
        reserved_name_end,
        reserved_character_pipe,
        reserved_character_colon,
        end_as_start,
        start_as_end,
        waiting_edge_unknown_source,
        waiting_edge_unknown_target,
        path_map_unknown_target,
        list_path_map_unknown_target,
        literal_router_unknown_target,
        branch_from_unknown_node,
        duplicate_branch_name,
        command_unknown_destination,
        empty_sequence,
        duplicate_in_sequence,
        bad_reducer_signature,
        managed_value_in_input_schema,
        pregel_stream_channel_unknown,
        managed_value_in_output_schema,
        timeout_on_sync_node,
        timeout_default_on_sync_node,
        timeout_on_async_node,
        timeout_not_positive,
        timeout_refresh_on_unknown,
        timeout_on_sync_task,
        timeout_on_sync_entrypoint,
    )
}
