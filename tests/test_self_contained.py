"""The repository is self-contained: what its tests, benchmarks and examples read is inside it.

A clone has nothing beside it, so no file under ``tests/``, ``bench/`` or ``examples/`` may point
at the folder of shared material next to the checkout or at the reference kept there, whether
as one path string or joined from parts (``Path`` ``/``, ``os.path.join``). The searched
patterns are assembled from pieces so that this file does not match them itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tests", "bench", "examples")
SKIPPED = {"__pycache__", ".hypothesis", ".pytest_cache"}

_SHARED = "sha" + "red"
_QUOTE = "[\"']"
_JOIN = rf"{_QUOTE}?\s*[/\\,]\s*{_QUOTE}?"  # "a/b", "a" / "b", "a", "b"
PATTERNS = [
    # the folder beside the checkout, by a relative path
    re.compile(rf"\.\.{_JOIN}{_SHARED}\b"),
    # the reference kept in it
    re.compile(rf"\b{_SHARED}{_JOIN}refer" + "ence"),
    # the folder, joined to the checkout's parent
    re.compile(rf"\.parent\s*/\s*{_QUOTE}{_SHARED}{_QUOTE}"),
]


def _files() -> list[Path]:
    return sorted(
        path
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and not SKIPPED & set(path.relative_to(ROOT).parts)
    )


def _hits(text: str) -> list[str]:
    return [m.group(0) for pattern in PATTERNS for m in pattern.finditer(text)]


def test_nothing_points_outside_the_repository() -> None:
    assert all((ROOT / folder).is_dir() for folder in FOLDERS)
    found = {
        str(path.relative_to(ROOT)): hits
        for path in _files()
        if (hits := _hits(path.read_bytes().decode("utf-8", errors="replace")))
    }
    assert found == {}


@pytest.mark.parametrize(
    "text",
    [
        "See ``../" + _SHARED + "/reference/langgraph``.",
        'Path(__file__).parents[2].parent / "' + _SHARED + '" / "reference" / "langgraph"',
        "os.path.join('..', '" + _SHARED + "', 'reference')",
        _SHARED + "/reference/platform-api/captures",
    ],
)
def test_the_search_finds_each_way_of_naming_it(text: str) -> None:
    assert _hits(text)


def test_the_search_leaves_the_word_alone() -> None:
    assert not _hits(f"one {_SHARED} connection; a {_SHARED}.db file; {_SHARED}_state")
