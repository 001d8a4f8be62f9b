"""End to end with Arize Phoenix: runs mirrored live to ``phoenix serve``, read back over REST.

Opt-in (marker ``phoenix``, deselected unless asked for): Phoenix lives in its own virtualenv,

    python3 -m venv .venv-phoenix && .venv-phoenix/bin/pip install arize-phoenix
    .venv/bin/python -m pytest -m phoenix tests/telemetry/test_phoenix.py

(``REWIND_PHOENIX_VENV`` points elsewhere). Phoenix runs on loopback ports with its own
telemetry off and a working directory in the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.telemetry import run_spans
from tests.telemetry import graphs
from tests.telemetry.receiver import free_port
from tests.telemetry.support import mirrored

pytestmark = [pytest.mark.phoenix, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("REWIND_PHOENIX_VENV") or ROOT / ".venv-phoenix")
STARTUP = 120.0  # seconds Phoenix may take to start (a deadline, not a measurement)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[str]:
    """``phoenix serve`` on 127.0.0.1; yields its base URL and stops it afterwards."""
    binary = VENV / "bin" / "phoenix"
    if not binary.exists():
        pytest.fail(
            f"Phoenix is not installed at {VENV}: python3 -m venv .venv-phoenix && "
            ".venv-phoenix/bin/pip install arize-phoenix (or set REWIND_PHOENIX_VENV)"
        )
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_WORKING_DIR": str(tmp_path / "phoenix"),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = (tmp_path / "phoenix.log").open("w")
    server = subprocess.Popen([str(binary), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"phoenix serve did not start: {(tmp_path / 'phoenix.log').read_text()}"
                    )
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def phoenix_spans(base: str, trace_ids: set[str], expected: int) -> list[dict[str, Any]]:
    """The spans of these traces in Phoenix's default project, once it has ingested them all."""
    query = "&".join(f"trace_id={t}" for t in sorted(trace_ids))
    deadline = time.monotonic() + 60
    while True:
        found = get_json(f"{base}/v1/projects/default/spans?limit=1000&{query}")["data"]
        if len(found) >= expected or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.5)


async def test_runs_mirrored_to_phoenix_read_back_with_their_ids_and_parents(
    phoenix: str, saver: AsyncSqliteSaver
) -> None:
    async def scenario(saver: AsyncSqliteSaver) -> list[str]:
        return (
            await graphs.chat_and_tool(saver)
            + await graphs.subgraphs(saver)
            + await graphs.interrupt_resume(saver)
        )

    exporter = OTLPSpanExporter(endpoint=f"{phoenix}/v1/traces", timeout=10)
    runs, mirror = await mirrored(saver, scenario, exporter)
    assert mirror.dropped_spans == 0
    store = await saver.log()
    records = [r for run in runs for r in await run_spans(store, run)]
    expected = {
        (f"{r.trace_id:032x}", f"{r.span_id:016x}", f"{r.parent_id:016x}", r.name) for r in records
    }
    got = phoenix_spans(phoenix, {t for t, *_ in expected}, len(expected))
    seen = {
        (
            s["context"]["trace_id"],
            s["context"]["span_id"],
            s["parent_id"] or f"{0:016x}",
            s["name"],
        )
        for s in got
    }
    live = mirror.exported_spans
    print(f"\nPhoenix returned {len(got)} spans of {len(runs)} runs ({live} sent live):")
    for s in sorted(got, key=lambda s: s["start_time"]):
        print(f"  {s['context']['trace_id'][:8]} {s['span_kind']:<8} {s['name']}")
    assert seen == expected
    kinds = {s["name"].split()[0]: s["span_kind"] for s in got}
    assert kinds == {
        "invoke_workflow": "CHAIN",
        "agent": "CHAIN",
        "chat": "LLM",
        "execute_tool": "TOOL",
        "sub": "CHAIN",
        "inner_a": "CHAIN",
        "inner_b": "CHAIN",
        "calls": "CHAIN",
        "before": "CHAIN",
        "ask": "CHAIN",
    }
    chat = next(s for s in got if s["name"].startswith("chat "))
    assert chat["attributes"]["gen_ai.usage.input_tokens"] == 12
    assert chat["attributes"]["rewind.run_id"] in runs
