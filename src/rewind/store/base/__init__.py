"""The long-term memory store's interface and types (as ``langgraph.store.base``).

A store keeps JSON-like values (``dict``\\ s) under a *namespace* (a tuple of labels such as
``("users", "u1", "memories")``) and a *key*, across threads and runs. :class:`BaseStore` gives
``get``/``put``/``delete``/``search``/``list_namespaces`` and their ``a*`` forms on top of two
methods a store implements, :meth:`~BaseStore.batch` and :meth:`~BaseStore.abatch`, which run a
list of :data:`Op`\\ s (:class:`GetOp`, :class:`PutOp`, :class:`SearchOp`,
:class:`ListNamespacesOp`).

rewind adds one thing LangGraph's stores lack: :meth:`BaseStore.add_write_listener`, which tells
a function of every write (see :mod:`rewind.store.writes`). It works for every ``BaseStore``
subclass, a user's own included: the ``batch``/``abatch`` a subclass defines are wrapped to
report their ``PutOp``\\ s once they succeed.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypedDict, cast

from langchain_core.embeddings import Embeddings

from rewind.store import writes as _writes
from rewind.store.base.embed import (
    AEmbeddingsFunc,
    EmbeddingsFunc,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
)
from rewind.store.writes import StoreWrite, WriteListener

__all__ = [
    "BaseStore",
    "Item",
    "Op",
    "PutOp",
    "GetOp",
    "SearchOp",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespacePath",
    "NamespaceMatchType",
    "Embeddings",
    "ensure_embeddings",
    "tokenize_path",
    "get_text_at_path",
    "validate_op_namespace",
]


class NotProvided:
    """The type of :data:`NOT_PROVIDED`: an argument left out (where ``None`` means something)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_PROVIDED = NotProvided()
"""An argument left out."""


class Item:
    """A stored value with its place and times.

    Args:
        value: The value (a ``dict``; its keys can be filtered on).
        key: Its key within the namespace.
        namespace: Its namespace, e.g. ``("documents", "user123")``.
        created_at: When it was written (LangGraph's stores set this again on each put).
        updated_at: When it was last written.
    """

    __slots__ = ("created_at", "key", "namespace", "updated_at", "value")

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: tuple[str, ...],
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        # ISO strings are accepted too, for an item built back from its dict().
        self.created_at = (
            datetime.fromisoformat(created_at) if isinstance(created_at, str) else created_at
        )
        self.updated_at = (
            datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else updated_at
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return False
        return (
            self.value == other.value
            and self.key == other.key
            and self.namespace == other.namespace
            and self.created_at == other.created_at
            and self.updated_at == other.updated_at
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """The item as JSON-ready data (the namespace a list, the times ISO strings)."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items())
        return f"Item({fields})"


class SearchItem(Item):
    """An item found by a search, with its relevance ``score`` (``None`` when not ranked)."""

    __slots__ = ("score",)

    def __init__(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        created_at: datetime,
        updated_at: datetime,
        score: float | None = None,
    ) -> None:
        super().__init__(
            value=value,
            key=key,
            namespace=namespace,
            created_at=created_at,
            updated_at=updated_at,
        )
        self.score = score

    def dict(self) -> dict[str, Any]:
        """The item as JSON-ready data, with its ``score``."""
        result = super().dict()
        result["score"] = self.score
        return result


class GetOp(NamedTuple):
    """Read one item by namespace and key."""

    namespace: tuple[str, ...]
    """The item's namespace, e.g. ``("users", "profiles")``."""
    key: str
    """The item's key within the namespace."""
    refresh_ttl: bool = True
    """Whether reading restarts the item's TTL (if it has one and the store supports TTLs)."""


class SearchOp(NamedTuple):
    """Find items under a namespace prefix, by filter and (with an index) by meaning.

    ``filter`` matches values' top-level fields exactly (``{"status": "active"}``) or with
    operators (``{"score": {"$gt": 4.99}}``: ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``,
    ``$lte``). ``query`` ranks the items by similarity to it when the store has an index.
    """

    namespace_prefix: tuple[str, ...]
    """Where to search: ``()`` for the whole store, ``("documents",)`` for a subtree."""
    filter: dict[str, Any] | None = None
    """Conditions on the values' fields."""
    limit: int = 10
    """The most items to return."""
    offset: int = 0
    """How many matching items to skip (pagination)."""
    query: str | None = None
    """A natural-language query, for a store with an index."""
    refresh_ttl: bool = True
    """Whether returning items restarts their TTLs."""


NamespacePath = tuple[str | Literal["*"], ...]
"""A namespace pattern: labels, where ``"*"`` matches any one label."""

NamespaceMatchType = Literal["prefix", "suffix"]
"""Whether a :class:`MatchCondition` matches the start or the end of a namespace."""


class MatchCondition(NamedTuple):
    """A namespace pattern matched at the start (``prefix``) or end (``suffix``) of namespaces."""

    match_type: NamespaceMatchType
    """Which end of the namespace the pattern is matched at."""
    path: NamespacePath
    """The pattern (``"*"`` matches any label)."""


class ListNamespacesOp(NamedTuple):
    """List the namespaces holding items, filtered and truncated."""

    match_conditions: tuple[MatchCondition, ...] | None = None
    """Conditions every listed namespace meets."""
    max_depth: int | None = None
    """Truncate namespaces to this many labels (the truncated ones listed once)."""
    limit: int = 100
    """The most namespaces to return."""
    offset: int = 0
    """How many namespaces to skip (pagination)."""


class PutOp(NamedTuple):
    """Store (or, with ``value=None``, delete) one item."""

    namespace: tuple[str, ...]
    """The item's namespace."""
    key: str
    """The item's key within the namespace."""
    value: Mapping[str, Any] | None
    """The value (JSON-serializable, string keys), or ``None`` to delete the item."""
    index: Literal[False] | list[str] | None = None  # type: ignore[assignment]
    """What to embed for semantic search: ``None`` for the store's configured fields,
    ``False`` for nothing, or field paths (``"title"``, ``"meta.tags[*]"``, ``"sections[0]"``)."""
    ttl: float | None = None
    """Minutes the item lives after its last write (or read, with refreshing); ``None``: for
    ever."""


Op = GetOp | SearchOp | PutOp | ListNamespacesOp
"""An operation for :meth:`BaseStore.batch`."""

Result = Item | list[Item] | list[SearchItem] | list[tuple[str, ...]] | None
"""What an :data:`Op` gives, in the order of the ops."""


class InvalidNamespaceError(ValueError):
    """Provided namespace is invalid."""


class TTLConfig(TypedDict, total=False):
    """How a store expires items."""

    refresh_on_read: bool
    """Whether reads (get, search) restart the TTLs of the items they return, unless a call
    says otherwise with ``refresh_ttl`` (default ``True``)."""
    omit_expired: bool
    """Whether reads leave out expired items not yet swept (default ``False``)."""
    default_ttl: float | None
    """The TTL in minutes of an item put without one (default ``None``: no expiry)."""
    sweep_interval_minutes: int | None
    """Minutes between the sweeps of ``start_ttl_sweeper`` (default 5)."""


class IndexConfig(TypedDict, total=False):
    """How a store embeds items for semantic search (without one, ``query`` ranks nothing)."""

    dims: int
    """The length of the embedding vectors."""
    embed: Embeddings | EmbeddingsFunc | AEmbeddingsFunc | str
    """A LangChain ``Embeddings``, a sync or async function from texts to vectors, or a
    ``"provider:model"`` string (needs ``langchain``)."""
    fields: list[str] | None
    """The field paths embedded by default: ``["$"]`` (the whole value, the default), or paths
    such as ``["text", "meta.title", "messages[*].content"]`` (each element of a ``[*]`` its
    own vector)."""


class BaseStore(ABC):
    """A key-value store with hierarchical namespaces (long-term memory for agents).

    A store implements :meth:`batch` and :meth:`abatch`; the other methods build ops for them.
    Semantic search needs an ``index`` config, TTLs a store that sets ``supports_ttl``.
    """

    supports_ttl: bool = False
    ttl_config: TTLConfig | None = None

    __slots__ = ("__weakref__",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass's own batch/abatch report the writes they make (once, however they call
        # each other or their base's).
        batch: Any = cls.__dict__.get("batch")
        if _needs_wrapping(batch):
            setattr(cls, "batch", _reporting_batch(batch))  # noqa: B010
        abatch: Any = cls.__dict__.get("abatch")
        if _needs_wrapping(abatch):
            setattr(cls, "abatch", _reporting_abatch(abatch))  # noqa: B010

    @abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` and return their results, in order."""

    @abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` and return their results, in order."""

    def add_write_listener(self, listener: WriteListener) -> Callable[[], None]:
        """Call ``listener`` with the writes of every call that writes to this store.

        rewind only. The listener gets a list of :class:`~rewind.store.writes.StoreWrite`, once
        per call that wrote (``put``, ``delete``, a ``batch`` with ``PutOp``\\ s, their async
        forms, a TTL sweep), in order, synchronously in the caller's thread or task, after the
        write took effect. A failed call reports nothing. An exception a listener raises is
        raised to the caller of the write (which has taken effect).

        Returns:
            A function that removes the listener.
        """
        return _writes.add_listener(self, listener)

    def get(
        self,
        namespace: tuple[str, ...],
        key: str,
        *,
        refresh_ttl: bool | None = None,
    ) -> Item | None:
        """The item at ``namespace``/``key``, or ``None``.

        Args:
            refresh_ttl: Whether reading restarts the item's TTL (``None``: the store's
                ``refresh_on_read``).

        Raises:
            InvalidNamespaceError: A label is not a non-empty string without ``.``.
        """
        _validate_namespace_labels(namespace)
        op = GetOp(namespace, str(key), _ensure_refresh(self.ttl_config, refresh_ttl))
        return cast(Item | None, self.batch([op])[0])

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """Items under ``namespace_prefix`` matching ``filter``, ranked by ``query`` when the
        store has an index (see :class:`SearchOp`).

        Raises:
            InvalidNamespaceError: A label is not a non-empty string without ``.``.
        """
        _validate_namespace_labels(namespace_prefix)
        op = SearchOp(
            namespace_prefix,
            filter,
            limit,
            offset,
            query,
            _ensure_refresh(self.ttl_config, refresh_ttl),
        )
        return cast(list[SearchItem], self.batch([op])[0])

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """Store ``value`` at ``namespace``/``key``, replacing what was there.

        Args:
            index: What to embed for semantic search (see :attr:`PutOp.index`).
            ttl: Minutes the item lives after its last access (left out: the store's
                ``default_ttl``; ``None``: for ever).

        Raises:
            InvalidNamespaceError: The namespace is empty, starts with ``"langgraph"``, or a
                label is not a non-empty string without ``.``.
            NotImplementedError: A ``ttl`` for a store without TTL support.
        """
        _validate_namespace(namespace)
        self._check_ttl(ttl)
        op = PutOp(namespace, str(key), value, index=index, ttl=_ensure_ttl(self.ttl_config, ttl))
        self.batch([op])

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Delete the item at ``namespace``/``key`` (nothing happens if there is none).

        Raises:
            InvalidNamespaceError: A label is not a non-empty string without ``.``.
        """
        _validate_namespace_labels(namespace)
        self.batch([PutOp(namespace, str(key), None, ttl=None)])

    def list_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The namespaces holding items, starting with ``prefix`` and ending with ``suffix``
        (``"*"`` matches any label), truncated to ``max_depth`` labels, sorted.

        Raises:
            InvalidNamespaceError: A label of ``prefix`` or ``suffix`` is not a non-empty
                string without ``.``.
        """
        op = _list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], self.batch([op])[0])

    async def aget(
        self,
        namespace: tuple[str, ...],
        key: str,
        *,
        refresh_ttl: bool | None = None,
    ) -> Item | None:
        """As :meth:`get`."""
        _validate_namespace_labels(namespace)
        op = GetOp(namespace, str(key), _ensure_refresh(self.ttl_config, refresh_ttl))
        return cast(Item | None, (await self.abatch([op]))[0])

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """As :meth:`search`."""
        _validate_namespace_labels(namespace_prefix)
        op = SearchOp(
            namespace_prefix,
            filter,
            limit,
            offset,
            query,
            _ensure_refresh(self.ttl_config, refresh_ttl),
        )
        return cast(list[SearchItem], (await self.abatch([op]))[0])

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """As :meth:`put`."""
        _validate_namespace(namespace)
        self._check_ttl(ttl)
        op = PutOp(namespace, str(key), value, index=index, ttl=_ensure_ttl(self.ttl_config, ttl))
        await self.abatch([op])

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """As :meth:`delete`."""
        _validate_namespace_labels(namespace)
        await self.abatch([PutOp(namespace, str(key), None)])

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """As :meth:`list_namespaces`."""
        op = _list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], (await self.abatch([op]))[0])

    def _check_ttl(self, ttl: float | NotProvided | None) -> None:
        if ttl is not NOT_PROVIDED and ttl is not None and not self.supports_ttl:
            raise NotImplementedError(
                f"TTL is not supported by {self.__class__.__name__}. "
                f"Use a store implementation that supports TTL or set ttl=None."
            )


def _list_op(
    prefix: NamespacePath | None,
    suffix: NamespacePath | None,
    max_depth: int | None,
    limit: int,
    offset: int,
) -> ListNamespacesOp:
    _validate_namespace_labels(prefix or ())
    _validate_namespace_labels(suffix or ())
    conditions: list[MatchCondition] = []
    if prefix:
        conditions.append(MatchCondition(match_type="prefix", path=prefix))
    if suffix:
        conditions.append(MatchCondition(match_type="suffix", path=suffix))
    return ListNamespacesOp(
        match_conditions=tuple(conditions), max_depth=max_depth, limit=limit, offset=offset
    )


# --- write reports ---------------------------------------------------------------------------


def writes_of(ops: Iterable[Op]) -> list[StoreWrite]:
    """The writes of the ``PutOp``\\ s among ``ops``, in order."""
    return [
        StoreWrite(
            namespace=tuple(op.namespace),
            key=op.key,
            value=None if op.value is None else dict(op.value),
            index=op.index,
            ttl=None if op.value is None else op.ttl,
        )
        for op in ops
        if isinstance(op, PutOp)
    ]


def _needs_wrapping(method: Any) -> bool:
    return (
        callable(method)
        and not getattr(method, "__isabstractmethod__", False)
        and not getattr(method, "_rewind_reports_writes", False)
    )


def _reporting_batch(
    fn: Callable[[Any, Iterable[Op]], list[Result]],
) -> Callable[[Any, Iterable[Op]], list[Result]]:
    @functools.wraps(fn)
    def batch(self: BaseStore, ops: Iterable[Op]) -> list[Result]:
        entry = _writes.listeners_of(self)
        if entry is None:
            return fn(self, ops)
        ops = ops if isinstance(ops, list) else list(ops)
        with _writes.Reporting(self, entry, ops) as call:
            results = fn(self, ops)
        if call.outermost:
            _writes.notify(self, writes_of(ops))
        return results

    batch._rewind_reports_writes = True  # type: ignore[attr-defined]
    return batch


def _reporting_abatch(
    fn: Callable[[Any, Iterable[Op]], Awaitable[list[Result]]],
) -> Callable[[Any, Iterable[Op]], Awaitable[list[Result]]]:
    @functools.wraps(fn)
    async def abatch(self: BaseStore, ops: Iterable[Op]) -> list[Result]:
        entry = _writes.listeners_of(self)
        if entry is None:
            return await fn(self, ops)
        ops = ops if isinstance(ops, list) else list(ops)
        with _writes.Reporting(self, entry, ops) as call:
            results = await fn(self, ops)
        if call.outermost:
            _writes.notify(self, writes_of(ops))
        return results

    abatch._rewind_reports_writes = True  # type: ignore[attr-defined]
    return abatch


# --- validation ------------------------------------------------------------------------------


def _validate_namespace(namespace: tuple[str, ...]) -> None:
    if not namespace:
        raise InvalidNamespaceError("Namespace cannot be empty.")
    _validate_namespace_labels(namespace)
    if namespace[0] == "langgraph":
        raise InvalidNamespaceError(
            f'Root label for namespace cannot be "langgraph". Got: {namespace}'
        )


def _validate_namespace_labels(namespace: tuple[str, ...]) -> None:
    for label in namespace:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels"
                f" must be strings, but got {type(label).__name__}."
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. "
                "Namespace labels cannot contain periods ('.')."
            )
        if "\x00" in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. "
                "Namespace labels cannot contain NUL bytes ('\\x00')."
            )
        if not label:
            raise InvalidNamespaceError(
                f"Namespace labels cannot be empty strings. Got {label} in {namespace}"
            )


def validate_op_namespace(op: Op) -> None:
    """Check the namespace labels of an op given straight to ``batch``/``abatch`` (the store's
    methods check them before batching).

    A store that joins labels into text calls this for every op, so that a label such as
    ``"foo.bar"`` cannot address the namespace ``("foo", "bar")``.

    Raises:
        InvalidNamespaceError: A label is not a non-empty string without ``.``.
    """
    if isinstance(op, GetOp | PutOp):
        _validate_namespace_labels(op.namespace)
    elif isinstance(op, SearchOp):
        _validate_namespace_labels(op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            _validate_namespace_labels(condition.path)


def _ensure_refresh(ttl_config: TTLConfig | None, refresh_ttl: bool | None = None) -> bool:
    if refresh_ttl is not None:
        return refresh_ttl
    if ttl_config is not None:
        return ttl_config.get("refresh_on_read", True)
    return True


def _ensure_ttl(
    ttl_config: TTLConfig | None, ttl: float | NotProvided | None = NOT_PROVIDED
) -> float | None:
    if isinstance(ttl, NotProvided):
        return ttl_config.get("default_ttl") if ttl_config else None
    return ttl
