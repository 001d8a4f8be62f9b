"""Random calls to a store, for the differential tests: the same calls are made on a LangGraph
store and a rewind store through :func:`perform`."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

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
    st.just("search"), prefixes, filters, st.sampled_from([-1, 0, 2, 5, 10]), st.integers(-1, 2)
)
listings = st.tuples(
    st.just("list"),
    patterns,
    patterns,
    st.none() | st.integers(-1, 3),
    st.integers(-1, 6),
    st.integers(-1, 3),
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


def written(call: tuple[Any, ...]) -> list[tuple[tuple[str, ...], str]]:
    """The items a call puts (not deletes)."""
    if call[0] == "put":
        return [(call[1], call[2])]
    if call[0] == "batch":
        return [place for c in call[1] for place in written(c)]
    return []


SCRIPT: list[tuple[Any, ...]] = [
    ("put", ("a",), "k1", {"n": 1, "s": "x", "f": 0.5}),
    ("put", ("a", "b"), "k2", {"n": 2, "meta": {"x": 1}, "f": 1.0}),
    ("put", ("b",), "k1", {"n": 3, "l": [1, 2], "t": True, "f": -1.0}),
    ("put", ("a-c",), "k3", {"n": 0, "f": 0.0}),
    ("put", ("a",), "k1", {"n": 4, "f": 2.0}),  # written again: last among equal times
    ("get", ("a",), "k1"),
    ("search", ("a",), None, 10, 0),
    ("search", (), {"n": {"$gte": 2, "$lt": 4}}, 10, 0),
    ("search", (), {"meta": {"x": 1}}, 10, 0),  # unsupported in SQLite: an error
    ("search", (), {"l": [1, 2]}, 10, 0),
    ("search", (), {"t": True}, 10, 0),
    ("search", (), {"n": {"$gt": 0}}, 2, 1),
    ("search", (), {"missing": {"$gt": 0}}, 10, 0),
    ("search", (), {"n": {"$like": 1}}, 10, 0),
    ("search", (), {"bad key": 1}, 10, 0),
    ("list", None, None, None, 100, 0),
    ("list", ("a",), None, 1, 100, 0),
    ("list", ("*", "b"), None, None, 100, 0),
    ("list", None, ("b",), None, 100, 0),
    ("list", None, None, 0, 100, 0),
    ("list", None, None, -1, 100, 0),
    ("list", None, None, None, -1, -2),
    ("delete", ("a", "b"), "k2"),
    ("list", None, None, None, 100, 0),  # an emptied namespace is not listed
    ("batch", [("put", ("c",), "k1", {"n": 1}), ("get", ("c",), "k1")]),
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
    ("search", ("a",), None, -1, -1),
]
"""A session the differential tests replay on a LangGraph store and on rewind's: items in
nested namespaces, filters of each kind (unsupported ones among them), listings at their
edges, batches that write an item twice."""
