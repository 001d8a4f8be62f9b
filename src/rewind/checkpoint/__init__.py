"""Where compiled graphs keep their runs: rewind's event logs under LangGraph's saver names.

``compile(checkpointer=InMemorySaver())`` and ``SqliteSaver``/``AsyncSqliteSaver`` are built as
LangGraph's are; underneath each is a rewind event log (the log), not a checkpoint table.
"""

from __future__ import annotations

from rewind.checkpoint.saver import Saver

__all__ = ["Saver"]
