"""The public namespaces match their ``__all__`` (as httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import importlib
import importlib.metadata
import types

import pytest

import rewind
import rewind.log
import rewind.telemetry

PACKAGES = [rewind, rewind.log, rewind.telemetry]

# Modules whose ``__all__`` must at least name things that exist.
MODULES = [
    "rewind",
    "rewind.cli",
    "rewind.errors",
    "rewind.events",
    "rewind.func",
    "rewind.migrations",
    "rewind.log",
    "rewind.log.base",
    "rewind.log.codec",
    "rewind.log.records",
    "rewind.log.postgres",
    "rewind.log.copy",
    "rewind.log.sqlite",
    "rewind.log.sqlite_files",
    "rewind.log.writer",
    "rewind.store.base",
    "rewind.store.base.batch",
    "rewind.store.base.embed",
    "rewind.store.memory",
    "rewind.store.postgres",
    "rewind.store.postgres.aio",
    "rewind.store.postgres.base",
    "rewind.store.sqlite",
    "rewind.store.sqlite.aio",
    "rewind.store.sqlite.base",
    "rewind.store.writes",
    "rewind.telemetry",
    "rewind.telemetry.content",
    "rewind.telemetry.delivery",
    "rewind.telemetry.export",
    "rewind.telemetry.genai",
    "rewind.telemetry.mirror",
    "rewind.telemetry.otel",
    "rewind.telemetry.spans",
    "rewind.trace_ids",
]


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and type(value).__module__ != "__future__"  # `from __future__ import annotations`
    }


@pytest.mark.parametrize("package", PACKAGES, ids=lambda m: m.__name__)
def test_all_public_names_are_exported(package: types.ModuleType) -> None:
    missing = _public_names(package) - set(package.__all__)
    assert not missing, f"{package.__name__} defines public names not in __all__: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_all_exports_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__)), "duplicates in __all__"
    absent = [member for member in module.__all__ if not hasattr(module, member)]
    assert not absent, f"{name}.__all__ names what it does not define: {absent}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda m: m.__name__)
def test_star_import_gives_exactly_all(package: types.ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(package.__all__)


def test_version() -> None:
    assert isinstance(rewind.__version__, str)
    assert rewind.__version__ == importlib.metadata.version("rewind")
