"""Functional API: an async entrypoint with async tasks (LangGraph's async how-to).

Calls of the async ``fetch_page`` task are awaited together with ``asyncio.gather``; a sync
task (``summarize``) is called from the async workflow too. Each call sleeps a little longer
than the one before, so results stream in call order. Run with ``ainvoke`` and ``astream``;
``invoke`` fails as it does in LangGraph (an async function needs the async API).

``crawl`` pauses after the sync task's result: under ``astream_events``, LangGraph hands the
graph's ``updates`` chunk of a sync task's end to the stream a moment after the task ends (it
arrives after ``crawl``'s own return event otherwise); rewind streams it as the task ends.
"""

import asyncio

from langgraph.func import entrypoint, task


@task
async def fetch_page(url: str) -> str:
    await asyncio.sleep(0.03 * len(url))
    return f"<html>{url}</html>"


@task
def summarize(pages: list[str]) -> str:
    return f"{len(pages)} pages, {sum(len(p) for p in pages)} characters"


def build(checkpointer):
    @entrypoint(checkpointer=checkpointer)
    async def crawl(urls: list[str], *, previous: list[str] | None = None) -> dict:
        pages = await asyncio.gather(*(fetch_page(url) for url in urls))
        summary = await summarize(list(pages))
        await asyncio.sleep(0.05)  # see the module's docstring
        return {"summary": summary, "seen": [*(previous or {}).get("seen", []), *urls]}

    return crawl


SCENARIOS = [
    {"name": "ainvoke", "calls": [{"input": ["a", "bb"], "api": "ainvoke"}]},
    {
        "name": "astream_twice",
        "calls": [
            {
                "input": ["x", "yy", "zzz"],
                "api": "astream",
                "kwargs": {"stream_mode": ["updates", "values"]},
            },
            {"input": ["w"], "api": "astream"},
        ],
    },
    {"name": "sync_invoke_fails", "calls": [{"input": ["a"]}]},
]
