"""``InMemoryStore`` answers as LangGraph's does: the same calls on both give the same items,
orders, scores, namespaces and errors. Then what only rewind's does: TTLs."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import langgraph.store.base as lg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.memory import InMemoryStore as LgStore

import rewind.store.base as rw
from rewind.store.memory import InMemoryStore
from rewind.store.writes import StoreWrite
from tests.store.differential import aletters, letters, outcome

# --- the calls --------------------------------------------------------------------------------

NAMESPACES = [("a",), ("a", "b"), ("a", "b", "c"), ("b",), ("a-c",), ("a", "c"), ("b", "x", "c")]
KEYS = ["k1", "k2", "k3"]

# Every value has the numeric fields ("n", "f"), so that ordering filters compare rather than
# fail (a field an item lacks makes LangGraph's raise TypeError; some filters name "missing").
values = st.fixed_dictionaries(
    {"n": st.integers(-2, 3), "f": st.sampled_from([-1.5, 0.0, 1.0, 2.5])},
    optional={
        "s": st.sampled_from(["x", "y", "3"]),
        "t": st.booleans(),
        "meta": st.fixed_dictionaries({}, optional={"x": st.integers(0, 2), "y": st.just("z")}),
        "l": st.lists(st.integers(0, 2), max_size=2),
        "none": st.none(),
    },
)


def operators(args: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), args, min_size=1, max_size=2
    )


# One condition on a field, of the field's own kind mostly (an ordering operator on a string,
# or on a field an item lacks, raises in LangGraph's store: those are compared too).
conditions = st.one_of(
    st.fixed_dictionaries({"n": operators(st.integers(-2, 3))}),
    st.fixed_dictionaries({"n": operators(st.integers(-2, 3))}),
    st.fixed_dictionaries({"n": st.integers(-2, 3)}),
    st.fixed_dictionaries({"f": operators(st.sampled_from([-1.5, 0.0, 1.0, 2.5]))}),
    st.fixed_dictionaries({"s": st.sampled_from(["x", "y", "3"]) | operators(st.just("x"))}),
    st.fixed_dictionaries({"t": st.booleans()}),
    st.fixed_dictionaries({"meta": st.fixed_dictionaries({}, optional={"x": st.integers(0, 2)})}),
    st.fixed_dictionaries({"l": st.lists(st.integers(0, 2), max_size=2)}),
    st.fixed_dictionaries({"none": st.none() | operators(st.none())}),
    st.fixed_dictionaries({"missing": st.none() | operators(st.integers(0, 1))}),
    st.fixed_dictionaries({"n": st.fixed_dictionaries({"$in": st.just([1])})}),
)
filters = (
    st.none()
    | conditions
    | st.tuples(conditions, conditions).map(lambda pair: {**pair[0], **pair[1]})
)
prefixes = st.sampled_from([(), (), ("a",), ("a",), ("a", "b"), ("b",), ("a", "c"), ("z",)])
patterns = st.none() | st.lists(
    st.sampled_from(["a", "b", "c", "x", "*"]), min_size=1, max_size=3
).map(tuple)

puts = st.tuples(st.just("put"), st.sampled_from(NAMESPACES), st.sampled_from(KEYS), values)
deletes = st.tuples(st.just("delete"), st.sampled_from(NAMESPACES), st.sampled_from(KEYS))
gets = st.tuples(st.just("get"), st.sampled_from(NAMESPACES), st.sampled_from(KEYS))
searches = st.tuples(
    st.just("search"), prefixes, filters, st.sampled_from([0, 2, 5, 10]), st.integers(0, 2)
)
listings = st.tuples(
    st.just("list"),
    patterns,
    patterns,
    st.none() | st.integers(1, 3),
    st.integers(0, 6),
    st.integers(0, 3),
)
single = st.one_of(puts, deletes, gets, searches, listings)
batches = st.tuples(st.just("batch"), st.lists(single, min_size=1, max_size=4))
# Some items first, then anything (more puts among it).
calls = st.tuples(
    st.lists(puts, min_size=2, max_size=10),
    st.lists(
        st.one_of(puts, puts, deletes, gets, searches, searches, searches, listings, batches),
        min_size=1,
        max_size=16,
    ),
).map(lambda parts: parts[0] + parts[1])


def op_of(mod: Any, call: tuple[Any, ...]) -> Any:
    """A call as an op of ``mod`` (LangGraph's or rewind's base module)."""
    kind = call[0]
    if kind == "put":
        return mod.PutOp(call[1], call[2], call[3])
    if kind == "delete":
        return mod.PutOp(call[1], call[2], None)
    if kind == "get":
        return mod.GetOp(call[1], call[2])
    if kind == "search":
        return mod.SearchOp(call[1], call[2], call[3], call[4])
    conditions = []
    if call[1]:
        conditions.append(mod.MatchCondition("prefix", call[1]))
    if call[2]:
        conditions.append(mod.MatchCondition("suffix", call[2]))
    return mod.ListNamespacesOp(tuple(conditions), call[3], call[4], call[5])


def perform(store: Any, mod: Any, call: tuple[Any, ...]) -> Any:
    """Make ``call`` through the store's methods (a batch: through ``batch``)."""
    kind = call[0]
    if kind == "put":
        return store.put(call[1], call[2], call[3])
    if kind == "delete":
        return store.delete(call[1], call[2])
    if kind == "get":
        return store.get(call[1], call[2])
    if kind == "search":
        return store.search(call[1], filter=call[2], limit=call[3], offset=call[4])
    if kind == "list":
        return store.list_namespaces(
            prefix=call[1], suffix=call[2], max_depth=call[3], limit=call[4], offset=call[5]
        )
    return store.batch([op_of(mod, c) for c in call[1]])


def check_same(ours: Any, theirs: Any, calls: list[tuple[Any, ...]]) -> None:
    for n, call in enumerate(calls):
        got = outcome(lambda call=call: perform(ours, rw, call))
        want = outcome(lambda call=call: perform(theirs, lg, call))
        assert got == want, f"call {n}: {call}"
    everything = ((), None, 100, 0)
    assert outcome(lambda: ours.search(*everything[:1], limit=100)) == outcome(
        lambda: theirs.search(*everything[:1], limit=100)
    )
    assert ours.list_namespaces() == theirs.list_namespaces()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_random_calls_give_what_langgraphs_gives(calls: list[tuple[Any, ...]]) -> None:
    check_same(InMemoryStore(), LgStore(), calls)


def test_a_scripted_session_gives_what_langgraphs_gives() -> None:
    script: list[tuple[Any, ...]] = [
        ("put", ("a",), "k1", {"n": 1, "s": "x"}),
        ("put", ("a", "b"), "k2", {"n": 2, "meta": {"x": 1}}),
        ("put", ("b",), "k1", {"n": 3, "l": [1, 2]}),
        ("put", ("a",), "k1", {"n": 4}),  # replaced, keeps its place
        ("get", ("a",), "k1"),
        ("get", ("z",), "nothing"),  # LangGraph's lists ("z",) from now on
        ("search", ("a",), None, 10, 0),
        ("search", (), {"n": {"$gte": 2, "$lt": 4}}, 10, 0),
        ("search", (), {"meta": {"x": 1}}, 10, 0),
        ("search", (), {"l": [1, 2]}, 10, 0),
        ("search", (), {"n": {"$gt": 0}}, 2, 1),
        ("search", (), {"missing": {"$gt": 0}}, 10, 0),  # TypeError, as LangGraph's
        ("search", (), {"n": {"$like": 1}}, 10, 0),  # unsupported operator
        ("list", None, None, None, 100, 0),
        ("list", ("a",), None, 1, 100, 0),
        ("list", ("*", "b"), None, None, 100, 0),
        ("list", None, ("b",), None, 100, 0),
        ("delete", ("a", "b"), "k2"),
        ("list", None, None, None, 100, 0),  # the emptied namespace stays listed
        (
            "batch",
            [
                ("put", ("c",), "k1", {"n": 1}),
                ("get", ("c",), "k1"),
                ("search", ("c",), None, 5, 0),
            ],
        ),
        ("get", ("c",), "k1"),
        (
            "batch",
            [
                ("put", ("c",), "k1", {"n": 1}),
                ("put", ("c",), "k2", {}),
                ("put", ("c",), "k1", {"n": 2}),
            ],
        ),
        ("search", ("c",), None, 10, 0),
    ]
    check_same(InMemoryStore(), LgStore(), script)


FILTER_ITEMS = [
    {"n": 1, "f": 0.5, "s": "x", "t": True, "l": [1, 2], "meta": {"x": 1, "y": "z"}},
    {"n": 2, "f": 2.0, "s": "y", "t": False, "l": [], "meta": {"x": 2}, "none": None},
    {"n": 3, "f": -1.0, "s": "3", "l": [2, 1], "meta": {}},
    {"n": 2, "f": 2.0, "s": "x"},
]
GRID = [
    {field: {operator: arg}}
    for field, args in (("n", [1, 2, 3, 2.0]), ("f", [0.5, 2]), ("s", ["x", "3"]))
    for operator in ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
    for arg in args
] + [
    {"n": 2},
    {"n": 2.0},
    {"s": "x", "n": 2},
    {"t": True},
    {"t": False},
    {"l": [1, 2]},
    {"l": []},
    {"meta": {"x": 1}},
    {"meta": {}},
    {"none": None},
    {"missing": None},
    {"none": {"$ne": None}},
    {"n": {"$gt": 1, "$lte": 2}},
    {"n": {"$in": [1]}},
    {"missing": {"$gt": 1}},
    {"s": {"$gt": 1}},
]


@pytest.mark.parametrize("condition", GRID, ids=repr)
def test_every_filter_gives_what_langgraphs_gives(condition: dict[str, Any]) -> None:
    ours, theirs = InMemoryStore(), LgStore()
    for store in (ours, theirs):
        for n, value in enumerate(FILTER_ITEMS):
            store.put(("a", str(n % 2)), f"k{n}", value)
    for prefix in ((), ("a", "1")):
        got = outcome(lambda prefix=prefix: ours.search(prefix, filter=condition))
        assert got == outcome(lambda prefix=prefix: theirs.search(prefix, filter=condition))


@pytest.mark.parametrize("value", ["abc", 5, [("a", 1)], None, {"ok": {1, 2}}], ids=repr)
def test_put_of_a_value_that_is_not_a_mapping_fails_as_langgraphs(value: Any) -> None:
    ours, theirs = InMemoryStore(), LgStore()
    assert outcome(lambda: ours.put(("a",), "k", value)) == outcome(
        lambda: theirs.put(("a",), "k", value)
    )
    assert outcome(lambda: ours.get(("a",), "k")) == outcome(lambda: theirs.get(("a",), "k"))


def test_a_failing_batch_writes_nothing() -> None:
    store = InMemoryStore()
    store.put(("a",), "k", {"v": 1})
    with pytest.raises(ValueError, match="dictionary update sequence"):
        store.batch([rw.PutOp(("a",), "k", {"v": 2}), rw.PutOp(("a",), "j", "abc")])  # type: ignore[arg-type]
    assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
    assert store.get(("a",), "j") is None


def test_unknown_ops_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown operation type"):
        InMemoryStore().batch(["nope"])  # type: ignore[list-item]


async def test_async_calls_give_what_langgraphs_give() -> None:
    ours, theirs = InMemoryStore(), LgStore()
    for store in (ours, theirs):
        await store.aput(("a",), "k1", {"n": 1})
        await store.aput(("a", "b"), "k2", {"n": 2})
        await store.adelete(("a",), "k9")

    async def views(store: Any, mod: Any) -> list[Any]:
        return [
            (await store.aget(("a",), "k1")).value,
            [(i.namespace, i.key, i.value) for i in await store.asearch(("a",))],
            await store.alist_namespaces(prefix=("a",)),
            (await store.abatch([mod.GetOp(("a", "b"), "k2")]))[0].value,
        ]

    assert await views(ours, rw) == await views(theirs, lg)


# --- semantic search ----------------------------------------------------------------------------

TEXTS = st.text("abcdefgh", min_size=1, max_size=6)
# Each key has its own index choice, and every value the fields it names, so that a put
# replaces all of an item's vectors in LangGraph's store too (it keeps those a new value lacks).
INDEX_OF = {"k1": None, "k2": ["text", "tags[*]"], "k3": False, "k4": ["meta.title"]}


@st.composite
def semantic_puts(draw: st.DrawFn) -> tuple[Any, ...]:
    key = draw(st.sampled_from(sorted(INDEX_OF)))
    text = draw(TEXTS)
    value = {
        "text": text,
        "tags": [text[::-1] + "#1", text + "#2"],
        "meta": {"title": draw(TEXTS) + "!"},
        "n": draw(st.integers(0, 3)),
    }
    return ("put", draw(st.sampled_from(NAMESPACES[:4])), key, value)


semantic_searches = st.tuples(
    st.just("query"),
    prefixes,
    TEXTS,
    st.none() | st.just({"n": {"$gte": 1}}),
    st.integers(1, 5),
    st.integers(0, 3),
)
semantic_calls = st.lists(
    st.one_of(semantic_puts(), semantic_puts(), deletes, semantic_searches), max_size=16
)


def semantic(store: Any, call: tuple[Any, ...]) -> Any:
    if call[0] == "query":
        _, prefix, query, condition, limit, offset = call
        return store.search(prefix, query=query, filter=condition, limit=limit, offset=offset)
    if call[0] == "put":
        return store.put(call[1], call[2], call[3], index=INDEX_OF[call[2]])
    return perform(store, None, call)


@pytest.mark.parametrize("embed", [letters, aletters], ids=["sync", "async"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=semantic_calls)
def test_semantic_search_ranks_and_scores_as_langgraphs(embed: Any, calls: list[Any]) -> None:
    if embed is aletters:
        asyncio.run(_semantic_async(calls))
        return
    index = {"dims": 8, "embed": embed, "fields": ["text"]}
    ours, theirs = InMemoryStore(index=index), LgStore(index=index)  # type: ignore[arg-type]
    for n, call in enumerate(calls):
        got = outcome(lambda call=call: semantic(ours, call))
        want = outcome(lambda call=call: semantic(theirs, call))
        assert got == want, f"call {n}: {call}"


async def _semantic_async(calls: list[Any]) -> None:
    index = {"dims": 8, "embed": aletters, "fields": ["text"]}
    ours, theirs = InMemoryStore(index=index), LgStore(index=index)  # type: ignore[arg-type]
    for call in calls:
        results = []
        for store in (ours, theirs):
            try:
                if call[0] == "query":
                    _, prefix, query, condition, limit, offset = call
                    found = await store.asearch(
                        prefix, query=query, filter=condition, limit=limit, offset=offset
                    )
                    results.append(("ok", [(i.namespace, i.key, i.score) for i in found]))
                elif call[0] == "put":
                    await store.aput(call[1], call[2], call[3], index=INDEX_OF[call[2]])
                    results.append(("ok", None))
                else:
                    await store.adelete(call[1], call[2])
                    results.append(("ok", None))
            except Exception as exc:
                results.append(("error", type(exc).__name__, str(exc)))
        assert results[0] == results[1], call


def test_scores_are_langgraphs_to_the_bit() -> None:
    index = {"dims": 8, "embed": letters, "fields": ["text", "tags[*]"]}
    ours, theirs = InMemoryStore(index=index), LgStore(index=index)  # type: ignore[arg-type]
    for store in (ours, theirs):
        store.put(("docs",), "a", {"text": "abcabc", "tags": ["hh#", "ab#"]})
        store.put(("docs",), "b", {"text": "hgf"})
        store.put(("docs",), "c", {"other": "no text"})
        store.put(("docs",), "d", {"text": "aaab"}, index=False)
    got = [(i.key, i.score) for i in ours.search(("docs",), query="abba", limit=4)]
    want = [(i.key, i.score) for i in theirs.search(("docs",), query="abba", limit=4)]
    assert got == want
    assert got[0][0] == "a" and got[0][1] is not None and got[0][1] > 0.8
    assert [k for k, s in got if s is None] == ["c", "d"]  # unranked ones fill the page


def test_a_put_replaces_the_items_vectors() -> None:
    # LangGraph's keeps the old vectors of an item put again with index=False: its old text
    # still ranks it. rewind's drops them with the value they were made of.
    store = InMemoryStore(index={"dims": 8, "embed": letters, "fields": ["text"]})
    store.put(("d",), "k", {"text": "aaaa"})
    store.put(("d",), "j", {"text": "hhhh"})
    assert store.search(("d",), query="aaaa")[0].key == "k"
    store.put(("d",), "k", {"text": "aaaa"}, index=False)
    found = store.search(("d",), query="aaaa")
    assert [(i.key, i.score is None) for i in found] == [("j", False), ("k", True)]
    assert store._vectors[("d",)].get("k") is None


def test_equal_texts_in_one_batch_are_embedded_once() -> None:
    seen: list[list[str]] = []

    def embed(texts: Any) -> list[list[float]]:
        seen.append(list(texts))
        return letters(texts)

    store = InMemoryStore(index={"dims": 8, "embed": embed, "fields": ["a", "b"]})
    store.batch(
        [rw.PutOp(("x",), "1", {"a": "abc", "b": "abc"}), rw.PutOp(("x",), "2", {"a": "abc"})]
    )
    assert seen == [["abc"]]
    assert set(store._vectors[("x",)]["1"]) == {"a", "b"}
    assert [i.key for i in store.search(("x",), query="abc")] == ["1", "2"]


def test_embedding_count_mismatch_is_refused_before_writing() -> None:
    store = InMemoryStore(index={"dims": 8, "embed": lambda texts: [], "fields": ["t"]})
    with pytest.raises(ValueError, match=r"Number of embeddings \(0\) does not match"):
        store.put(("x",), "k", {"t": "abc"})
    assert store.get(("x",), "k") is None


def test_index_config_is_copied_and_tokenized() -> None:
    index: Any = {"dims": 8, "embed": letters, "fields": ["a.b[*]"]}
    store = InMemoryStore(index=index)
    assert "__tokenized_fields" not in index
    assert store.index_config is not None
    assert store.index_config["__tokenized_fields"] == [("a.b[*]", ["a", "b", "[*]"])]
    assert InMemoryStore().index_config is None and InMemoryStore().embeddings is None


# --- TTL (rewind only: LangGraph's InMemoryStore refuses TTLs) -----------------------------------


def test_items_expire_and_sweeps_remove_them() -> None:
    store = InMemoryStore(ttl={"default_ttl": 0.001})  # 60 ms
    seen: list[list[StoreWrite]] = []
    store.add_write_listener(seen.append)
    store.put(("a",), "short", {"v": 1})
    store.put(("a",), "forever", {"v": 2}, ttl=None)
    store.put(("a",), "long", {"v": 3}, ttl=10)
    assert store.sweep_ttl() == 0
    time.sleep(0.08)
    assert store.get(("a",), "short", refresh_ttl=False) is not None  # not swept yet
    seen.clear()
    assert store.sweep_ttl() == 1
    assert store.get(("a",), "short") is None
    assert {i.key for i in store.search(("a",))} == {"forever", "long"}
    assert seen == [[StoreWrite(("a",), "short", None, None, None, expired=True)]]
    assert store.sweep_ttl() == 0


def test_reads_refresh_ttls_unless_told_not_to() -> None:
    store = InMemoryStore(ttl={"default_ttl": 0.002})  # 120 ms
    store.put(("a",), "read", {"v": 1})
    store.put(("a",), "searched", {"v": 2})
    store.put(("a",), "untouched", {"v": 3})
    for _ in range(3):
        time.sleep(0.05)
        store.get(("a",), "read")
        store.search(("a",), filter={"v": 2})
        store.get(("a",), "untouched", refresh_ttl=False)
    time.sleep(0.03)
    store.sweep_ttl()
    assert {i.key for i in store.search(("a",))} == {"read", "searched"}

    lazy = InMemoryStore(ttl={"default_ttl": 0.001, "refresh_on_read": False})
    lazy.put(("a",), "k", {"v": 1})
    time.sleep(0.04)
    lazy.get(("a",), "k")  # the config's default: no refresh
    time.sleep(0.04)
    assert lazy.sweep_ttl() == 1


def test_omit_expired_hides_expired_items_before_the_sweep() -> None:
    store = InMemoryStore(ttl={"default_ttl": 0.001, "omit_expired": True})
    store.put(("a",), "k", {"v": 1})
    store.put(("b",), "k", {"v": 1}, ttl=None)
    time.sleep(0.08)
    assert store.get(("a",), "k") is None
    assert store.search(("a",)) == []
    assert store.list_namespaces() == [("b",)]
    assert store._data[("a",)]  # still there until swept
    store.sweep_ttl()
    assert not store._data[("a",)]


def test_a_put_without_ttl_clears_the_old_one() -> None:
    store = InMemoryStore()
    store.put(("a",), "k", {"v": 1}, ttl=0.001)
    store.put(("a",), "k", {"v": 2})
    time.sleep(0.08)
    assert store.sweep_ttl() == 0
    store.put(("a",), "k", {"v": 3}, ttl=0.001)
    store.delete(("a",), "k")
    assert store._expiry == {}


def test_the_sweeper_thread_sweeps_and_stops() -> None:
    assert InMemoryStore().start_ttl_sweeper().done()  # no TTL config: nothing to run
    store = InMemoryStore(ttl={"default_ttl": 0.0005, "sweep_interval_minutes": 1})
    swept = threading.Event()
    store.add_write_listener(lambda writes: any(w.expired for w in writes) and swept.set())
    store.put(("a",), "k", {"v": 1})
    future = store.start_ttl_sweeper(sweep_interval_minutes=0.001)  # type: ignore[arg-type]
    assert store.start_ttl_sweeper() is not future  # already running: a new handle
    assert swept.wait(2)
    assert store.get(("a",), "k") is None
    assert store.stop_ttl_sweeper(timeout=2)
    assert future.result(timeout=2) is None
    assert store.stop_ttl_sweeper()  # not running


def test_cancelling_the_sweepers_future_stops_it() -> None:
    store = InMemoryStore(ttl={"default_ttl": 1})
    future = store.start_ttl_sweeper(sweep_interval_minutes=1)
    future.cancel()
    thread = store._sweeper._thread
    assert thread is not None
    thread.join(2)
    assert not thread.is_alive()
