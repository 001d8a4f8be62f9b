"""Runnables as nodes and chains in subgraphs, tools and failures (LangGraph's "use LangChain
runnables in a graph" patterns).

START -> classify -> answer (a subgraph: draft -> polish) -> check -> END

* ``classify`` is an LCEL chain added as the node itself (``add_node("classify", chain)``): a
  ``RunnableLambda`` that builds the prompt's input, the prompt, a model and a
  ``JsonOutputParser``, then a ``RunnableLambda`` that shapes the update;
* the ``answer`` subgraph's ``draft`` node runs a prompt and a model, its ``polish`` node a tool
  (``@tool``) whose body calls a chain of its own;
* ``check`` runs a chain whose parser fails (``OutputParserException``) and falls back: a failed
  nested run has a start and no end, as in LangChain's event stream.

``build_agent``: ``create_react_agent`` with a system prompt and no tools, whose agent node runs
its function as a run of its own (``call_model``) beside the prompt and model sequence.
"""

from typing import TypedDict

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import create_react_agent


class State(TypedDict, total=False):
    question: str
    kind: str
    answer: str
    checked: str


def _model(*answers: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(
        messages=iter(AIMessage(content=a, id=f"reply-{i}") for i, a in enumerate(answers))
    )


def _strict(text: str) -> str:
    if not text.startswith("OK"):
        raise OutputParserException(f"not a verdict: {text!r}")
    return text


def build(checkpointer):
    classify = (
        RunnableLambda(lambda state: {"question": state["question"]}, name="prepare")
        | ChatPromptTemplate.from_template("Classify as JSON: {question}")
        | _model('{"kind": "weather"}')
        | JsonOutputParser()
        | RunnableLambda(lambda parsed: {"kind": parsed["kind"]}, name="to_update")
    )

    drafter = ChatPromptTemplate.from_messages(
        [("system", "Answer {kind} questions."), ("human", "{question}")]
    ) | _model("It is sunny.")
    shouter = ChatPromptTemplate.from_template("Shout: {text}") | _model("IT IS SUNNY!")

    @tool
    def polish(text: str) -> str:
        """Make an answer louder."""
        return shouter.invoke({"text": text}).content

    def draft(state: State) -> dict:
        return {"answer": drafter.invoke(state).content}

    def polish_node(state: State) -> dict:
        return {"answer": polish.invoke({"text": state["answer"]})}

    sub = StateGraph(State)
    sub.add_node("draft", draft)
    sub.add_node("polish", polish_node)
    sub.add_edge(START, "draft")
    sub.add_edge("draft", "polish")
    answer = sub.compile()

    checker = (
        ChatPromptTemplate.from_template("Check: {answer}")
        | _model("maybe")
        | StrOutputParser()
        | RunnableLambda(_strict)
    )

    def check(state: State) -> dict:
        try:
            return {"checked": checker.invoke(state)}
        except OutputParserException:
            return {"checked": "unchecked"}

    g = StateGraph(State)
    g.add_node("classify", classify)
    g.add_node("answer", answer)
    g.add_node("check", check)
    g.add_edge(START, "classify")
    g.add_edge("classify", "answer")
    g.add_edge("answer", "check")
    g.add_edge("check", END)
    return g.compile(checkpointer=checkpointer)


def build_agent(checkpointer):
    return create_react_agent(
        _model("Sunny all day."), tools=[], prompt="Be brief.", checkpointer=checkpointer
    )


SCENARIOS = [
    {"name": "weather", "calls": [{"input": {"question": "Is it sunny?"}}]},
    {"name": "async_api", "calls": [{"input": {"question": "Is it sunny?"}, "api": "ainvoke"}]},
    {
        "name": "agent",
        "build": "build_agent",
        "calls": [{"input": {"messages": [("user", "Weather?")]}}],
    },
    {
        "name": "agent_async",
        "build": "build_agent",
        "calls": [{"input": {"messages": [("user", "Weather?")]}, "api": "ainvoke"}],
    },
]
