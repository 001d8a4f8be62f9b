"""Content on spans, in the forms tracing backends read: the GenAI conventions' structured
messages and tool arguments/results, and OpenInference's ``input.value``/``output.value`` on
workflow and node spans. The demo's tool agent (a LangChain chat model, ``ToolNode``) runs on a
SQLite file; its spans go to a real OTLP receiver, live and exported afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.cli.demo import QUESTION, builder
from rewind.telemetry import ContentPolicy, export_runs
from rewind.telemetry.genai import chat_end_attributes, chat_start_attributes
from tests.telemetry.receiver import ReceivedSpan, Receiver, exporter_for
from tests.telemetry.support import by_run, mirrored

ON = ContentPolicy(enabled=True)


async def agent_run(saver: AsyncSqliteSaver) -> list[str]:
    graph = builder().compile(checkpointer=saver)
    given = {"messages": [SystemMessage("Be brief."), HumanMessage(QUESTION)]}
    await graph.ainvoke(given, {"configurable": {"thread_id": "agent"}})
    store = await saver.log()
    return [r.run_id for r in await store.list_runs(thread_id="agent")]


def named(spans: list[ReceivedSpan], prefix: str) -> list[ReceivedSpan]:
    return sorted((s for s in spans if s.name.startswith(prefix)), key=lambda s: s.start_ns)


def attribute_json(span: ReceivedSpan, key: str) -> Any:
    return json.loads(str(span.attributes[key]))


async def test_the_agent_s_spans_carry_what_it_saw_said_and_did(
    saver: AsyncSqliteSaver, http_receiver: Receiver
) -> None:
    runs, _ = await mirrored(saver, agent_run, exporter_for(http_receiver), content=ON)
    live = http_receiver.spans()
    assert not [s for s in live if s.name == "__start__"]  # its data is on the run's span

    first, second = named(live, "chat ")
    assert attribute_json(first, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]},
    ]
    (asked,) = attribute_json(first, "gen_ai.output.messages")
    assert asked["role"] == "assistant" and asked["finish_reason"] == "tool_call"
    calls = [p for p in asked["parts"] if p["type"] == "tool_call"]
    assert [(c["name"], c["arguments"]) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("multiply", {"a": 17, "b": 23}),
    ]
    assert all(c["id"].startswith("call_") for c in calls)
    # The second call sees the tool results as tool_call_response parts, answering those ids.
    history = attribute_json(second, "gen_ai.input.messages")
    responses = [p for m in history if m["role"] == "tool" for p in m["parts"]]
    assert [(r["type"], r["id"], r["response"]) for r in responses] == [
        ("tool_call_response", calls[0]["id"], "18°C and sunny"),
        ("tool_call_response", calls[1]["id"], "391"),
    ]
    (answer,) = attribute_json(second, "gen_ai.output.messages")
    assert answer["finish_reason"] == "stop"
    assert answer["parts"][0]["content"].startswith("Here is what I found")
    assert second.attributes["output.value"] == answer["parts"][0]["content"]
    assert second.attributes["output.mime_type"] == "text/plain"
    assert first.attributes["gen_ai.usage.input_tokens"] == 13

    weather, product = named(live, "execute_tool ")
    assert attribute_json(weather, "gen_ai.tool.call.arguments") == {"city": "Paris"}
    assert weather.attributes["gen_ai.tool.call.result"] == "18°C and sunny"
    assert weather.attributes["gen_ai.tool.call.id"] == calls[0]["id"]
    assert attribute_json(product, "gen_ai.tool.call.arguments") == {"a": 17, "b": 23}
    assert product.attributes["gen_ai.tool.call.result"] == "391"

    (root,) = named(live, "invoke_workflow ")
    assert root.attributes["gen_ai.workflow.name"] == "LangGraph"
    assert attribute_json(root, "input.value") == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": QUESTION},
        ]
    }
    final = attribute_json(root, "output.value")["messages"]
    assert [m["role"] for m in final] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert final[2]["tool_calls"][1]["arguments"] == {"a": 17, "b": 23}
    assert final[3]["tool_call_id"] == calls[0]["id"]
    assert root.attributes["output.mime_type"] == "application/json"
    assert attribute_json(root, "gen_ai.input.messages")[1]["parts"][0]["content"] == QUESTION
    (last,) = attribute_json(root, "gen_ai.output.messages")
    assert last["parts"] == answer["parts"]

    agent = named(live, "agent")[0]
    given = attribute_json(agent, "input.value")["messages"]
    assert [m["role"] for m in given] == ["system", "user"]
    said = attribute_json(agent, "output.value")["messages"]
    assert said[0]["role"] == "assistant" and len(said[0]["tool_calls"]) == 2
    (tools,) = named(live, "tools")
    assert [m["content"] for m in attribute_json(tools, "output.value")["messages"]] == [
        "18°C and sunny",
        "391",
    ]

    # Exported again from the log: the same spans, attribute for attribute.
    http_receiver.clear()
    await export_runs(await saver.log(), runs, exporter=exporter_for(http_receiver), content=ON)
    again = by_run(http_receiver.spans())[runs[0]]
    assert {(s.span_id, s.name): s.attributes for s in again} == {
        (s.span_id, s.name): s.attributes for s in by_run(live)[runs[0]]
    }


def test_leading_system_messages_are_instructions_for_a_provider_that_takes_them_apart() -> None:
    messages = [SystemMessage("Be brief."), HumanMessage("hi")]
    anthropic = chat_start_attributes(
        {"messages": [messages], "metadata": {"ls_provider": "anthropic"}}, ON
    )
    assert json.loads(anthropic["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert [m["role"] for m in json.loads(anthropic["gen_ai.input.messages"])] == ["user"]
    openai = chat_start_attributes(
        {"messages": [messages], "metadata": {"ls_provider": "openai"}}, ON
    )
    assert "gen_ai.system_instructions" not in openai  # part of the history OpenAI is sent
    assert [m["role"] for m in json.loads(openai["gen_ai.input.messages"])] == ["system", "user"]


@pytest.mark.parametrize(
    ("ls_provider", "name"),
    [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("google_genai", "gcp.gen_ai"),
        ("google_vertexai", "gcp.vertex_ai"),
        ("bedrock_converse", "aws.bedrock"),
        ("azure", "azure.ai.openai"),
        ("mistralai", "mistral_ai"),
        ("xai", "x_ai"),
        ("someone_new", "someone_new"),
    ],
)
def test_providers_are_named_as_the_conventions_name_them(ls_provider: str, name: str) -> None:
    attributes = chat_start_attributes({"metadata": {"ls_provider": ls_provider}}, ON)
    assert attributes["gen_ai.provider.name"] == name


def test_message_parts_of_every_kind() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    inline = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    thinking = {"type": "thinking", "thinking": "Let me see."}
    start = chat_start_attributes(
        {
            "messages": [
                [
                    HumanMessage([{"type": "text", "text": "What is this?"}, image, inline]),
                    AIMessage("", tool_calls=[{"name": "look", "args": {"q": 1}, "id": "c1"}]),
                    ToolMessage("a cat", tool_call_id="c1"),
                ]
            ]
        },
        ON,
    )
    user, asked, told = json.loads(start["gen_ai.input.messages"])
    assert user["parts"] == [
        {"type": "text", "content": "What is this?"},
        {
            "type": "uri",
            "modality": "image",
            "mime_type": None,
            "uri": "https://example.com/cat.png",
        },
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "AAAA"},
    ]
    assert asked["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "look", "arguments": {"q": 1}}
    ]
    assert told["parts"] == [{"type": "tool_call_response", "id": "c1", "response": "a cat"}]
    reply = AIMessage(
        [thinking, {"type": "text", "text": "A cat."}],
        response_metadata={"stop_reason": "max_tokens"},
    )
    end = chat_end_attributes({"generations": [[reply]]}, ON)
    (out,) = json.loads(end["gen_ai.output.messages"])
    assert out == {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "Let me see."},
            {"type": "text", "content": "A cat."},
        ],
        "finish_reason": "length",
    }
    assert end["gen_ai.response.finish_reasons"] == ["max_tokens"]  # as the provider said it
    assert end["output.value"] == "A cat."


def test_a_long_prompt_is_cut_inside_its_strings_so_backends_can_still_read_it() -> None:
    policy = ContentPolicy(enabled=True, max_length=1000)
    history = [HumanMessage("x" * 5000), AIMessage("short answer"), HumanMessage("y" * 3000)]
    attributes = chat_start_attributes({"messages": [history]}, policy)
    text = attributes["gen_ai.input.messages"]
    assert len(text) <= 1000
    first, answer, last = json.loads(text)  # still JSON: each message still there
    assert answer["parts"] == [{"type": "text", "content": "short answer"}]
    assert first["parts"][0]["content"].endswith("...[truncated 5000 chars]")
    assert last["parts"][0]["content"].endswith("...[truncated 3000 chars]")
    assert first["parts"][0]["content"].startswith("xxxx")
