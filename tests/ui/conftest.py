"""The page's browser tests: a real ``rewind ui`` server on a SQLite file, driven through
Debian's Chromium by Playwright (``-m browser``; ``.ci/run`` installs Chromium when missing).

Screenshots of each view are saved under ``tests/ui/artifacts/`` (kept out of git)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("REWIND_CHROMIUM", "/usr/bin/chromium")
GRAPHS = [
    "demo-agent=rewind.cli.demo:graph",
    "talker=tests/ui/agents.py:talker",
    "approval=tests/ui/agents.py:approval",
    "mixed=tests/ui/agents.py:mixed",
]


def rewind(db: Path, *args: str, timeout: float = 60) -> str:
    """Run the ``rewind`` command on ``db``; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "rewind.cli", "--db", str(db), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def ui_server(db: Path, *args: str) -> Iterator[str]:
    """``rewind ui`` on ``db`` (port 0, no browser), yielding its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rewind.cli", "--db", str(db), "ui", "--port", "0", "--no-browser"]
        + [f"--graphs={g}" for g in GRAPHS]
        + list(args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/ui", line)
        if found is None:
            process.kill()
            raise AssertionError(f"rewind ui said {line!r}; stderr: {process.stderr.read()}")
        yield found[1]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, through Playwright (no browser download); one per module, so that
    Playwright's event loop is gone before another module's async tests run."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (its own cookies); the page's JavaScript errors fail the test."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A database holding one run of the demo agent: (file, run id, thread id)."""
    db = tmp_path_factory.mktemp("ui") / "rewind.db"
    rewind(db, "demo")
    (record,) = json_lines(rewind(db, "runs", "--json"))
    return db, record["run_id"], record["thread_id"]


@pytest.fixture(scope="module")
def server(demo_db: tuple[Path, str, str]) -> Iterator[str]:
    """``rewind ui`` on the demo's database."""
    with ui_server(demo_db[0]) as url:
        yield url


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page as a test artifact (and check that no view printed an
    element where it meant to insert it)."""
    assert "[object " not in page.inner_text("body"), name
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
