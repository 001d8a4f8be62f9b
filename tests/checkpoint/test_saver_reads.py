"""rewind's savers answer LangGraph's checkpoint-saver read API from the event log.

The same graph runs on LangGraph with its InMemorySaver and on rewind; the tuples the savers
give are compared: configs, parents, metadata, state values and pending writes.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver as LgSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START as LG_START
from langgraph.graph import StateGraph as LgGraph
from langgraph.types import interrupt as lg_interrupt

from rewind.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from rewind.checkpoint.memory import InMemorySaver
from rewind.checkpoint.serde.encrypted import EncryptedSerializer
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer
from rewind.checkpoint.sqlite import SqliteSaver
from rewind.graph import END, START, StateGraph
from rewind.types import interrupt


class State(TypedDict):
    a: str
    items: Annotated[list[int], operator.add]


def _build(graph_cls: Any, start: str, end: str, ask: Callable[[str], Any]) -> Any:
    def one(state: State) -> dict[str, Any]:
        return {"a": state["a"] + "x", "items": [1]}

    def two(state: State) -> dict[str, Any]:
        return {"items": [ask("how many?")]}

    builder = graph_cls(State)
    builder.add_node("one", one)
    builder.add_node("two", two)
    builder.add_edge(start, "one")
    builder.add_edge("one", "two")
    builder.add_edge("two", end)
    return builder


def _run(graph: Any) -> None:
    config = {"configurable": {"thread_id": "t"}, "metadata": {"user": "u"}}
    graph.invoke({"a": "", "items": []}, config)


def _both(rewind_saver: BaseCheckpointSaver[Any]) -> tuple[LgSaver, BaseCheckpointSaver[Any]]:
    theirs = LgSaver()
    _run(_build(LgGraph, LG_START, LG_END, lg_interrupt).compile(checkpointer=theirs))
    _run(_build(StateGraph, START, END, interrupt).compile(checkpointer=rewind_saver))
    return theirs, rewind_saver


def _shape(found: CheckpointTuple, ids: dict[str, str]) -> dict[str, Any]:
    """A tuple with checkpoint and task ids replaced by their order of appearance, and the
    checkpoint's state channels only (LangGraph also keeps its routing channels there)."""

    def name(checkpoint_id: str) -> str:
        return ids.setdefault(checkpoint_id, f"c{len(ids)}")

    def cfg(config: Any) -> Any:
        if config is None:
            return None
        configurable = dict(config["configurable"])
        configurable["checkpoint_id"] = name(configurable["checkpoint_id"])
        return {"configurable": configurable}

    values = found.checkpoint["channel_values"]
    writes = [
        (channel, value)
        for _, channel, value in found.pending_writes or []
        if channel in State.__annotations__ or channel == "__interrupt__"
    ]
    return {
        "config": cfg(found.config),
        "parent": cfg(found.parent_config),
        "metadata": found.metadata,
        "values": {k: v for k, v in values.items() if k in State.__annotations__},
        "writes": [(c, [(i.value) for i in v] if c == "__interrupt__" else v) for c, v in writes],
    }


def test_the_tuples_are_langgraphs(tmp_path: Path) -> None:
    theirs, ours = _both(SqliteSaver(sqlite3.connect(tmp_path / "r.db", check_same_thread=False)))
    config = {"configurable": {"thread_id": "t"}}
    lg_ids: dict[str, str] = {}
    rw_ids: dict[str, str] = {}
    lg_list = [_shape(t, lg_ids) for t in theirs.list(config)]
    rw_list = [_shape(t, rw_ids) for t in ours.list(config)]
    # LangGraph's input checkpoint holds the input in its __start__ channel, not the state.
    assert [s["values"] for s in rw_list[:-1]] == [s["values"] for s in lg_list[:-1]]
    for shape in (*lg_list, *rw_list):
        shape.pop("values")
    assert rw_list == lg_list
    head_theirs, head_ours = theirs.get_tuple(config), ours.get_tuple(config)
    assert head_theirs is not None and head_ours is not None
    assert _shape(head_ours, rw_ids) == _shape(head_theirs, lg_ids) | {
        "values": _shape(head_ours, rw_ids)["values"]
    }
    assert head_ours.checkpoint["channel_values"] == {"a": "x", "items": [1]}
    assert head_ours.checkpoint["v"] == head_theirs.checkpoint["v"]
    assert set(head_ours.checkpoint) == set(head_theirs.checkpoint)
    assert ours.get(config) == head_ours.checkpoint


def test_list_filter_before_limit_and_get_by_id_as_langgraphs() -> None:
    theirs, ours = _both(InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    for saver in (theirs, ours):
        listed = list(saver.list(config))
        assert [t.metadata["step"] for t in listed] == [1, 0, -1]
        assert [t.metadata["step"] for t in saver.list(config, limit=2)] == [1, 0]
        assert [t.metadata["step"] for t in saver.list(config, filter={"source": "input"})] == [-1]
        assert [t.metadata["step"] for t in saver.list(config, filter={"user": "nobody"})] == []
        assert [t.metadata["step"] for t in saver.list(config, before=listed[0].config)] == [0, -1]
        middle = saver.get_tuple(listed[1].config)
        assert middle is not None and middle.config == listed[1].config
        assert [t.config for t in saver.list(listed[1].config)] == [listed[1].config]
        assert [t.metadata["step"] for t in saver.list(None)] == [1, 0, -1]
        assert saver.get_tuple({"configurable": {"thread_id": "nobody"}}) is None
        assert list(saver.list({"configurable": {"thread_id": "nobody"}})) == []


async def test_the_async_reads_and_delete_thread() -> None:
    ours = InMemorySaver()
    _run(_build(StateGraph, START, END, interrupt).compile(checkpointer=ours))
    config = {"configurable": {"thread_id": "t"}}
    head = await ours.aget_tuple(config)
    assert head is not None and head.metadata["step"] == 1
    assert await ours.aget(config) == head.checkpoint
    assert [t.metadata["step"] async for t in ours.alist(config, limit=1)] == [1]
    await ours.adelete_thread("t")
    assert await ours.aget_tuple(config) is None
    assert [t async for t in ours.alist(None)] == []


def test_delete_thread_and_prune() -> None:
    ours = InMemorySaver()
    graph = _build(StateGraph, START, END, interrupt).compile(checkpointer=ours)
    _run(graph)
    config = {"configurable": {"thread_id": "t"}}
    from rewind.types import Command

    graph.invoke(Command(resume=5), config)
    runs_before = len(list(ours.list(config)))
    ours.prune(["t"])  # keeps the newest run, and the run it continues from
    assert ours.get_tuple(config) is not None
    assert len(list(ours.list(config))) <= runs_before
    with pytest.raises(ValueError, match="unknown prune strategy"):
        ours.prune(["t"], strategy="everything")
    ours.delete_thread("t")
    assert ours.get_tuple(config) is None


def test_the_write_side_is_refused_with_a_reason() -> None:
    ours = InMemorySaver()
    with pytest.raises(NotImplementedError, match="update_state"):
        ours.put({"configurable": {"thread_id": "t"}}, {}, {}, {})  # type: ignore[typeddict-item]
    with pytest.raises(NotImplementedError, match="written by the runs"):
        ours.put_writes({"configurable": {"thread_id": "t"}}, [("a", 1)], "task")


def test_serde_is_kept_and_encryption_refused() -> None:
    assert isinstance(InMemorySaver().serde, JsonPlusSerializer)
    serde = JsonPlusSerializer(pickle_fallback=True)
    assert InMemorySaver(serde=serde).serde is serde
    encrypted = EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef")
    with pytest.raises(ValueError, match="does not encrypt what it stores"):
        InMemorySaver(serde=encrypted)


def test_a_saver_of_ones_own_is_refused_by_compile() -> None:
    class Mine(BaseCheckpointSaver[int]):
        pass

    builder = _build(StateGraph, START, END, interrupt)
    with pytest.raises(TypeError, match=r"Use one of rewind's savers: .*InMemorySaver"):
        builder.compile(checkpointer=Mine())
    with pytest.raises(TypeError, match="rewind records runs into its own event log"):
        builder.compile(checkpointer=LgSaver())


@pytest.fixture(params=["sqlite", "postgres"])
def any_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver[Any]]:
    """A saver on each backend: a SQLite file, a PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / "r.db")) as saver:
            yield saver
        return
    from rewind.checkpoint.postgres import PostgresSaver
    from tests import pg

    name = pg.name_for(str(tmp_path))
    try:
        with PostgresSaver.from_conn_string(pg.create_database(name)) as saver:
            yield saver
    finally:
        pg.drop_database(name)


def test_every_backend_answers_the_same_reads(any_saver: BaseCheckpointSaver[Any]) -> None:
    theirs, ours = _both(any_saver)
    config = {"configurable": {"thread_id": "t"}}
    lg_ids: dict[str, str] = {}
    rw_ids: dict[str, str] = {}
    assert [_shape(t, rw_ids)["metadata"] for t in ours.list(config)] == [
        _shape(t, lg_ids)["metadata"] for t in theirs.list(config)
    ]
    head = ours.get_tuple(config)
    assert head is not None and head.checkpoint["channel_values"] == {"a": "x", "items": [1]}
    assert [w[1] for w in head.pending_writes or []] == ["__interrupt__"]
    assert [t.metadata["step"] for t in ours.list(None, filter={"source": "loop"})] == [1, 0]
    ours.delete_thread("t")
    assert ours.get_tuple(config) is None


def test_copy_thread_gives_a_thread_with_the_same_checkpoints() -> None:
    """(None of LangGraph's own savers implements copy_thread: its base class raises.)"""
    theirs, ours = _both(InMemorySaver())
    with pytest.raises(NotImplementedError):
        theirs.copy_thread("t", "copy")
    ours.copy_thread("t", "copy")
    config = {"configurable": {"thread_id": "t"}}
    copied = {"configurable": {"thread_id": "copy"}}
    original, copy = list(ours.list(config)), list(ours.list(copied))
    assert [t.checkpoint["id"] for t in copy] == [t.checkpoint["id"] for t in original]
    assert [t.config["configurable"]["thread_id"] for t in copy] == ["copy"] * len(copy)
    assert [t.metadata for t in copy] == [t.metadata for t in original]
    graph = _build(StateGraph, START, END, interrupt).compile(checkpointer=ours)
    from rewind.types import Command

    assert graph.invoke(Command(resume=7), copied)["items"] == [1, 7]
    assert graph.get_state(config).next == ("two",)  # the original is untouched
    with pytest.raises(ValueError, match="has runs already"):
        ours.copy_thread("t", "copy")
    with pytest.raises(NotImplementedError, match="delete_thread"):
        ours.delete_for_runs(["r"])


def _with_subgraph(graph_cls: Any, start: str) -> Any:
    sub = graph_cls(State)
    sub.add_node("a", lambda state: {"items": [10]})
    sub.add_node("b", lambda state: {"items": [20]})
    sub.add_edge(start, "a")
    sub.add_edge("a", "b")
    builder = graph_cls(State)
    builder.add_node("sub", sub.compile())
    builder.add_node("last", lambda state: {"a": "done"})
    builder.add_edge(start, "sub")
    builder.add_edge("sub", "last")
    return builder


def test_subgraph_checkpoints_are_listed_per_namespace_as_langgraphs() -> None:
    theirs, ours = LgSaver(), InMemorySaver()
    config = {"configurable": {"thread_id": "t"}}
    _with_subgraph(LgGraph, LG_START).compile(checkpointer=theirs).invoke(
        {"a": "", "items": []}, config
    )
    _with_subgraph(StateGraph, START).compile(checkpointer=ours).invoke(
        {"a": "", "items": []}, config
    )

    def listed(saver: Any, **kwargs: Any) -> list[Any]:
        return [
            (
                t.config["configurable"]["checkpoint_ns"].split(":")[0],
                t.metadata["source"],
                t.metadata["step"],
                t.metadata["source"] == "input" or t.checkpoint["channel_values"].get("items"),
                t.metadata["parents"] != {},
            )
            for t in saver.list(**kwargs)
        ]

    assert listed(ours, config=config) == listed(theirs, config=config)
    root = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    assert listed(ours, config=root) == listed(theirs, config=root)
    assert listed(ours, config=config, filter={"step": 1}) == listed(
        theirs, config=config, filter={"step": 1}
    )
    sub = next(t for t in ours.list(config) if t.config["configurable"]["checkpoint_ns"])
    ns = sub.config["configurable"]["checkpoint_ns"]
    assert ours.get_tuple(sub.config) == sub
    newest = ours.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ns}})
    assert newest is not None and newest.checkpoint["channel_values"]["items"] == [10, 20]
    assert listed(ours, config={"configurable": {"thread_id": "t", "checkpoint_ns": ns}}) == [
        s for s in listed(ours, config=config) if s[0] == "sub"
    ]
    # `before` a subgraph's checkpoint: every namespace's checkpoints with lower ids, as
    # LangGraph's savers compare them.
    below = [t.config for t in ours.list(config) if t.checkpoint["id"] < sub.checkpoint["id"]]
    assert [t.config for t in ours.list(config, before=sub.config)] == below and below


def test_a_long_thread_with_subgraphs_lists_as_langgraphs() -> None:
    """More root checkpoints than one page of the log's reads."""
    theirs, ours = LgSaver(), InMemorySaver()
    config = {"configurable": {"thread_id": "t"}}
    lg_graph = _with_subgraph(LgGraph, LG_START).compile(checkpointer=theirs)
    rw_graph = _with_subgraph(StateGraph, START).compile(checkpointer=ours)
    for _ in range(10):
        lg_graph.invoke({"a": "", "items": []}, config)
        rw_graph.invoke({"a": "", "items": []}, config)

    def shape(saver: Any) -> list[Any]:
        return [
            (bool(t.config["configurable"]["checkpoint_ns"]), t.metadata["step"])
            for t in saver.list(config)
        ]

    ours_listed, theirs_listed = shape(ours), shape(theirs)
    assert len([s for s in ours_listed if not s[0]]) > 32
    assert ours_listed == theirs_listed
