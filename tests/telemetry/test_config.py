"""Configuration from the standard ``OTEL_*`` variables, and the content policy."""

from __future__ import annotations

import json

import pytest

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.telemetry import (
    ContentPolicy,
    export_runs,
    exporter_from_env,
    otlp_endpoint_configured,
    otlp_protocol,
)
from tests.telemetry import graphs
from tests.telemetry.receiver import Receiver, exporter_for

OTEL_VARIABLES = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


async def test_default_protocol_is_http_protobuf_to_the_general_endpoint(
    saver: AsyncSqliteSaver, http_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not otlp_endpoint_configured()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{http_receiver.port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=rewind")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout-agent")
    assert otlp_endpoint_configured()
    assert otlp_protocol() == "http/protobuf"
    runs = await graphs.async_nodes(saver)
    result = await export_runs(await saver.log(), runs)  # exporter from the environment
    spans = http_receiver.spans()
    assert result.spans_exported == len(spans) > 0
    assert {s.resource["service.name"] for s in spans} == {"checkout-agent"}
    assert http_receiver.headers[-1]["x-team"] == "rewind"


async def test_traces_variables_choose_grpc_and_win_over_the_general_ones(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", grpc_receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-traces=yes")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    assert otlp_protocol() == "grpc"
    runs = await graphs.async_nodes(saver)
    result = await export_runs(await saver.log(), runs)
    spans = grpc_receiver.spans()
    assert result.spans_exported == len(spans) > 0
    assert {s.resource["service.name"] for s in spans} == {"rewind"}  # the default name
    assert grpc_receiver.headers[-1]["x-traces"] == "yes"


def test_an_unknown_protocol_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ValueError, match=r"OTEL_EXPORTER_OTLP_PROTOCOL='http/json'.*grpc"):
        exporter_from_env()


async def test_content_stays_off_spans_by_default(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    runs = await graphs.chat_and_tool(saver)
    await export_runs(await saver.log(), runs, exporter=exporter_for(http_receiver))
    keys = {k for s in http_receiver.spans() for k in s.attributes}
    assert not {k for k in keys if k.endswith((".messages", ".arguments", ".result"))}
    assert not {k for k in keys if k.startswith(("input.", "output.", "gen_ai.system_"))}


async def test_the_standard_variable_turns_content_on(
    saver: AsyncSqliteSaver, http_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    runs = await graphs.chat_and_tool(saver)
    await export_runs(await saver.log(), runs, exporter=exporter_for(http_receiver))
    spans = {s.name: s for s in http_receiver.spans()}
    chat = spans["chat GenericFakeChatModel"].attributes
    assert '"content":"what is 2 + 2?"' in chat["gen_ai.input.messages"]
    assert '"role":"assistant"' in chat["gen_ai.output.messages"]
    tool = spans["execute_tool add"].attributes
    assert tool["gen_ai.tool.call.arguments"] == '{"a":2,"b":2}'
    assert tool["gen_ai.tool.call.result"] == "4"
    assert spans["agent"].attributes["output.value"] == '{"hits":["four","4"]}'


async def test_content_is_capped_with_a_visible_marker(
    saver: AsyncSqliteSaver, grpc_receiver: Receiver
) -> None:
    runs = await graphs.big_state(saver)
    long_input = {"hits": ["x" * 10_000]}
    store = await saver.log()
    policy = ContentPolicy(enabled=True, max_length=100)
    assert policy.cap("short") == "short"
    capped = policy.cap(str(long_input))
    assert len(capped) == 100 and capped.endswith(f"...[truncated {len(str(long_input))} chars]")
    await export_runs(store, runs, exporter=exporter_for(grpc_receiver), content=policy)
    values = [v for s in grpc_receiver.spans() for v in s.attributes.values() if isinstance(v, str)]
    assert max(len(v) for v in values) <= 100
    big = [s for s in grpc_receiver.spans() if s.name == "big"]
    # Still JSON, the long string cut inside it with the marker (a backend reads the structure).
    (hit,) = json.loads(str(big[0].attributes["output.value"]))["hits"]
    assert hit.startswith("xxx") and hit.endswith("...[truncated 10000 chars]")


def test_a_cap_too_small_for_its_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 64"):
        ContentPolicy(enabled=True, max_length=10)
