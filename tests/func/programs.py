"""Functional-API programs the tests run, as LangGraph users write them.

``build_review`` (sync) and ``build_review_async`` write a draft with a chat model inside a task
(its tokens stream), check it with two parallel task calls (one of them fails once under a retry
policy), report progress through the stream writer, stop at ``interrupt()`` for a review, and
return the review with ``entrypoint.final``, saving a count of reviews for the thread's next run
(``previous``). ``build_lookup``'s task call fails in its first run and runs again on resume.
``calls`` counts how often each task's function body ran.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rewind.func import entrypoint, task
from rewind.types import RetryPolicy, StreamWriter, interrupt


class Busy(Exception):
    """A task's passing failure (retried)."""


def _model(topic: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=f"a draft on {topic}", id="d-1")]))


def build_review(checkpointer: Any, calls: Counter[str]) -> Any:
    """The sync review workflow (see the module's docstring)."""

    @task
    def draft(topic: str) -> str:
        calls["draft"] += 1
        return str(_model(topic).invoke(f"write about {topic}").content)

    @task(retry_policy=RetryPolicy(retry_on=Busy, initial_interval=0.001, jitter=False))
    def check(text: str, rule: str) -> bool:
        calls[f"check:{rule}"] += 1
        if rule == "length" and calls["check:length"] == 1:
            raise Busy("checker busy")
        return bool(text) if rule == "length" else "draft" in text

    @entrypoint(checkpointer=checkpointer)
    def review(topic: str, writer: StreamWriter, *, previous: Any = None) -> Any:
        writer({"stage": "drafting"})
        text = draft(topic).result()
        checks = [check(text, "length"), check(text, "words")]
        verdict = interrupt({"draft": text, "checks": [c.result() for c in checks]})
        seen = (previous or 0) + 1
        return entrypoint.final(value={"draft": text, "verdict": verdict, "seen": seen}, save=seen)

    return review


def build_review_async(checkpointer: Any, calls: Counter[str]) -> Any:
    """The async review workflow: async tasks, awaited together."""

    @task
    async def draft(topic: str) -> str:
        calls["draft"] += 1
        return str((await _model(topic).ainvoke(f"write about {topic}")).content)

    @task(retry_policy=RetryPolicy(retry_on=Busy, initial_interval=0.001, jitter=False))
    async def check(text: str, rule: str) -> bool:
        calls[f"check:{rule}"] += 1
        await asyncio.sleep(0.01 if rule == "length" else 0.03)
        if rule == "length" and calls["check:length"] == 1:
            raise Busy("checker busy")
        return bool(text) if rule == "length" else "draft" in text

    @entrypoint(checkpointer=checkpointer)
    async def review(topic: str, writer: StreamWriter, *, previous: Any = None) -> Any:
        writer({"stage": "drafting"})
        text = await draft(topic)
        checks = await asyncio.gather(check(text, "length"), check(text, "words"))
        verdict = interrupt({"draft": text, "checks": list(checks)})
        seen = (previous or 0) + 1
        return entrypoint.final(value={"draft": text, "verdict": verdict, "seen": seen}, save=seen)

    return review


def build_lookup(checkpointer: Any, calls: Counter[str]) -> Any:
    """A workflow whose ``lookup`` call fails in its first run (its retries spent) and is
    caught; it stops at ``interrupt()``. Resumed, it calls ``lookup`` again, which now
    succeeds, and ``normalize``'s finished result comes from the log."""

    @task
    def normalize(name: str) -> str:
        calls["normalize"] += 1
        return name.strip().lower()

    @task(
        retry_policy=RetryPolicy(
            max_attempts=2, retry_on=Busy, initial_interval=0.001, jitter=False
        )
    )
    def lookup(name: str) -> str:
        calls["lookup"] += 1
        if calls["lookup"] <= 2:
            raise Busy(f"directory busy ({calls['lookup']})")
        return f"{name}@example.org"

    @entrypoint(checkpointer=checkpointer)
    def contact(name: str) -> Any:
        key = normalize(name).result()
        try:
            found: Any = lookup(key).result()
        except Busy as exc:
            found = {"error": str(exc), "notes": list(exc.__notes__)}
        return {"found": found, "review": interrupt({"found": found})}

    return contact


BUILDERS = {"sync": build_review, "async": build_review_async, "lookup": build_lookup}
"""Each flavour's builder, by name."""
