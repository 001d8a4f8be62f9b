"""Schema migrations (Alembic), shipped inside the package and run programmatically.

The event log runs :func:`upgrade` when it opens an older database (unless told not to);
``rewind db upgrade`` runs it on demand.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

__all__ = ["current_revision", "head_revision", "is_known_revision", "upgrade"]

_HERE = Path(__file__).parent


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    return _scripts_at(str(_HERE))


@functools.cache
def _scripts_at(location: str) -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", location)
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str:
    """The newest schema revision this rewind knows."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this rewind's schema revisions."""
    return any(script.revision == revision for script in _scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (``None`` for a database never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` to ``revision`` (the newest by default)."""
    from alembic import command

    command.upgrade(_config(connection), revision)
