"""LCEL chains inside nodes (LangChain's "how to use a chain in a graph" pattern): a node runs a
``ChatPromptTemplate | model | StrOutputParser()`` sequence, with its config or without, and
others run a ``RunnableParallel`` of a retriever and a ``RunnableLambda``, a chain streamed with
``chain.stream`` and an async chain.

START -> research -> write -> review -> END

* ``research`` looks up notes for the topic with a retriever (a real ``BaseRetriever``) and a
  ``RunnableLambda`` that dispatches a custom event from inside it; the async build runs them
  as a ``RunnableParallel`` (its sync form runs its branches in threads, in any order);
* ``write`` asks a chat model for a draft through the prompt, the model and a parser;
* ``review`` streams a second chain (``chain.stream``), each parser chunk its own event; the
  async build's ``review`` awaits ``chain.ainvoke`` without passing its config.

The models answer from a script (no network). Under ``astream_events`` every nested run is an
event of its own: the sequence, its prompt, model and parser steps, the parallel's branches,
with their parents, tags (``seq:step:N``, ``map:key:K``) and the node's metadata.
"""

from typing import Any, TypedDict

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda, RunnableParallel
from langgraph.graph import END, START, StateGraph


class NotesRetriever(BaseRetriever):
    """Finds the notes whose text names the query."""

    notes: list[str]

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [
            Document(page_content=n, metadata={"rank": i})
            for i, n in enumerate(self.notes)
            if query in n
        ]

    async def _aget_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return self._get_relevant_documents(query, run_manager=run_manager)


class State(TypedDict, total=False):
    topic: str
    notes: list[str]
    draft: str
    review: str


NOTES = ["cats sleep a lot", "dogs bark", "cats purr when content"]


def _model(*answers: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(
        messages=iter(AIMessage(content=a, id=f"answer-{i}") for i, a in enumerate(answers))
    )


def _with_count(docs: list[Document]) -> dict:
    dispatch_custom_event("counted", {"documents": len(docs)})
    return {"docs": docs, "count": len(docs)}


async def _acount(docs: list[Document]) -> int:
    await adispatch_custom_event("counted", {"documents": len(docs)})
    return len(docs)


def _parts(*, parallel: bool):
    retriever = NotesRetriever(notes=NOTES)
    if parallel:  # (async branches: a sync RunnableParallel runs them in threads, racing)
        research = RunnableParallel(docs=retriever, count=retriever | RunnableLambda(_acount))
    else:
        research = retriever | RunnableLambda(_with_count, name="with_count")
    write_prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You write one short paragraph."),
            ("human", "Write about {topic}, using: {notes}"),
        ]
    )
    writer = write_prompt | _model("Cats sleep and purr.") | StrOutputParser()
    review_prompt = ChatPromptTemplate.from_template("Review this draft: {draft}")
    reviewer = review_prompt | _model("Short and sweet.") | StrOutputParser()
    return research, writer, reviewer


def build(checkpointer):
    research_chain, writer, reviewer = _parts(parallel=False)

    def research(state: State, config: RunnableConfig) -> dict:
        found = research_chain.invoke(state["topic"], config)
        return {"notes": [d.page_content for d in found["docs"]]}

    def write(state: State) -> dict:
        # No config passed: LangChain finds the node's own (as LangGraph's how-tos call it).
        return {"draft": writer.invoke({"topic": state["topic"], "notes": state["notes"]})}

    def review(state: State, config: RunnableConfig) -> dict:
        parts = list(reviewer.stream(state, config))
        return {"review": "".join(parts)}

    g = StateGraph(State)
    g.add_node("research", research)
    g.add_node("write", write)
    g.add_node("review", review)
    g.add_edge(START, "research")
    g.add_edge("research", "write")
    g.add_edge("write", "review")
    g.add_edge("review", END)
    return g.compile(checkpointer=checkpointer)


def build_async(checkpointer):
    research_chain, writer, reviewer = _parts(parallel=True)

    async def research(state: State) -> dict:
        found = await research_chain.ainvoke(state["topic"])
        return {"notes": [d.page_content for d in found["docs"]]}

    async def write(state: State, config: RunnableConfig) -> dict:
        return {"draft": await writer.ainvoke({**state}, config)}

    async def review(state: State) -> dict:
        parts = [p async for p in reviewer.astream(state)]
        return {"review": "".join(parts)}

    g = StateGraph(State)
    g.add_node("research", research)
    g.add_node("write", write)
    g.add_node("review", review)
    g.add_edge(START, "research")
    g.add_edge("research", "write")
    g.add_edge("write", "review")
    g.add_edge("review", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {"name": "sync", "calls": [{"input": {"topic": "cats"}}]},
    {
        "name": "tagged",
        "config": {"tags": ["blog"], "metadata": {"user": "ann"}},
        "calls": [{"input": {"topic": "cats"}}],
    },
    {
        "name": "async",
        "build": "build_async",
        "calls": [{"input": {"topic": "cats"}, "api": "ainvoke"}],
    },
]
