"""A text-completion model (not a chat model) inside a node, streamed and invoked.

START -> complete -> END. ``complete`` streams two completions (one through the callbacks,
token by token) and invokes a third: under
``astream_events`` LangChain reports these as ``on_llm_*`` events (not ``on_chat_model_*``).
"""

from collections.abc import Iterator
from typing import Any, TypedDict

from langchain_core.language_models.fake import FakeListLLM, FakeStreamingListLLM
from langchain_core.language_models.llms import LLM
from langchain_core.outputs import GenerationChunk
from langgraph.graph import END, START, StateGraph


class WordLLM(LLM):
    """Completes any prompt with a fixed text, streamed word by word through the callbacks."""

    text: str = "one two three"

    @property
    def _llm_type(self) -> str:
        return "word-llm"

    def _call(self, prompt: str, stop: Any = None, run_manager: Any = None, **kw: Any) -> str:
        return self.text

    def _stream(
        self, prompt: str, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[GenerationChunk]:
        for i, word in enumerate(self.text.split(" ")):
            chunk = GenerationChunk(text=word if i == 0 else " " + word, generation_info={"i": i})
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


class State(TypedDict, total=False):
    prompt: str
    streamed: str
    invoked: str


def build(checkpointer):
    streaming = FakeStreamingListLLM(responses=["streamed text"])
    plain = FakeListLLM(responses=["plain text"])

    def complete(state: State) -> dict:
        streamed = "".join(streaming.stream(state["prompt"]))
        words = "".join(WordLLM().stream(state["prompt"]))
        return {"streamed": streamed + "|" + words, "invoked": plain.invoke(state["prompt"])}

    g = StateGraph(State)
    g.add_node("complete", complete)
    g.add_edge(START, "complete")
    g.add_edge("complete", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [{"name": "complete", "calls": [{"input": {"prompt": "Say something"}}]}]
