"""The PostgreSQL store gives what LangGraph's ``PostgresStore`` gives for the same calls, on
the same server (each store in a database of its own), wherever LangGraph's behaves as rewind's
documentation says it does; and where it does not, the differences are those documented.

LangGraph's stamps items with the server's transaction time and leaves items written together
in any order; after each call that wrote, the test restamps LangGraph's rows with rewind's
times (items written together one microsecond apart, in rewind's order) so that orders can be
compared. Calls are brought into the domain both stores define alike (see
:func:`comparable`); the documented differences are checked one by one below.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import langgraph.store.base as lg
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from langgraph.store.postgres import PostgresStore as LgStore

import rewind.store.base as rw
from rewind.store.postgres import PostgresStore
from tests.store.calls import SCRIPT, calls, perform, written
from tests.store.conftest import FakeClock
from tests.store.differential import outcome

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@contextmanager
def stores(url: str, langgraph_url: str) -> Iterator[tuple[PostgresStore, LgStore]]:
    with (
        PostgresStore.from_conn_string(url) as ours,
        LgStore.from_conn_string(langgraph_url) as theirs,
    ):
        ours.setup()
        theirs.setup()
        yield ours, theirs


def empty(ours: PostgresStore, theirs: LgStore) -> None:
    ours.conn.execute("DELETE FROM store_items")
    theirs.conn.execute("DELETE FROM store")


def restamp(theirs: LgStore, places: list[tuple[tuple[str, ...], str]], now_us: int) -> None:
    """Give the items a call wrote rewind's time; items written together, one microsecond
    apart in rewind's order for equal times (by namespace, then key)."""
    texts = sorted({(".".join(namespace), key) for namespace, key in places})
    for rank, (prefix, key) in enumerate(texts):
        stamp = _EPOCH + timedelta(microseconds=now_us - rank)
        theirs.conn.execute(
            "UPDATE store SET updated_at = %s WHERE prefix = %s AND key = %s",
            (stamp, prefix, key),
        )


def positive(value: Any) -> Any:
    """Numbers made positive (LangGraph's orders compare their text, as for "-1" < "-2")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return abs(value)


def comparable(call: tuple[Any, ...]) -> tuple[Any, ...]:
    """A call brought into the domain both stores define alike: no negative numbers where
    LangGraph's compares text, no equality with ``None`` (rewind's, as SQLite's, matches a
    missing member too), no filter key rewind's refuses, no negative limits (no limit: 100) or
    offsets and no depth under 1 (LangGraph's raises)."""
    kind = call[0]
    if kind == "put":
        return ("put", call[1], call[2], {k: positive(v) for k, v in call[3].items()})
    if kind == "search":
        limit = call[3] if call[3] >= 0 else 100
        return ("search", call[1], _comparable_filter(call[2]), limit, max(call[4], 0))
    if kind == "list":
        depth = call[3] if call[3] is None or call[3] > 0 else 1
        limit = call[4] if call[4] >= 0 else 100
        return ("list", call[1], call[2], depth, limit, max(call[5], 0))
    if kind == "batch":
        return ("batch", [comparable(c) for c in call[1]])
    return call


def _comparable_filter(conditions: dict[str, Any] | None) -> dict[str, Any] | None:
    if conditions is None:
        return None
    kept: dict[str, Any] = {}
    for key, wanted in conditions.items():
        if wanted is None or " " in key:  # (LangGraph's does not check keys)
            continue
        if isinstance(wanted, dict):
            wanted = {op: positive(arg) for op, arg in wanted.items() if (op, arg) != ("$eq", None)}
            if not wanted and conditions[key]:
                continue
        kept[key] = positive(wanted)
    return kept


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_same(
    ours: PostgresStore, theirs: LgStore, script: list[tuple[Any, ...]], clock: FakeClock
) -> None:
    """Make each call on both stores (a millisecond apart) and compare what they give."""
    empty(ours, theirs)
    for n, call in enumerate(script):
        clock.advance(seconds=0.001)
        got = outcome(lambda call=call: perform(ours, rw, call))
        want = outcome(lambda call=call: perform(theirs, lg, call))
        if want[0] == "ok":
            restamp(theirs, written(call), clock.micros())
        assert got == want, f"call {n}: {call}"
    assert outcome(lambda: ours.search((), limit=100)) == outcome(
        lambda: theirs.search((), limit=100)
    )
    assert ours.list_namespaces(limit=1000) == theirs.list_namespaces(limit=1000)


def test_random_calls_give_what_langgraphs_gives(
    url: str, langgraph_url: str, clock: FakeClock
) -> None:
    with stores(url, langgraph_url) as (ours, theirs):

        @SETTINGS
        @given(calls.map(lambda script: [comparable(call) for call in script]))
        def check(script: list[tuple[Any, ...]]) -> None:
            check_same(ours, theirs, script, clock)

        check()


def test_a_scripted_session_gives_what_langgraphs_gives(
    url: str, langgraph_url: str, clock: FakeClock
) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        check_same(ours, theirs, [comparable(call) for call in SCRIPT], clock)


def test_both_keep_created_at_and_give_aware_times(
    url: str, langgraph_url: str, clock: FakeClock
) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        for store in (ours, theirs):
            store.put(("a",), "k", {"v": 1})
        clock.advance(seconds=2)
        for store in (ours, theirs):
            store.put(("a",), "k", {"v": 2})
            item = store.get(("a",), "k")
            assert item is not None and item.created_at < item.updated_at
            assert item.updated_at.utcoffset() == timedelta(0)


# --- the documented differences ----------------------------------------------------------------


def test_numbers_are_compared_as_numbers(url: str, langgraph_url: str) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        for store in (ours, theirs):
            store.put(("a",), "ten", {"n": 10})
            store.put(("a",), "minus", {"n": -1})
        assert [i.key for i in ours.search(("a",), filter={"n": {"$gt": 9}})] == ["ten"]
        assert [i.key for i in theirs.search(("a",), filter={"n": {"$gt": 9}})] == []  # "10" < "9"
        assert [i.key for i in ours.search(("a",), filter={"n": {"$lt": -2}})] == []
        assert [i.key for i in theirs.search(("a",), filter={"n": {"$lt": -2}})] == ["minus"]


def test_none_matches_a_missing_member_and_dotted_keys_read_nested_ones(
    url: str, langgraph_url: str
) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        for store in (ours, theirs):
            store.put(("a",), "k", {"m": {"x": 1}})
        assert len(ours.search(("a",), filter={"other": None})) == 1
        assert theirs.search(("a",), filter={"other": None}) == []
        assert len(ours.search(("a",), filter={"m.x": 1})) == 1
        assert theirs.search(("a",), filter={"m.x": 1}) == []


def test_values_keep_their_key_order(url: str, langgraph_url: str) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        for store in (ours, theirs):
            store.put(("a",), "k", {"zz": 1, "a": 2})
        assert list(ours.get(("a",), "k").value) == ["zz", "a"]  # type: ignore[union-attr]
        assert list(theirs.get(("a",), "k").value) == ["a", "zz"]  # type: ignore[union-attr]


def test_negative_limits_and_depths_are_answered(url: str, langgraph_url: str) -> None:
    with stores(url, langgraph_url) as (ours, theirs):
        for store in (ours, theirs):
            store.put(("a", "b"), "k", {})
        assert len(ours.search((), limit=-1, offset=-1)) == 1
        assert ours.list_namespaces(max_depth=0) == [("",)]
        assert ours.list_namespaces(limit=-1) == [("a", "b")]
        for call in (
            lambda: theirs.search((), limit=-1),
            lambda: theirs.list_namespaces(limit=-1),
            lambda: theirs.list_namespaces(max_depth=-1),
        ):
            with pytest.raises(psycopg.Error):
                call()


def test_langgraphs_tables_are_not_touched(url: str) -> None:
    with LgStore.from_conn_string(url) as theirs:
        theirs.setup()
        theirs.put(("a",), "k", {"theirs": True})
    with PostgresStore.from_conn_string(url) as ours:
        assert ours.get(("a",), "k") is None
        ours.put(("a",), "k", {"ours": True})
    with LgStore.from_conn_string(url) as theirs:
        assert theirs.get(("a",), "k").value == {"theirs": True}  # type: ignore[union-attr]
