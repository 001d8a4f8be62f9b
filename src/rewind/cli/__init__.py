"""The ``rewind`` command: run, resume, watch, replay, fork and export recorded graph runs.

Every verb works on the database that ``--db`` or ``$REWIND_DB`` names (default
``./rewind.db``). Exit codes: 0 success, 1 the graph run (or a delivery) failed, 2 bad usage or
bad input. ``rewind --help`` lists the verbs; ``rewind VERB --help`` shows examples.
"""

from __future__ import annotations

from rewind.cli.app import cli, main

__all__ = ["cli", "main"]
