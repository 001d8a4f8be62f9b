"""End to end with Arize Phoenix: runs mirrored live and exported afterwards to ``phoenix
serve``, read back through Phoenix's own REST API.

Marker ``phoenix``: left out of the default suite (it installs Phoenix), run by ``.ci/run``:

    .venv/bin/python -m pytest -m phoenix tests/telemetry/test_phoenix.py

Phoenix lives in a virtualenv of its own, which the test makes on first use and reuses after
(``.venv-phoenix`` beside the checkout, or where ``REWIND_PHOENIX_VENV`` says). It runs on
loopback ports with its own telemetry off and a working directory in the test's temporary
directory, and is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.cli.demo import QUESTION, builder
from rewind.telemetry import ContentPolicy, run_spans
from tests.telemetry import graphs
from tests.telemetry.receiver import free_port
from tests.telemetry.support import mirrored

pytestmark = [pytest.mark.phoenix, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("REWIND_PHOENIX_VENV") or ROOT / ".venv-phoenix")
PHOENIX = "arize-phoenix>=20.26,<21"
"""The Phoenix the test installs (20.26 reads the GenAI conventions' structured messages)."""
STARTUP = 120.0  # seconds Phoenix may take to start (a deadline, not a measurement)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def installed_phoenix() -> Path:
    """Phoenix's command, installed into :data:`VENV` first if it is not there yet."""
    binary = VENV / "bin" / "phoenix"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", PHOENIX],
            check=True,
            timeout=780,
        )
    return binary


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``phoenix serve`` on 127.0.0.1; yields its base URL and stops it afterwards."""
    binary = installed_phoenix()
    tmp_path = tmp_path_factory.mktemp("phoenix")
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


def attributes_of(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [
        s["attributes"] for s in sorted(spans, key=lambda s: s["start_time"]) if s["name"] == name
    ]


def export_command(db: Path, phoenix: str, *args: str) -> None:
    """``rewind export`` of ``db`` to Phoenix, content on, as a user runs it."""
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
    }
    command = [str(ROOT / ".venv" / "bin" / "rewind"), "export", "--db", str(db), *args]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "rewind", "export", "--db", str(db), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


async def test_the_chat_agent_in_phoenix_prompts_completions_tools_and_node_data(
    phoenix: str, tmp_path: Path
) -> None:
    db = tmp_path / "agent.db"
    saver = AsyncSqliteSaver(str(db))
    graph = builder().compile(checkpointer=saver)
    question = {"messages": [SystemMessage("Be brief."), HumanMessage(QUESTION)]}

    async def live_run(saver: AsyncSqliteSaver) -> list[str]:
        await graph.ainvoke(question, {"configurable": {"thread_id": "live"}})
        return [r.run_id for r in await (await saver.log()).list_runs(thread_id="live")]

    try:
        exporter = OTLPSpanExporter(endpoint=f"{phoenix}/v1/traces", timeout=10)
        (live,), mirror = await mirrored(
            saver, live_run, exporter, content=ContentPolicy(enabled=True)
        )
        assert mirror.dropped_spans == 0
        # Another run recorded with no mirror at all, sent afterwards from the log alone.
        await graph.ainvoke(question, {"configurable": {"thread_id": "later"}})
        store = await saver.log()
        (later,) = [r.run_id for r in await store.list_runs(thread_id="later")]
        records = {run: await run_spans(store, run) for run in (live, later)}
    finally:
        await saver.aclose()
    export_command(db, phoenix, "--thread", "later")

    expected = sum(len(r) for r in records.values())
    traces = {f"{records[run][0].trace_id:032x}": run for run in records}
    got = phoenix_spans(phoenix, set(traces), expected)
    print(f"\nPhoenix holds {len(got)} spans of the agent's two runs:")
    for s in sorted(got, key=lambda s: s["start_time"]):
        a = s["attributes"]
        print(f"  {s['context']['trace_id'][:8]} {s['span_kind']:<6} {s['name']:<28}", end="")
        given, returned = str(a.get("input.value", ""))[:40], str(a.get("output.value", ""))[:40]
        print(f" in={given!r} out={returned!r}")
    assert len(got) == expected

    for trace_id in traces:
        spans = [s for s in got if s["context"]["trace_id"] == trace_id]
        by_id = {s["context"]["span_id"]: s for s in spans}
        (root,) = [s for s in spans if not s["parent_id"]]  # one trace, one root per run
        assert root["name"] == "invoke_workflow LangGraph"
        parents = {s["name"]: by_id[s["parent_id"]]["name"] for s in spans if s["parent_id"]}
        assert parents == {
            "agent": "invoke_workflow LangGraph",
            "tools": "invoke_workflow LangGraph",
            "chat scripted-agent-1": "agent",
            "execute_tool get_weather": "tools",
            "execute_tool multiply": "tools",
        }
        assert "__start__" not in {s["name"] for s in spans}

        asked, answered = attributes_of(spans, "chat scripted-agent-1")
        prompt = [asked[f"llm.input_messages.{i}.message.content"] for i in (0, 1)]
        assert prompt == ["Be brief.", QUESTION]
        calls = "llm.output_messages.0.message.tool_calls"
        assert asked[f"{calls}.1.tool_call.function.name"] == "multiply"
        assert json.loads(asked[f"{calls}.1.tool_call.function.arguments"]) == {"a": 17, "b": 23}
        completion = answered["llm.output_messages.0.message.content"]
        assert "391" in completion and answered["output.value"] == completion
        assert answered["llm.input_messages.4.message.role"] == "tool"
        assert asked["llm.token_count.prompt"] == 13
        assert answered["llm.token_count.completion"] == 13

        (weather,) = attributes_of(spans, "execute_tool get_weather")
        assert weather["tool.parameters.city"] == "Paris"  # (Phoenix flattens the object)
        assert weather["output.value"] == "18°C and sunny"
        (product,) = attributes_of(spans, "execute_tool multiply")
        assert (product["tool.parameters.a"], product["tool.parameters.b"]) == (17, 23)
        assert product["output.value"] == "391"

        agents = attributes_of(spans, "agent") + attributes_of(spans, "tools")
        for node in agents:  # every node span shows what it was given and what it returned
            assert node["input.mime_type"] == node["output.mime_type"] == "application/json"
            assert json.loads(node["input.value"])["messages"][1]["content"] == QUESTION
            assert json.loads(node["output.value"])["messages"]
        given = json.loads(root["attributes"]["input.value"])["messages"]
        assert [m["content"] for m in given] == ["Be brief.", QUESTION]
        final = json.loads(root["attributes"]["output.value"])["messages"]
        assert final[-1]["content"] == completion

    # Both runs sent again: Phoenix keeps one of each span.
    export_command(db, phoenix, "--thread", "live")
    export_command(db, phoenix, "--thread", "later")
    await asyncio.sleep(2)
    again = phoenix_spans(phoenix, set(traces), expected)
    ids = [s["context"]["span_id"] for s in again]
    assert len(ids) == len(set(ids)) == expected
