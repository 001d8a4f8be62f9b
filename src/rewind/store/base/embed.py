"""Embedding functions behind LangChain's ``Embeddings`` interface, and the field paths a store
embeds (as ``langgraph.store.base.embed``).

A store's ``index`` config takes a LangChain :class:`~langchain_core.embeddings.Embeddings`, a
sync function or an async function from a list of texts to a list of vectors;
:func:`ensure_embeddings` turns any of them into an ``Embeddings``. rewind downloads no model:
the function is the user's.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from langchain_core.embeddings import Embeddings

__all__ = [
    "ensure_embeddings",
    "EmbeddingsFunc",
    "AEmbeddingsFunc",
]

EmbeddingsFunc = Callable[[Sequence[str]], list[list[float]]]
"""A synchronous embedding function: texts in, one vector per text out (all of one length)."""

AEmbeddingsFunc = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
"""An asynchronous embedding function, as :data:`EmbeddingsFunc` but awaited."""


def ensure_embeddings(
    embed: Embeddings | EmbeddingsFunc | AEmbeddingsFunc | str | None,
) -> Embeddings:
    """Give ``embed`` LangChain's ``Embeddings`` interface.

    Args:
        embed: An ``Embeddings`` (returned as it is), a sync or async function from texts to
            vectors (wrapped; an async one serves the async methods only), or a
            ``"provider:model"`` string (needs ``langchain``'s ``init_embeddings`` and the
            provider's package).

    Raises:
        ValueError: ``embed`` is ``None``, or a string that cannot be loaded.
    """
    if embed is None:
        raise ValueError("embed must be provided")
    if isinstance(embed, str):
        init_embeddings = _init_embeddings()
        if init_embeddings is None:
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = f"Found langchain version {version('langchain')}, but"
            except PackageNotFoundError:
                found = "langchain is not installed;"
            raise ValueError(
                f"Could not load embeddings from string '{embed}'. {found} "
                "loading embeddings by provider:identifier string requires langchain>=0.3.9 "
                "as well as the provider-specific package. "
                "Install LangChain with: pip install 'langchain>=0.3.9' "
                "and the provider-specific package (e.g., 'langchain-openai>=0.3.0'). "
                "Alternatively, specify 'embed' as a compatible Embeddings object or python "
                "function."
            )
        return init_embeddings(embed)
    if isinstance(embed, Embeddings):
        return embed
    return EmbeddingsLambda(embed)


class EmbeddingsLambda(Embeddings):
    """An embedding function as an ``Embeddings``.

    A sync function serves both the sync and the async methods (the async ones through
    LangChain's default, on a thread); an async function serves only the async methods, and the
    sync ones raise ``ValueError``.
    """

    def __init__(self, func: EmbeddingsFunc | AEmbeddingsFunc) -> None:
        if func is None:
            raise ValueError("func must be provided")
        if _is_async_callable(func):
            self.afunc = cast(AEmbeddingsFunc, func)
        else:
            self.func = cast(EmbeddingsFunc, func)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text.

        Raises:
            ValueError: the wrapped function is async.
        """
        func: EmbeddingsFunc | None = getattr(self, "func", None)
        if func is None:
            raise ValueError(
                "EmbeddingsLambda was initialized with an async function but no sync function. "
                "Use aembed_documents for async operation or provide a sync function."
            )
        return func(texts)

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text (a sync function runs on a thread)."""
        afunc: AEmbeddingsFunc | None = getattr(self, "afunc", None)
        if afunc is None:
            return await super().aembed_documents(texts)
        return await afunc(texts)

    async def aembed_query(self, text: str) -> list[float]:
        """The vector of one text (a sync function runs on a thread)."""
        afunc: AEmbeddingsFunc | None = getattr(self, "afunc", None)
        if afunc is None:
            return await super().aembed_query(text)
        return (await afunc([text]))[0]


def get_text_at_path(obj: Any, path: str | list[str]) -> list[str]:
    """The texts found at ``path`` in ``obj`` (a path string or its :func:`tokenize_path` tokens).

    ``""`` or ``"$"`` is the whole object as JSON. Otherwise a path names fields
    (``"a.b"``), list elements (``"[0]"``, ``"[-1]"``, every one: ``"[*]"``), every value of a
    mapping or list (``"*"``) or several fields at once (``"{a,b.c}"``). A string, number or
    boolean found is its ``str``; a list or mapping its JSON (keys sorted); ``None`` and what is
    missing give nothing.
    """
    if isinstance(obj, Mapping) and not isinstance(obj, dict):
        obj = dict(obj)
    if not path or path == "$":
        return [_json(obj)]
    tokens = tokenize_path(path) if isinstance(path, str) else path
    found: list[str] = []
    _collect(obj, tokens, 0, found)
    return found


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _leaf_text(value: Any, found: list[str]) -> None:
    if isinstance(value, str | int | float | bool):
        found.append(str(value))
    elif isinstance(value, list | dict):
        found.append(_json(value))


def _collect(obj: Any, tokens: list[str], at: int, found: list[str]) -> None:
    if at == len(tokens):
        _leaf_text(obj, found)
        return
    token = tokens[at]
    if token.startswith("[") and token.endswith("]"):
        if not isinstance(obj, list):
            return
        index = token[1:-1]
        if index == "*":
            for element in obj:
                _collect(element, tokens, at + 1, found)
            return
        try:
            i = int(index)
        except ValueError:
            return
        if i < 0:
            i += len(obj)
        if 0 <= i < len(obj):
            _collect(obj[i], tokens, at + 1, found)
    elif token.startswith("{") and token.endswith("}"):
        if not isinstance(obj, dict):
            return
        for field in (f.strip() for f in token[1:-1].split(",")):
            steps = tokenize_path(field)
            if not steps:
                continue
            value: Any = obj
            for step in steps:
                if not (isinstance(value, dict) and step in value):
                    value = None
                    break
                value = value[step]
            if value is not None:
                _leaf_text(value, found)
    elif token == "*":
        if isinstance(obj, dict):
            for value in obj.values():
                _collect(value, tokens, at + 1, found)
        elif isinstance(obj, list):
            for element in obj:
                _collect(element, tokens, at + 1, found)
    elif isinstance(obj, dict) and token in obj:
        _collect(obj[token], tokens, at + 1, found)


def tokenize_path(path: str) -> list[str]:
    """Split a field path into its steps: ``"a.b[0].{c,d}"`` -> ``["a", "b", "[0]", "{c,d}"]``.

    Brackets and braces are kept whole (nested ones included) with their delimiters.
    """
    tokens: list[str] = []
    name: list[str] = []
    i, n = 0, len(path)
    while i < n:
        char = path[i]
        if char in "[{":
            if name:
                tokens.append("".join(name))
                name = []
            close = "]" if char == "[" else "}"
            depth, start = 1, i
            i += 1
            while i < n and depth:
                if path[i] == char:
                    depth += 1
                elif path[i] == close:
                    depth -= 1
                i += 1
            tokens.append(path[start:i])
            continue
        if char == ".":
            if name:
                tokens.append("".join(name))
                name = []
        else:
            name.append(char)
        i += 1
    if name:
        tokens.append("".join(name))
    return tokens


def _is_async_callable(func: Any) -> bool:
    """Whether calling ``func`` gives an awaitable (an ``async def`` or an async ``__call__``)."""
    return inspect.iscoroutinefunction(func) or (
        callable(func) and inspect.iscoroutinefunction(type(func).__call__)
    )


@functools.cache
def _init_embeddings() -> Callable[[str], Embeddings] | None:
    try:
        module = importlib.import_module("langchain.embeddings")
    except ImportError:
        return None
    init: Callable[[str], Embeddings] | None = getattr(module, "init_embeddings", None)
    return init
