"""``rewind.store.base`` has LangGraph's names, shapes, defaults and errors."""

from __future__ import annotations

import importlib
import inspect
from datetime import UTC, datetime
from typing import Any, get_type_hints

import langgraph.store.base as lg
import langgraph.store.base.batch as lg_batch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings

import rewind.store.base as rw
import rewind.store.base.batch as rw_batch
from rewind.store.memory import InMemoryStore
from tests.store.differential import aletters, letters, outcome

# --- names ------------------------------------------------------------------------------------


MODULES = ["base", "base.embed", "base.batch", "memory", "sqlite", "sqlite.base", "sqlite.aio"]
MODULES += ["postgres", "postgres.base", "postgres.aio"]
NOT_PROVIDED_THERE = {
    # LangGraph's PostgresStore's migrations, rows and pgvector SQL (rewind's keeps its items in
    # rewind's schema and ranks vectors in Python).
    "postgres.base": {"C", "Migration", "Row", "get_distance_operator"},
    "postgres.aio": {"Row"},
}


@pytest.mark.parametrize("name", MODULES)
def test_modules_export_what_langgraphs_do(name: str) -> None:
    ours = importlib.import_module(f"rewind.store.{name}")
    theirs = importlib.import_module(f"langgraph.store.{name}")
    if hasattr(theirs, "__all__"):
        assert ours.__all__ == theirs.__all__
    # Every class, function and value of LangGraph's (its own or re-exported), not the standard
    # library's it happens to import.
    wanted = {
        name
        for name, value in vars(theirs).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").split(".")[0] in {"langgraph", "langchain_core"}
    }
    missing = sorted(n for n in wanted if not hasattr(ours, n))
    assert missing == sorted(NOT_PROVIDED_THERE.get(name, ()))


@pytest.mark.parametrize(
    "name",
    [
        "GetOp",
        "SearchOp",
        "PutOp",
        "ListNamespacesOp",
        "MatchCondition",
    ],
)
def test_ops_have_langgraphs_fields_and_defaults(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)
    assert ours._fields == theirs._fields
    assert ours._field_defaults == theirs._field_defaults


@pytest.mark.parametrize("name", ["TTLConfig", "IndexConfig"])
def test_configs_have_langgraphs_keys(name: str) -> None:
    ours, theirs = getattr(rw, name), getattr(lg, name)
    assert ours.__annotations__.keys() == theirs.__annotations__.keys()
    assert ours.__total__ == theirs.__total__


METHODS = ("get", "search", "put", "delete", "list_namespaces", "batch")
METHODS += ("aget", "asearch", "aput", "adelete", "alist_namespaces", "abatch")


def _signatures(cls: type) -> dict[str, list[tuple[Any, ...]]]:
    """Each method's parameters: name, kind, default and annotation (a union as a set)."""

    def annotation(value: Any) -> Any:
        return frozenset(part.strip() for part in str(value).split("|"))

    return {
        name: [
            (p.name, p.kind, repr(p.default), annotation(p.annotation))
            for p in inspect.signature(getattr(cls, name)).parameters.values()
        ]
        for name in METHODS
    }


def test_base_store_methods_have_langgraphs_signatures() -> None:
    assert _signatures(rw.BaseStore) == _signatures(lg.BaseStore)
    assert _signatures(rw_batch.AsyncBatchedBaseStore) == _signatures(
        lg_batch.AsyncBatchedBaseStore
    )
    assert rw.BaseStore.supports_ttl is False and rw.BaseStore.ttl_config is None


def test_type_aliases_and_sentinel() -> None:
    assert rw.NOT_PROVIDED is not None and not rw.NOT_PROVIDED
    assert repr(rw.NOT_PROVIDED) == repr(lg.NOT_PROVIDED) == "NOT_GIVEN"
    assert rw.NamespaceMatchType == lg.NamespaceMatchType
    assert str(rw.NamespacePath) == str(lg.NamespacePath)
    assert issubclass(rw.InvalidNamespaceError, ValueError)
    assert {a.__name__ for a in rw.Op.__args__} == {a.__name__ for a in lg.Op.__args__}
    hints = get_type_hints(rw.PutOp)
    assert set(hints) == {"namespace", "key", "value", "index", "ttl"}


# --- items ------------------------------------------------------------------------------------


def test_items_behave_as_langgraphs() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    kw: dict[str, Any] = {"value": {"a": 1}, "key": "k", "namespace": ["n", "m"]}
    ours = rw.Item(created_at=now, updated_at=now, **kw)
    theirs = lg.Item(created_at=now, updated_at=now, **kw)
    assert ours.dict() == theirs.dict()
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert ours.namespace == ("n", "m")
    assert ours == rw.Item(created_at=now, updated_at=now, **kw)
    assert ours != rw.Item(created_at=now, updated_at=now, **{**kw, "key": "other"})
    assert ours != "k"
    again = rw.Item(**{**ours.dict(), "namespace": ours.namespace})  # from its dict's strings
    assert again == ours

    found = rw.SearchItem(("n",), "k", {"a": 1}, now, now, score=0.5)
    theirs_found = lg.SearchItem(("n",), "k", {"a": 1}, now, now, score=0.5)
    assert found.dict() == theirs_found.dict()
    assert repr(found) == repr(theirs_found)
    assert rw.SearchItem(("n",), "k", {}, now, now).score is None
    assert not hasattr(found, "__dict__")  # slotted, as LangGraph's


# --- validation -------------------------------------------------------------------------------


NAMESPACES: list[Any] = [
    (),
    ("",),
    ("a", ""),
    ("a.b",),
    ("a", 1),
    ("a\x00",),
    ("langgraph",),
    ("langgraph", "x"),
    ("x", "langgraph"),
    ("ok",),
]


@pytest.mark.parametrize("namespace", NAMESPACES, ids=repr)
@pytest.mark.parametrize("method", ["put", "get", "delete", "search"])
def test_namespace_errors_match_langgraphs(namespace: Any, method: str) -> None:
    def call(store: Any) -> Any:
        if method == "put":
            return store.put(namespace, "k", {"v": 1})
        if method == "get":
            return store.get(namespace, "k")
        if method == "delete":
            return store.delete(namespace, "k")
        return store.search(namespace)

    from langgraph.store.memory import InMemoryStore as LgStore

    ours, theirs = InMemoryStore(), LgStore()
    assert outcome(lambda: call(ours)) == outcome(lambda: call(theirs))


@pytest.mark.parametrize(
    "kwargs",
    [{"prefix": ("a.b",)}, {"suffix": ("",)}, {"prefix": ("a", 2)}, {"prefix": ("a", "*")}],
    ids=repr,
)
def test_list_namespaces_label_errors_match_langgraphs(kwargs: dict[str, Any]) -> None:
    from langgraph.store.memory import InMemoryStore as LgStore

    assert outcome(lambda: InMemoryStore().list_namespaces(**kwargs)) == outcome(
        lambda: LgStore().list_namespaces(**kwargs)
    )


@pytest.mark.parametrize(
    "op",
    [
        ("get", ("a.b",)),
        ("put", ("",)),
        ("search", ("x", "a.b")),
        ("list", ("a", "")),
        ("list", ("ok",)),
    ],
    ids=repr,
)
def test_validate_op_namespace_matches_langgraphs(op: tuple[str, Any]) -> None:
    kind, namespace = op

    def make(mod: Any) -> Any:
        if kind == "get":
            return mod.GetOp(namespace, "k")
        if kind == "put":
            return mod.PutOp(namespace, "k", {})
        if kind == "search":
            return mod.SearchOp(namespace)
        return mod.ListNamespacesOp((mod.MatchCondition("prefix", namespace),))

    assert outcome(lambda: rw.validate_op_namespace(make(rw))) == outcome(
        lambda: lg.validate_op_namespace(make(lg))
    )


def _store_without_ttl(base: type) -> Any:
    class NoTTL(base):  # type: ignore[valid-type,misc]
        def batch(self, ops: Any) -> list[Any]:
            return [None for _ in ops]

        async def abatch(self, ops: Any) -> list[Any]:
            return [None for _ in ops]

    return NoTTL()


def test_ttl_on_a_store_without_ttl_support_is_refused_as_langgraph_does() -> None:
    ours, theirs = _store_without_ttl(rw.BaseStore), _store_without_ttl(lg.BaseStore)
    refused = outcome(lambda: ours.put(("a",), "k", {}, ttl=5))
    assert refused == outcome(lambda: theirs.put(("a",), "k", {}, ttl=5))
    assert refused[:2] == ("error", "NotImplementedError")
    ours.put(("a",), "k", {}, ttl=None)  # None is always accepted


def test_ensure_refresh_and_ttl_defaults_match_langgraphs() -> None:
    configs: list[Any] = [None, {}, {"refresh_on_read": False}, {"default_ttl": 3.0}]
    for config in configs:
        for refresh in (None, True, False):
            assert rw._ensure_refresh(config, refresh) == lg._ensure_refresh(config, refresh)
        for ttl in (rw.NOT_PROVIDED, None, 2.5):
            theirs_ttl = lg.NOT_PROVIDED if ttl is rw.NOT_PROVIDED else ttl
            assert rw._ensure_ttl(config, ttl) == lg._ensure_ttl(config, theirs_ttl)


# --- embeddings ---------------------------------------------------------------------------------


def test_ensure_embeddings_wraps_functions_and_keeps_embeddings() -> None:
    sync = rw.ensure_embeddings(letters)
    assert isinstance(sync, Embeddings)
    assert sync.embed_query("abba") == letters(["abba"])[0]
    assert sync.embed_documents(["a", "b"]) == letters(["a", "b"])

    class Mine(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return letters(texts)

        def embed_query(self, text: str) -> list[float]:
            return letters([text])[0]

    mine = Mine()
    assert rw.ensure_embeddings(mine) is mine


async def test_async_embedding_functions_serve_the_async_methods_only() -> None:
    wrapped = rw.ensure_embeddings(aletters)
    assert await wrapped.aembed_query("abc") == letters(["abc"])[0]
    assert await wrapped.aembed_documents(["ab"]) == letters(["ab"])
    with pytest.raises(ValueError, match="initialized with an async function") as ours:
        wrapped.embed_query("abc")
    with pytest.raises(ValueError, match="initialized with an async function") as theirs:
        lg.ensure_embeddings(aletters).embed_query("abc")
    assert str(ours.value) == str(theirs.value)
    sync = rw.ensure_embeddings(letters)
    assert await sync.aembed_query("abc") == letters(["abc"])[0]  # on a thread

    class Callable_:
        async def __call__(self, texts: list[str]) -> list[list[float]]:
            return letters(texts)

    assert await rw.ensure_embeddings(Callable_()).aembed_query("a") == letters(["a"])[0]


def test_ensure_embeddings_errors_match_langgraphs() -> None:
    assert outcome(lambda: rw.ensure_embeddings(None)) == outcome(
        lambda: lg.ensure_embeddings(None)
    )
    ours = outcome(lambda: rw.ensure_embeddings("openai:text-embedding-3-small"))
    theirs = outcome(lambda: lg.ensure_embeddings("openai:text-embedding-3-small"))
    assert ours == theirs and ours[0] == "error"


PATHS = [
    "$",
    "",
    "a",
    "a.b",
    "a.b.c",
    "l[0]",
    "l[-1]",
    "l[5]",
    "l[*]",
    "l[*].x",
    "l[x]",
    "*",
    "*.x",
    "{a,b}",
    "{a.b, l}",
    "m.{x,y}",
    "l[*].{x,y}",
    "a[[0]]",
    "{a,{b}}",
    "l[0",
]


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return inner | st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abxylm"), inner)


_leaves = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-3, 3) | st.text("ab", max_size=3)
)
json_values = _nested(_nested(_nested(_leaves)))  # three levels deep at most
documents = st.dictionaries(st.sampled_from(["a", "b", "l", "m", "x"]), json_values, max_size=4)
path_parts = st.sampled_from(["a", "b", "l", "m", "x", "y", "*", "[0]", "[-1]", "[*]", "{a,b}"])


@settings(max_examples=300, deadline=None)
@given(
    documents,
    st.lists(path_parts, min_size=1, max_size=4).map(".".join) | st.sampled_from(PATHS),
)
def test_text_extraction_matches_langgraphs(document: dict[str, Any], path: str) -> None:
    assert rw.tokenize_path(path) == lg.tokenize_path(path)
    assert rw.get_text_at_path(document, path) == lg.get_text_at_path(document, path)
    tokens = lg.tokenize_path(path)
    assert rw.get_text_at_path(document, tokens) == lg.get_text_at_path(document, tokens)


@pytest.mark.parametrize("path", PATHS)
def test_text_extraction_of_fixed_paths(path: str) -> None:
    document = {
        "a": {"b": {"c": "deep"}},
        "b": 2,
        "l": [{"x": 1, "y": [1, 2]}, "two", None, {"x": "last"}],
        "m": {"x": True, "y": None},
    }
    assert rw.tokenize_path(path) == lg.tokenize_path(path)
    assert rw.get_text_at_path(document, path) == lg.get_text_at_path(document, path)
