"""LangGraph's saver helpers: PersistentDict, and the SQL helpers read LangGraph's own tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, TypedDict

from langgraph.checkpoint.memory import PersistentDict as LgPersistentDict
from langgraph.checkpoint.sqlite import SqliteSaver as LgSqliteSaver
from langgraph.graph import START, StateGraph

from rewind.checkpoint.memory import PersistentDict
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer
from rewind.checkpoint.sqlite.utils import load_pending_writes, pending_writes_sql, search_where


def test_persistent_dict_files_are_langgraphs(tmp_path: Path) -> None:
    path = str(tmp_path / "d.pkl")
    with PersistentDict(list, filename=path) as ours:
        ours["a"].append(1)
    assert ours == {}  # closed: written, then emptied
    theirs = LgPersistentDict(list, filename=path)
    theirs.load()
    assert theirs == {"a": [1]}
    theirs["b"].append(2)
    theirs.sync()
    again = PersistentDict(list, filename=path)
    again.load()
    assert again == {"a": [1], "b": [2]} and again["c"] == []


class State(TypedDict):
    n: int
    tag: str


def test_the_sql_helpers_read_langgraphs_sqlite_saver(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "lg.db", check_same_thread=False)
    saver = LgSqliteSaver(conn)
    builder = StateGraph(State)
    builder.add_node("inc", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "inc")
    graph = builder.compile(checkpointer=saver)
    for thread in ("a", "b"):
        config: Any = {"configurable": {"thread_id": thread}, "metadata": {"who": thread}}
        graph.invoke({"n": 0, "tag": thread}, config)
    expected = [
        t.config["configurable"]["checkpoint_id"]
        for t in saver.list({"configurable": {"thread_id": "a"}}, filter={"source": "loop"})
    ]
    where, params = search_where(
        {"configurable": {"thread_id": "a"}}, {"source": "loop", "who": "a"}
    )
    rows = conn.execute(
        f"SELECT checkpoint_id FROM checkpoints {where} ORDER BY checkpoint_id DESC", params
    ).fetchall()
    assert [r[0] for r in rows] == expected and expected
    where, params = search_where(
        None, {"who": "b"}, before={"configurable": {"checkpoint_id": "~"}}
    )
    assert {r[0] for r in conn.execute(f"SELECT thread_id FROM checkpoints {where}", params)} == {
        "b"
    }
    first = list(saver.list({"configurable": {"thread_id": "a"}}))[-1]
    rows = conn.execute(
        pending_writes_sql(has_task_path=True),
        ("a", "", first.config["configurable"]["checkpoint_id"]),
    ).fetchall()
    assert load_pending_writes(rows, JsonPlusSerializer()) == first.pending_writes
    assert "''" in pending_writes_sql(has_task_path=False)


def test_a_filter_key_that_could_inject_sql_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="Invalid filter key"):
        search_where(None, {"a') OR 1=1 --": 1})
