"""Caching in the functional API: ``@task(cache_policy=...)`` under
``@entrypoint(cache=...)``. A task called again with arguments it saw returns its cached
result without running (``updates`` marks it cached, ``tasks`` shows its start and no
result); ``task.clear_cache(cache)`` forgets it; an entrypoint with its own ``cache_policy``
is cached by its input.
"""

from langgraph.cache.memory import InMemoryCache
from langgraph.func import entrypoint, task
from langgraph.types import CachePolicy


def build(checkpointer):
    @task(cache_policy=CachePolicy())
    def slow_add(a: int, b: int) -> int:
        return a + b

    cache = InMemoryCache()

    @entrypoint(cache=cache, checkpointer=checkpointer)
    def workflow(n: int) -> int:
        if n < 0:
            slow_add.clear_cache(cache)
            return 0
        return slow_add(n, 1).result() + slow_add(n, 2).result()

    return workflow


def build_whole(checkpointer):
    @entrypoint(cache=InMemoryCache(), cache_policy=CachePolicy(), checkpointer=checkpointer)
    def whole(n: int) -> int:
        return n * 10

    return whole


MODES = {"stream_mode": ["updates", "tasks"]}

SCENARIOS = [
    {
        "name": "task_results_cached",
        "calls": [
            {"input": 3, "api": "stream", "kwargs": MODES},
            {"input": 3, "api": "stream", "kwargs": MODES},
            {"input": -1},
            {"input": 3, "api": "astream", "kwargs": MODES},
        ],
    },
    {
        "name": "entrypoint_cached",
        "build": "build_whole",
        "calls": [
            {"input": 2, "api": "stream", "kwargs": {"stream_mode": "updates"}},
            {"input": 2, "api": "stream", "kwargs": {"stream_mode": "updates"}},
        ],
    },
]
