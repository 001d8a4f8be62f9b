"""Keeping the garbage collector's full collections short in a long-running server process.

CPython's full collection walks every object the process holds. A server holds a few hundred
thousand of them from the moment it has started (its modules, the graphs it serves and what
they import, the app), almost none of which ever become garbage, and a full collection of
that heap stops the event loop for 100-200 ms on a small machine: every stream the process
serves stalls meanwhile (``bench/server.py``'s p99 latency is that stall). Once started, the
process moves what it holds into the collector's permanent generation (:func:`gc.freeze`):
later full collections walk only what was made since, and still free it.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]


def settle_heap() -> None:
    """Collect once, then leave everything alive now out of later collections (for a process
    that has finished starting; what it frees later is collected as before)."""
    gc.collect()
    gc.freeze()
