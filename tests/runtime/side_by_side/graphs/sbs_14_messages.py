"""add_messages: dicts, tuples, strings and message objects; replace by id; RemoveMessage.

A chat thread over three invokes (MessagesState subclass):
1. input as a (role, content) tuple; ``bot`` replies with an AIMessage with an id and a dict;
2. input as a dict and a bare string; ``bot`` replaces its earlier reply (same id) and
   removes the first user message with RemoveMessage;
3. input as a HumanMessage with an explicit id; ``bot`` appends a (role, content) tuple.
"""

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langgraph.graph import END, START, MessagesState, StateGraph


class State(MessagesState):
    turn: int


def bot(state: State) -> dict:
    turn = state.get("turn", 0) + 1
    msgs = state["messages"]
    if turn == 1:
        reply = [
            AIMessage(content="hi, I am bot", id="bot-1"),
            {"role": "assistant", "content": "how can I help?"},
        ]
    elif turn == 2:
        reply = [
            AIMessage(content="hi, I am bot (edited)", id="bot-1"),
            RemoveMessage(id=msgs[0].id),
            "a bare string becomes a human message",
        ]
    else:
        reply = [("ai", f"turn {turn}: {len(msgs)} messages so far")]
    return {"messages": reply, "turn": turn}


def build(checkpointer):
    g = StateGraph(State)
    g.add_node("bot", bot)
    g.add_edge(START, "bot")
    g.add_edge("bot", END)
    return g.compile(checkpointer=checkpointer)


SCENARIOS = [
    {
        "name": "chat",
        "calls": [
            {"input": {"messages": [("user", "hello")]}},
            {"input": {"messages": [{"role": "user", "content": "edit please"}, "and a string"]}},
            {"input": {"messages": [HumanMessage(content="last", id="user-last")]}},
        ],
    },
]
