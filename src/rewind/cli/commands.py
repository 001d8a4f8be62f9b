"""Registers every verb of the ``rewind`` command with its group."""

from __future__ import annotations

from rewind.cli import browse, database, export, pages, redaction, running, serving

__all__ = ["browse", "database", "export", "pages", "redaction", "running", "serving"]
