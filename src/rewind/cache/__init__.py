"""Node caches: where a node's (or a task's) writes are kept, by its input, for next time.

``compile(cache=InMemoryCache())`` and ``add_node(..., cache_policy=CachePolicy(...))``: a
node whose input was seen before (and whose entry has not expired) is not run again; its
writes come from the cache, and the run's log records the task as a cache hit
(``task.started``/``task.ended`` with ``cached``), so ``updates`` shows
``"__metadata__": {"cached": True}`` live and on replay.
"""
