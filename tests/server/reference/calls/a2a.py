"""A2A (``/a2a/{assistant_id}``), as plain JSON-RPC: the agent cards, messages sent and
streamed, conversations over a context, interrupts answered, tasks read, listed and cancelled,
and the protocol's errors.

The server's own version (the agent card's ``version``) is each server's, shown as
``<server>``.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.server.reference.calls.base import Call, Ctx, Http, answer, registrar, sse

CALLS: list[Call] = []
call = registrar(CALLS)

ROUTE = "/a2a/{assistant_id}"
JSON = {"accept": "application/json"}
STREAM = {"accept": "text/event-stream"}
_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def assistant(graph_id: str) -> str:
    """The id of a graph's default assistant (the same on both servers)."""
    return str(uuid.uuid5(_NAMESPACE, graph_id))


def message(text: str | None = None, **fields: Any) -> dict[str, Any]:
    """An A2A user message with one text part (or the parts given)."""
    out: dict[str, Any] = {"role": "user", "messageId": f"m-{uuid.uuid4()}"}
    out["parts"] = [{"kind": "text", "text": text}] if text is not None else []
    out.update(fields)
    return out


async def rpc(
    h: Http,
    graph_id: str,
    method: str,
    params: Any = None,
    *,
    headers: dict[str, str] | None = None,
    assistant_id: str | None = None,
) -> dict[str, Any]:
    """One JSON-RPC request to a graph's assistant, answered."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    path = {"assistant_id": assistant_id or assistant(graph_id)}
    response = await h.request("POST", ROUTE, path=path, json=body, headers=headers or JSON)
    return answer(response)


async def stream(h: Http, graph_id: str, params: Any, method: str = "message/stream") -> Any:
    """A ``message/stream`` request, its events."""
    body = {"jsonrpc": "2.0", "id": "s", "method": method, "params": params}
    path = {"assistant_id": assistant(graph_id)}
    return sse(await h.request("POST", ROUTE, path=path, json=body, headers=STREAM))


def task_of(outcome: dict[str, Any]) -> dict[str, Any]:
    """The task a ``message/send`` answered."""
    return outcome["body"]["result"]


def _card_shown(outcome: dict[str, Any]) -> dict[str, Any]:
    if isinstance(outcome["body"], dict) and "version" in outcome["body"]:
        outcome["body"]["version"] = "<server>"
    return outcome


# --- agent cards -----------------------------------------------------------------------------


@call("GET /a2a/{assistant_id}/.well-known/agent-card.json", http=True)
async def agent_card(h: Http, ctx: Ctx) -> Any:
    route = "/a2a/{assistant_id}/.well-known/agent-card.json"
    response = await h.request("GET", route, path={"assistant_id": assistant("chat")})
    return _card_shown(answer(response))


@call("GET /a2a/{assistant_id}/.well-known/agent.json", "no messages, unknown", http=True)
async def agent_card_legacy(h: Http, ctx: Ctx) -> Any:
    route = "/a2a/{assistant_id}/.well-known/agent.json"
    return {
        "boom": _card_shown(
            answer(await h.request("GET", route, path={"assistant_id": assistant("boom")}))
        ),
        "unknown": answer(await h.request("GET", route, path={"assistant_id": str(uuid.uuid4())})),
        "not a UUID": answer(await h.request("GET", route, path={"assistant_id": "chat"})),
    }


@call("GET /a2a/{assistant_id}", http=True)
async def agent_card_at_the_agent(h: Http, ctx: Ctx) -> Any:
    response = await h.request("GET", ROUTE, path={"assistant_id": assistant("ask")})
    return _card_shown(answer(response))


@call("GET /.well-known/agent-card.json", http=True)
async def root_agent_card(h: Http, ctx: Ctx) -> Any:
    route = "/.well-known/agent-card.json"
    return {
        "asked": _card_shown(
            answer(await h.request("GET", route, params={"assistant_id": assistant("chat")}))
        ),
        "not asked": answer(await h.request("GET", route)),
    }


@call("DELETE /a2a/{assistant_id}", http=True)
async def delete_agent(h: Http, ctx: Ctx) -> Any:
    return answer(await h.request("DELETE", ROUTE, path={"assistant_id": assistant("chat")}))


@call("POST /a2a/{assistant_id}", "agent/getAuthenticatedExtendedCard", http=True)
async def extended_card(h: Http, ctx: Ctx) -> Any:
    outcome = await rpc(h, "chat", "GetExtendedAgentCard")
    outcome["body"]["result"]["version"] = "<server>"
    return outcome


# --- messages ---------------------------------------------------------------------------------


@call("POST /a2a/{assistant_id}", "message/send", http=True)
async def send(h: Http, ctx: Ctx) -> Any:
    outcome = await rpc(h, "chat", "message/send", {"message": message("hi")})
    ctx["a2a task"] = task_of(outcome)["id"]
    ctx["a2a context"] = task_of(outcome)["contextId"]
    return outcome


@call("POST /a2a/{assistant_id}", "message/send, same context", http=True)
async def send_again(h: Http, ctx: Ctx) -> Any:
    said = message("again", contextId=ctx["a2a context"])
    return {
        "context history": await rpc(h, "chat", "message/send", {"message": said}),
        "task history, 1": await rpc(
            h,
            "chat",
            "message/send",
            {
                "message": message("thrice", contextId=ctx["a2a context"]),
                "configuration": {"historyLength": 1, "historyScope": "task"},
            },
        ),
        "no history": await rpc(
            h,
            "chat",
            "message/send",
            {
                "message": message("four", contextId=ctx["a2a context"]),
                "configuration": {"historyLength": 0},
            },
        ),
    }


@call("POST /a2a/{assistant_id}", "SendMessage", http=True)
async def send_v1(h: Http, ctx: Ctx) -> Any:
    said = {"role": "ROLE_USER", "messageId": "m-v1", "parts": [{"text": "hi"}]}
    return await rpc(h, "chat", "SendMessage", {"message": said})


@call("POST /a2a/{assistant_id}", "message/send, data and files", http=True)
async def send_data(h: Http, ctx: Ctx) -> Any:
    file_part = {
        "kind": "file",
        "file": {"uri": "https://example.com/a.png", "mimeType": "image/png"},
    }
    return {
        "data only": await rpc(
            h,
            "slow",
            "message/send",
            {"message": message(parts=[{"kind": "data", "data": {"seconds": 0}}])},
        ),
        "text and a file": await rpc(
            h,
            "chat",
            "message/send",
            {"message": message(parts=[{"kind": "text", "text": "look"}, file_part])},
        ),
    }


@call("POST /a2a/{assistant_id}", "message/send, failed run", http=True)
async def send_failing(h: Http, ctx: Ctx) -> Any:
    said = message(parts=[{"kind": "data", "data": {"x": 1}}])
    return await rpc(h, "boom", "message/send", {"message": said})


@call("POST /a2a/{assistant_id}", "message/send, interrupt and resume", http=True)
async def send_interrupt(h: Http, ctx: Ctx) -> Any:
    asked = await rpc(h, "ask", "message/send", {"message": message("hi")})
    task = task_of(asked)
    answered = message("yes", taskId=task["id"], contextId=task["contextId"])
    resumed = await rpc(h, "ask", "message/send", {"message": answered})
    again = message("more", taskId=task["id"], contextId=task["contextId"])
    return {
        "asked": asked,
        "resumed": resumed,
        "terminal": await rpc(h, "ask", "message/send", {"message": again}),
    }


@call("POST /a2a/{assistant_id}", "message/send, bad input", http=True)
async def send_bad(h: Http, ctx: Ctx) -> Any:
    send_ = "message/send"
    return {
        "no message": await rpc(h, "chat", send_, {}),
        "params not an object": await rpc(h, "chat", send_, [1]),
        "no messageId": await rpc(h, "chat", send_, {"message": {"role": "user", "parts": []}}),
        "no role": await rpc(h, "chat", send_, {"message": {"messageId": "m", "parts": []}}),
        "no parts": await rpc(h, "chat", send_, {"message": message()}),
        "parts not a list": await rpc(h, "chat", send_, {"message": message(parts={"a": 1})}),
        "two kinds in a part": await rpc(
            h, "chat", send_, {"message": message(parts=[{"text": "a", "data": {}}])}
        ),
        "unknown part": await rpc(h, "chat", send_, {"message": message(parts=[{"x": 1}])}),
        "text to a graph without messages": await rpc(h, "boom", send_, {"message": message("hi")}),
        "unknown task": await rpc(
            h, "chat", send_, {"message": message("hi", taskId=f"{uuid.uuid4()}:{uuid.uuid4()}")}
        ),
        "historyLength too long": await rpc(
            h, "chat", send_, {"message": message("hi"), "configuration": {"historyLength": 11}}
        ),
        "unknown assistant": await rpc(
            h, "chat", send_, {"message": message("hi")}, assistant_id=str(uuid.uuid4())
        ),
        "assistant not a UUID": await rpc(
            h, "chat", send_, {"message": message("hi")}, assistant_id="chat"
        ),
        "resume without a task": await rpc(
            h, "ask", send_, {"message": message("hi", command={"resume": "x"})}
        ),
    }


# --- tasks ------------------------------------------------------------------------------------


@call("POST /a2a/{assistant_id}", "tasks/get", http=True)
async def get_task(h: Http, ctx: Ctx) -> Any:
    return {
        "task": await rpc(h, "chat", "tasks/get", {"id": ctx["a2a task"]}),
        "history 1": await rpc(h, "chat", "tasks/get", {"id": ctx["a2a task"], "historyLength": 1}),
        "GetTask": await rpc(h, "chat", "GetTask", {"id": ctx["a2a task"]}),
        "another assistant's": await rpc(h, "ask", "tasks/get", {"id": ctx["a2a task"]}),
        "unknown": await rpc(h, "chat", "tasks/get", {"id": f"{uuid.uuid4()}:{uuid.uuid4()}"}),
        "no id": await rpc(h, "chat", "tasks/get", {}),
        "id not a string": await rpc(h, "chat", "tasks/get", {"id": 5}),
    }


@call("POST /a2a/{assistant_id}", "tasks/cancel", http=True)
async def cancel_task(h: Http, ctx: Ctx) -> Any:
    asked = task_of(await rpc(h, "ask", "message/send", {"message": message("hi")}))
    cancelled = await rpc(h, "ask", "tasks/cancel", {"id": asked["id"]})
    return {
        "input required": cancelled,
        "then": await rpc(h, "ask", "tasks/get", {"id": asked["id"], "historyLength": 0}),
        "completed": await rpc(h, "chat", "tasks/cancel", {"id": ctx["a2a task"]}),
        "unknown": await rpc(h, "chat", "tasks/cancel", {"id": f"{uuid.uuid4()}:x"}),
    }


@call("POST /a2a/{assistant_id}", "ListTasks", http=True)
async def list_tasks(h: Http, ctx: Ctx) -> Any:
    return {
        "context": await rpc(
            h, "chat", "ListTasks", {"contextId": ctx["a2a context"], "historyLength": 1}
        ),
        "completed, page of 1": await rpc(
            h,
            "chat",
            "ListTasks",
            {"contextId": ctx["a2a context"], "status": "completed", "pageSize": 1},
        ),
        "bad page size": await rpc(h, "chat", "ListTasks", {"pageSize": 0}),
        "bad status": await rpc(h, "chat", "ListTasks", {"status": "sleeping"}),
        "unknown context": await rpc(h, "chat", "ListTasks", {"contextId": str(uuid.uuid4())}),
    }


# --- streams ----------------------------------------------------------------------------------


@call("POST /a2a/{assistant_id}", "message/stream", http=True)
async def stream_send(h: Http, ctx: Ctx) -> Any:
    return await stream(h, "chat", {"message": message("hi", messageId="m-stream")})


@call("POST /a2a/{assistant_id}", "message/stream, tokens", http=True)
async def stream_tokens(h: Http, ctx: Ctx) -> Any:
    return await stream(h, "tokens", {"message": message("hi", messageId="m-tokens")})


@call("POST /a2a/{assistant_id}", "message/stream, interrupt", http=True)
async def stream_interrupt(h: Http, ctx: Ctx) -> Any:
    return await stream(h, "ask", {"message": message("hi", messageId="m-ask")})


@call("POST /a2a/{assistant_id}", "message/stream, failed run and errors", http=True)
async def stream_failing(h: Http, ctx: Ctx) -> Any:
    said = message(parts=[{"kind": "data", "data": {"x": 1}}], messageId="m-boom")
    return {
        "failed run": await stream(h, "boom", {"message": said}),
        "no role": await stream(h, "chat", {"message": {"messageId": "m", "parts": []}}),
        "SendStreamingMessage": await stream(
            h, "chat", {"message": message("hi", messageId="m-v1")}, "SendStreamingMessage"
        ),
    }


# --- the protocol's errors --------------------------------------------------------------------


@call("POST /a2a/{assistant_id}", "malformed", http=True)
async def malformed(h: Http, ctx: Ctx) -> Any:
    path = {"assistant_id": assistant("chat")}

    async def post(body: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return answer(
            await h.request("POST", ROUTE, path=path, content=body, headers=headers or JSON)
        )

    return {
        "not JSON": await post(b"{nope"),
        "not an object": await post(b"[1]"),
        "no jsonrpc": await post(b'{"id": 1, "method": "tasks/get"}'),
        "unknown method": await post(b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/resubscribe"}'),
        "method not a string": await post(b'{"jsonrpc": "2.0", "id": 1, "method": 5}'),
        "id an object": await post(b'{"jsonrpc": "2.0", "id": {}, "method": "tasks/get"}'),
        "no method": await post(b'{"jsonrpc": "2.0", "id": 1}'),
        "a response": await post(b'{"jsonrpc": "2.0", "id": 1, "result": {}}'),
        "a notification": await post(b'{"jsonrpc": "2.0", "method": "tasks/get"}'),
        "no accept": await post(
            b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get"}', {"accept": "text/html"}
        ),
        "stream, json accept": await post(
            b'{"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": {"message": {}}}'
        ),
    }
