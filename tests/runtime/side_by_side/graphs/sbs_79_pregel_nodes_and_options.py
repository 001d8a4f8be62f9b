"""``Pregel`` programs beyond plain channels: managed values among the channels
(``RemainingStepsManager``, ``IsLastStepManager``: a node reading them among its channels gets
them for the step it runs in; they are no state), a cycle that stops on its last step, an
interrupt in it (resumed, the values are those of the step it resumes in), and two runs on a
thread. The constructor's options: ``step_timeout`` (a step whose tasks outlast it fails with
``TimeoutError``, the tasks that finished still streamed), ``cache_policy`` (for the nodes
without their own), ``context_schema`` (a dict context is made one; so is the deprecated
``config_type``, with its warning), ``config`` (merged into every call's), ``stream_eager``
and ``trigger_to_nodes``. Nodes made as ``PregelNode`` objects: a ``mapper`` of what a node reads
(its answer is the input: streamed, recorded, and made again when an interrupted task
resumes), and writers of every entry LangGraph has: ``ChannelWriteTupleEntry`` (pairs a
function makes of the result, or none), ``SKIP_WRITE``, ``Send`` packets (written by
``write_to`` or a tuple entry: a task of their node the next step, one to an unknown node
dropped) and a write to the reserved tasks channel (refused). A program as a subgraph (a
node, or called by one) streams its output channels, or its stream channels, in ``values``.
Under ``astream_events`` LangGraph streams a program run as a node (of a state graph or of
a program): its output is its last ``values`` chunk (all its channels, or its stream
channels: one's value), as the parent's writes take it; a program that is a node's whole run
(no writers) is that node's run.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import TypedDict

from langchain_core.runnables import RunnableLambda
from langgraph.cache.memory import InMemoryCache
from langgraph.channels import BinaryOperatorAggregate, LastValue, Topic
from langgraph.config import get_config
from langgraph.graph import START, StateGraph
from langgraph.managed.is_last_step import IsLastStepManager, RemainingStepsManager
from langgraph.pregel import NodeBuilder, Pregel
from langgraph.pregel._read import PregelNode
from langgraph.pregel._write import (
    SKIP_WRITE,
    ChannelWrite,
    ChannelWriteEntry,
    ChannelWriteTupleEntry,
)
from langgraph.runtime import get_runtime
from langgraph.types import CachePolicy, Command, Send, interrupt


def _grow(values: dict) -> str | None:
    if values["value"].startswith("ask") and values["left"] == 3:
        values = {**values, "value": values["value"] + interrupt(f"left {values['left']}?")}
    if values["last"]:
        return None
    return f"{values['value']}+{values['left']}"


def build(checkpointer):  # a cycle that grows its value until its last step
    grow = (
        NodeBuilder()
        .subscribe_to("value")
        .read_from("left", "last")
        .do(_grow)
        .write_to(ChannelWriteEntry("value", skip_none=True), seen=lambda v: v)
    )
    return Pregel(
        nodes={"grow": grow},
        channels={
            "value": LastValue(str),
            "left": RemainingStepsManager,
            "last": IsLastStepManager,
            "seen": LastValue(str),
        },
        input_channels="value",
        output_channels=["value", "seen"],
        checkpointer=checkpointer,
    )


def _two(checkpointer, first, second, **options):
    one = NodeBuilder().subscribe_only("a").do(first).write_to("b")
    two = NodeBuilder().subscribe_only("a").do(second).write_to("c")
    return Pregel(
        nodes={"one": one, "two": two},
        channels={"a": LastValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels="a",
        output_channels=["b", "c"],
        checkpointer=checkpointer,
        **options,
    )


async def _quick(x: str) -> str:
    return x + "!"


async def _slow(x: str) -> str:
    await asyncio.sleep(0.05 if x.startswith("fast") else 3)
    return x + "?"


def _slow_sync(x: str) -> str:
    time.sleep(0.05 if x.startswith("fast") else 0.6)
    return x + "?"


def build_step_timeout(checkpointer):
    return _two(checkpointer, _quick, _slow, step_timeout=0.3)


def build_step_timeout_sync(checkpointer):
    return _two(checkpointer, str.upper, _slow_sync, step_timeout=0.3)


_calls: list[str] = []


def reset() -> None:
    _calls.clear()


def _counted(x: str) -> str:
    _calls.append(x)
    return f"{x}#{len(_calls)}"


def build_cache_policy(checkpointer):
    return _two(
        checkpointer, _counted, str.upper, cache=InMemoryCache(), cache_policy=CachePolicy()
    )


@dataclass
class Ctx:
    who: str = "nobody"


def _context(x: str) -> str:
    context = get_runtime().context
    return f"{x} for {type(context).__name__} {getattr(context, 'who', context)}"


def _configured(x: str) -> str:
    config = get_config()
    return f"{x} {config['metadata'].get('team')} {sorted(config.get('tags', []))}"


def build_context_schema(checkpointer):
    return _two(checkpointer, _context, _configured, context_schema=Ctx)


def build_config_type(checkpointer):
    return _two(checkpointer, _context, str.upper, config_type=Ctx)


def build_config(checkpointer):
    return _two(
        checkpointer,
        _configured,
        str.upper,
        config={"metadata": {"team": "blue"}, "tags": ["own"], "recursion_limit": 7},
        stream_eager=True,
    )


def build_trigger_to_nodes(checkpointer):  # (the index: used when the program is not validated)
    return _two(
        checkpointer, str.upper, str.lower, auto_validate=False, trigger_to_nodes={"a": ["one"]}
    )


def _shown(text: str) -> str:
    return f"{text}:{interrupt('ok?')}" if text.startswith("ask") else text.upper()


def _split(text: str) -> list[tuple[str, object]] | None:
    if text == "NONE":
        return None
    return [("parts", part) for part in text.split("/")] + [("seen", len(text))]


def build_mapper(checkpointer):  # node "m" reads a and b, its input is their mapped join
    m = PregelNode(
        channels=["a", "b"],
        triggers=["a"],
        mapper=lambda d: f"{d['a']}/{d.get('b', '-')}",
        bound=RunnableLambda(_shown),
        writers=[
            ChannelWrite(
                [
                    ChannelWriteEntry("out"),
                    ChannelWriteTupleEntry(_split),
                    ChannelWriteEntry("seen", mapper=lambda v: SKIP_WRITE if "/" in v else v),
                ]
            )
        ],
    )
    return Pregel(
        nodes={"m": m},
        channels={
            "a": LastValue(str),
            "b": LastValue(str),
            "out": LastValue(str),
            "parts": Topic(str),
            "seen": LastValue(object),
        },
        input_channels=["a", "b"],
        output_channels=["out", "parts", "seen"],
        checkpointer=checkpointer,
    )


def _fan_out(text: str) -> list[tuple[str, object]]:
    return [("__pregel_tasks", Send("worker", part)) for part in text.split(",")]


def build_sends(checkpointer):  # "split" sends each part to "worker"; "join" sums them up
    split = (
        NodeBuilder()
        .subscribe_only("text")
        .do(lambda t: t)
        .write_to(ChannelWriteTupleEntry(_fan_out), Send("worker", "static"), Send("nobody", 1))
    )
    worker = NodeBuilder().do(lambda part: [part.upper()]).write_to("done")
    join = NodeBuilder().subscribe_only("done").do(lambda d: ",".join(sorted(d))).write_to("out")
    return Pregel(
        nodes={"split": split, "worker": worker, "join": join},
        channels={
            "text": LastValue(str),
            "done": BinaryOperatorAggregate(list, lambda a, b: a + b),
            "out": LastValue(str),
        },
        input_channels="text",
        output_channels=["done", "out"],
        stream_channels=["done", "out"],
        checkpointer=checkpointer,
    )


def build_tasks_channel_written(checkpointer):  # refused, as LangGraph's ChannelWrite does
    bad = NodeBuilder().subscribe_only("a").do(str.upper).write_to("__pregel_tasks")
    return Pregel(
        nodes={"bad": bad},
        channels={"a": LastValue(str), "b": LastValue(str)},
        input_channels="a",
        output_channels="b",
        checkpointer=checkpointer,
    )


class Outer(TypedDict, total=False):
    a: str
    c: str
    called: str


def _inner(stream_channels=None):
    n1 = NodeBuilder().subscribe_only("a").do(lambda x: x + "1").write_to("b")
    n2 = NodeBuilder().subscribe_only("b").do(lambda x: x + "2").write_to("c")
    return Pregel(
        nodes={"n1": n1, "n2": n2},
        channels={"a": LastValue(str), "b": LastValue(str), "c": LastValue(str)},
        input_channels=["a"],
        output_channels=["c"],
        stream_channels=stream_channels,
    )


def build_as_subgraph(checkpointer, sync_call=False):  # a program as a node, one a node calls
    called = _inner(["b", "c"])

    async def call(state: Outer) -> dict:
        return {"called": str(await called.ainvoke({"a": state["c"]}))}

    outer = StateGraph(Outer)
    outer.add_node("direct", _inner())
    if sync_call:  # (from a sync node: LangGraph names its nameless functions' runs otherwise)
        outer.add_node("call", lambda s: {"called": str(called.invoke({"a": s["c"]}))})
    else:
        outer.add_node("call", call)
    outer.add_edge(START, "direct")
    outer.add_edge("direct", "call")
    return outer.compile(checkpointer=checkpointer)


def build_called_sync(checkpointer):
    return build_as_subgraph(checkpointer, sync_call=True)


def _one_step(input_channels, stream_channels=None):  # what it reads, with a "!"
    read = input_channels if isinstance(input_channels, str) else input_channels[0]
    n = NodeBuilder().subscribe_only(read).do(lambda x: f"{x}!").write_to("out")
    return Pregel(
        nodes={"n": n},
        channels={read: LastValue(object), "out": LastValue(str)},
        input_channels=input_channels,
        output_channels=["out"],
        stream_channels=stream_channels,
    )


def build_in_program(checkpointer):  # programs as nodes of a program
    shown = NodeBuilder().subscribe_only("a").do(_inner(["b", "c"])).write_to("both")
    single = NodeBuilder().subscribe_only("both").do(_one_step(["c"], "out")).write_to("last")
    whole = NodeBuilder().subscribe_only("last").do(_one_step("a")).build()
    whole.writers = []  # (the program is the node's whole run)
    return Pregel(
        nodes={"shown": shown, "single": single, "whole": whole},
        channels={"a": LastValue(dict), "both": LastValue(dict), "last": LastValue(object)},
        input_channels="a",
        output_channels=["both", "last"],
        checkpointer=checkpointer,
    )


_MODES = ["values", "updates", "tasks", "debug", "checkpoints"]

SCENARIOS = [
    {
        "name": "managed_values",
        "config": {"recursion_limit": 5},
        "calls": [
            {"input": "a", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": "b"},
            {"input": "ask", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": Command(resume="!"), "api": "stream", "kwargs": {"stream_mode": _MODES}},
        ],
    },
    {
        "name": "step_timeout",
        "build": "build_step_timeout",
        "calls": [
            {"input": "fast", "api": "ainvoke"},
            {"input": "slow", "api": "astream", "kwargs": {"stream_mode": ["values", "updates"]}},
        ],
    },
    {
        "name": "step_timeout_sync",
        "events": False,  # (see the note at the end)
        "build": "build_step_timeout_sync",
        "calls": [{"input": "fast"}, {"input": "slow"}],
    },
    {
        "name": "cache_policy",
        "events": False,  # (see the note at the end)
        "build": "build_cache_policy",
        "calls": [{"input": "x"}, {"input": "x"}, {"input": "y"}],
    },
    {
        "name": "context_schema",
        "events": False,  # (see the note at the end)
        "build": "build_context_schema",
        "calls": [
            {"input": "x", "kwargs": {"context": {"who": "me"}}},
            {"input": "y", "kwargs": {"context": Ctx("you")}, "config": {"tags": ["call"]}},
        ],
    },
    {
        "name": "config_type",
        "events": False,  # (see the note at the end)
        "build": "build_config_type",
        "calls": [{"input": "x", "kwargs": {"context": {"who": "me"}}}],
    },
    {
        "name": "config",
        "events": False,  # (see the note at the end)
        "build": "build_config",
        "calls": [
            {"input": "x", "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": "y", "config": {"tags": ["call"], "metadata": {"team": "red"}}},
            {"input": "z", "api": "update_state", "kwargs": {"as_node": "one"}},
        ],
    },
    {
        "name": "mapper",
        "build": "build_mapper",
        "calls": [
            {"input": {"a": "x"}, "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "ask", "b": "y"}},
            {"input": Command(resume="yes"), "api": "stream", "kwargs": {"stream_mode": _MODES}},
            {"input": {"a": "NONE", "b": ""}},
        ],
    },
    {
        "name": "sends",
        "events": False,  # (see the note at the end)
        "build": "build_sends",
        "calls": [
            {
                "input": "p,q",
                "api": "stream",
                "unordered": True,
                "kwargs": {"stream_mode": ["values", "updates", "checkpoints"]},
            },
            {"input": "r"},
        ],
    },
    {
        "name": "tasks_channel_written",
        "build": "build_tasks_channel_written",
        "calls": [{"input": "x"}],
    },
    {
        "name": "as_subgraph",
        "build": "build_as_subgraph",
        "calls": [
            {
                "input": {"a": "x"},
                "api": "astream",
                "kwargs": {"stream_mode": ["values", "updates"], "subgraphs": True},
            },
            {
                "input": {"a": "y"},
                "api": "astream",
                "kwargs": {"stream_mode": "values", "subgraphs": True},
            },
        ],
    },
    {
        "name": "called_sync",
        "build": "build_called_sync",
        "calls": [{"input": {"a": "x"}}, {"input": {"a": "y"}, "api": "ainvoke"}],
    },
    {
        "name": "in_program",
        "build": "build_in_program",
        "calls": [{"input": {"a": "x"}}, {"input": {"a": "y"}, "api": "astream"}],
    },
    {
        "name": "trigger_to_nodes",
        "build": "build_trigger_to_nodes",
        "calls": [{"input": "x", "api": "stream", "kwargs": {"stream_mode": _MODES}}],
    },
]

# Made as written in the astream_events pass ("events": False): the scenarios whose steps run
# two sync nodes (in threads: LangGraph's runs end in either order from one run to the next).
