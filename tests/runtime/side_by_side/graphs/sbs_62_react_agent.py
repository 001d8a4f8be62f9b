"""``create_react_agent``, as LangGraph's agent quick start uses it: a chat model that asks
for tools (a scripted model, no network) and the tools it asks for, in a loop until it
answers. Options: a string prompt, a ``ToolNode``, ``version="v1"`` (one tools task) and the
default ``v2`` (a task per call), a tool with ``return_direct``, a ``pre_model_hook`` that
trims what the model sees, a ``post_model_hook``, ``response_format`` (a last model call
fills ``structured_response``), ``interrupt_before=["tools"]`` and a resume, and too few steps
left (``recursion_limit``) for another round.
"""

import json
import warnings
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, RemoveMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.prebuilt import ToolNode, create_react_agent
from pydantic import BaseModel


class ScriptedModel(GenericFakeChatModel):
    """Answers from a script; tools are ``bind_tools``-ed as a provider's model would."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[{"name": t.name} for t in tools], **kwargs)

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        return self | (lambda message: schema(**json.loads(message.content)))

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        message = next(self.messages)
        chunk = AIMessageChunk(
            content=message.content,
            id=message.id,
            tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ],
        )
        chunk.chunk_position = "last"
        if run_manager:
            run_manager.on_llm_new_token(
                str(chunk.content), chunk=ChatGenerationChunk(message=chunk)
            )
        yield ChatGenerationChunk(message=chunk)


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It's always sunny in {city}"


@tool(return_direct=True)
def final_answer(text: str) -> str:
    """Answer the user directly."""
    return text.upper()


def calls(*names_and_args: tuple[str, dict]) -> AIMessage:
    return AIMessage(
        "",
        id="ai-calls",
        tool_calls=[
            {"name": n, "args": a, "id": f"call_{i}"} for i, (n, a) in enumerate(names_and_args)
        ],
    )


def model(*replies: AIMessage) -> ScriptedModel:
    return ScriptedModel(messages=iter(replies))


def weather_model() -> ScriptedModel:
    return model(
        calls(("get_weather", {"city": "sf"}), ("get_weather", {"city": "nyc"})),
        AIMessage("Sunny in both.", id="ai-answer"),
    )


def agent(checkpointer, **kwargs):
    with warnings.catch_warnings():  # create_react_agent is deprecated (langchain.agents)
        warnings.simplefilter("ignore")
        return create_react_agent(checkpointer=checkpointer, **kwargs)


def build(checkpointer):
    return agent(checkpointer, model=weather_model(), tools=[get_weather], prompt="Be brief.")


def build_v1(checkpointer):
    return agent(checkpointer, model=weather_model(), tools=ToolNode([get_weather]), version="v1")


def build_return_direct(checkpointer):
    reply = model(calls(("final_answer", {"text": "done"})))
    return agent(checkpointer, model=reply, tools=[get_weather, final_answer])


def trim(state: dict) -> dict:
    return {"llm_input_messages": state["messages"][-1:]}


def build_hooks(checkpointer):
    def post(state: dict) -> dict:
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *state["messages"]]}

    return agent(
        checkpointer,
        model=weather_model(),
        tools=[get_weather],
        pre_model_hook=trim,
        post_model_hook=post,
    )


class Weather(BaseModel):
    city: str
    sunny: bool


def build_structured(checkpointer):
    replies = model(
        calls(("get_weather", {"city": "sf"})),
        AIMessage("Sunny.", id="ai-answer"),
        AIMessage('{"city": "sf", "sunny": true}', id="ai-structured"),
    )
    return agent(checkpointer, model=replies, tools=[get_weather], response_format=Weather)


def build_interrupt(checkpointer):
    return agent(
        checkpointer, model=weather_model(), tools=[get_weather], interrupt_before=["tools"]
    )


def build_no_tools(checkpointer):
    return agent(checkpointer, model=model(AIMessage("Hello!", id="ai-hello")), tools=[])


QUESTION = {"messages": [("user", "Weather in sf and nyc?")]}

SCENARIOS = [
    {
        "name": "tool_loop",
        "calls": [
            {
                "input": QUESTION,
                "api": "stream",
                "kwargs": {"stream_mode": ["updates", "values"]},
                "unordered": True,  # the two v2 tool tasks run in parallel threads
                "racy_ids": True,  # so LangGraph's reducer gives their messages ids, or not yet
            }
        ],
    },
    {"name": "v1_tool_node", "build": "build_v1", "calls": [{"input": QUESTION}]},
    {"name": "async", "calls": [{"input": QUESTION, "api": "ainvoke"}]},
    {"name": "return_direct", "build": "build_return_direct", "calls": [{"input": QUESTION}]},
    {"name": "hooks", "build": "build_hooks", "calls": [{"input": QUESTION}]},
    {"name": "structured_response", "build": "build_structured", "calls": [{"input": QUESTION}]},
    {
        "name": "interrupt_before_tools",
        "build": "build_interrupt",
        "calls": [{"input": QUESTION}, {"input": None}],
    },
    {
        "name": "needs_more_steps",
        "config": {"recursion_limit": 2},
        "calls": [{"input": QUESTION}],
    },
    {"name": "no_tools", "build": "build_no_tools", "calls": [{"input": QUESTION}]},
]

# The v2 tool tasks run in parallel threads: LangGraph interleaves their events by thread
# timing. (The routing functions' seq:step tags are compared by sbs_99.)
EVENTS_COMPARABLE = False
