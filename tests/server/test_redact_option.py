"""``rewind serve --redact``: the runs the server starts are recorded through the hook."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from rewind import open_log
from rewind.log.codec import encode
from tests.server.conftest import APP, start_server


def test_serve_records_its_runs_through_the_redaction_hook(tmp_path: Path) -> None:
    db = tmp_path / "rewind.db"
    server = start_server(db, "--redact", f"{APP / 'hooks.py'}:mask_paris")
    try:
        body = {
            "assistant_id": "echo",
            "on_completion": "keep",
            "input": {"messages": [{"role": "user", "content": "I live in Paris"}]},
        }
        answer = httpx.post(f"{server.url}/runs/wait", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
    finally:
        assert server.stop() == 0

    async def stored() -> list[str]:
        log = await open_log(db, read_only=True)
        try:
            (run,) = await log.list_runs()
            return [encode(e.payload) for e in await log.read(run.run_id)]
        finally:
            await log.aclose()

    payloads = asyncio.run(stored())
    assert not any("Paris" in p for p in payloads)
    assert any("I live in PLACE" in p for p in payloads)


def test_a_hook_that_cannot_be_loaded_stops_serve_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rewind.cli",
            "serve",
            "--db",
            str(tmp_path / "r.db"),
            "--config",
            str(APP / "langgraph.json"),
            "--redact",
            "no_such_module_here:mask",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--redact: cannot load no_such_module_here" in done.stderr
    assert not (tmp_path / "r.db").exists()
