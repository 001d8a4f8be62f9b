"""Answers shaped as LangGraph's server shapes them, where rewind once answered otherwise (the
side-by-side test in ``reference/`` compares every call; these hold the shapes in the default
suite)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from langgraph_sdk.errors import BadRequestError, UnprocessableEntityError

HI = {"messages": [{"role": "user", "content": "hi"}]}
EMPTY_STATE = {
    "values": {},
    "next": [],
    "tasks": [],
    "metadata": None,
    "created_at": None,
    "checkpoint": None,
    "parent_checkpoint": None,
    "interrupts": [],
    "checkpoint_id": None,
    "parent_checkpoint_id": None,
}


async def test_a_thread_no_graph_ran_on_has_an_empty_state(client: Any) -> None:
    tid = (await client.threads.create(metadata={"k": "v"}))["thread_id"]
    assert await client.threads.get_state(tid) == EMPTY_STATE
    with pytest.raises(BadRequestError, match="has no assigned graph ID"):
        await client.threads.update_state(tid, {"steps": ["x"]})


async def test_a_thread_gets_a_config_once_a_run_went_on_it(client: Any) -> None:
    thread = await client.threads.create()
    assert thread["config"] == {}
    await client.runs.wait(thread["thread_id"], "agent", input=HI)  # stops at its interrupt
    got = await client.threads.get(thread["thread_id"])
    assert got["status"] == "interrupted" and got["config"] == {"configurable": {}}


async def test_update_state_checkpoints_name_the_graph_and_the_thread(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "echo", input=HI)
    first = await client.threads.get_state(tid)
    assert first["metadata"]["thread_id"] == tid
    written = await client.threads.update_state(tid, {"steps": ["patched"]}, as_node="echo")
    state = await client.threads.get_state(tid)
    assert state["checkpoint_id"] == written["checkpoint_id"]
    assert state["metadata"]["source"] == "update"
    assert (state["metadata"]["graph_id"], state["metadata"]["thread_id"]) == ("echo", tid)
    history = await client.threads.get_history(tid, metadata={"thread_id": tid}, limit=100)
    assert len(history) >= 3 and all(h["metadata"]["thread_id"] == tid for h in history)
    # A read at a checkpoint id shows the checkpoint as asked: no namespace.
    at = await client.threads.get_state(tid, checkpoint_id=first["checkpoint_id"])
    assert at["checkpoint"] == {"checkpoint_id": first["checkpoint_id"], "thread_id": tid}
    assert at["parent_checkpoint"]["checkpoint_ns"] == ""


async def test_a_copy_is_answered_as_a_fresh_idle_thread(client: Any) -> None:
    tid = (await client.threads.create(metadata={"k": "v"}))["thread_id"]
    await client.runs.wait(tid, "agent", input=HI)  # interrupted
    copied = await client.threads.copy(tid)
    assert set(copied) == {
        "thread_id",
        "created_at",
        "updated_at",
        "state_updated_at",
        "metadata",
        "status",
        "config",
    }
    assert (copied["status"], copied["config"]) == ("idle", {})
    assert copied["metadata"]["k"] == "v"
    assert (await client.threads.get_state(copied["thread_id"]))["next"] == ["ask_human"]


async def test_a_cancel_that_waits_answers_an_empty_object(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "slow", input={"n": 40})
    await asyncio.sleep(0.3)
    assert await client.runs.cancel(tid, run["run_id"], wait=True) == {}
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    assert await client.runs.cancel(tid, run["run_id"]) is None  # no wait: 202, no body


async def test_a_stateless_run_streams_no_checkpoint(client: Any) -> None:
    parts = [
        (p.event, p.data)
        async for p in client.runs.stream(
            None, "echo", input=HI, stream_mode=["checkpoints", "debug", "values"]
        )
    ]
    events = [e for e, _ in parts]
    assert events[0] == "metadata" and "values" in events and "debug" in events
    assert "checkpoints" not in events
    assert all(d["type"] != "checkpoint" for e, d in parts if e == "debug")
    # A run on a thread streams its checkpoints.
    tid = (await client.threads.create())["thread_id"]
    kept = [
        p.event async for p in client.runs.stream(tid, "echo", input=HI, stream_mode="checkpoints")
    ]
    assert kept.count("checkpoints") >= 2


async def test_searches_and_listings_answer_the_selected_fields(client: Any) -> None:
    tag = {"tag": uuid.uuid4().hex}
    tid = (await client.threads.create(metadata=tag))["thread_id"]
    found = await client.threads.search(metadata=tag, select=["thread_id", "status", "metadata"])
    assert found == [{"thread_id": tid, "status": "idle", "metadata": tag}]
    await client.runs.wait(tid, "echo", input=HI)
    runs = await client.runs.list(tid, select=["run_id", "status"])
    assert len(runs) == 1 and set(runs[0]) == {"run_id", "status"}
    assert runs[0]["status"] == "success"
    with pytest.raises(UnprocessableEntityError):
        await client.runs.list(tid, select=["nope"])
    with pytest.raises(UnprocessableEntityError):
        await client.threads.search(select=["nope"])


async def test_runs_carry_the_keys_langgraphs_server_gives_them(client: Any) -> None:
    tid = (await client.threads.create(metadata={"user": "u1"}))["thread_id"]
    run = await client.runs.create(tid, "slow", input={"n": 1}, metadata={"n": 1})
    config = run["kwargs"]["config"]
    server = {
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
        "user_id": "",
        "__after_seconds__": 0,
    }
    assert server.items() <= config["configurable"].items()
    assert isinstance(config["configurable"]["__request_start_time_ms__"], int)
    uuid.UUID(config["configurable"]["langgraph_request_id"])
    assert "rewind_stream" not in config["configurable"] and "run_id" not in config
    assert run["metadata"] == config["metadata"]
    assert run["metadata"] == {
        "created_by": "system",  # the assistant's
        "user": "u1",  # the thread's
        "graph_id": "slow",
        "assistant_id": run["assistant_id"],
        "n": 1,
    }
    await client.runs.join(tid, run["run_id"])
    done = (await client.runs.get(tid, run["run_id"]))["kwargs"]["config"]["metadata"]
    started = {
        "run_attempt": 1,
        "langgraph_version": "1.2.22",
        "langgraph_api_version": "0.16.7",
        "langgraph_plan": "enterprise",
        "langgraph_host": "self-hosted",
    }
    assert started.items() <= done.items() and done["langgraph_api_url"].startswith("http")
    checkpoint = (await client.threads.get_state(tid))["metadata"]
    assert {**started, "created_by": "system", "user": "u1", "user_id": ""}.items() <= (
        checkpoint.items()
    )
    assert checkpoint["thread_id"] == tid and checkpoint["run_id"] == run["run_id"]
    assert checkpoint["langgraph_request_id"] == config["configurable"]["langgraph_request_id"]


async def test_a_stateless_runs_metadata_names_no_thread_graph(client: Any) -> None:
    run = await client.runs.create(None, "echo", input=HI, metadata={"n": 2})
    assert run["metadata"] == {"created_by": "system", "assistant_id": run["assistant_id"], "n": 2}
    batch = await client.runs.create_batch(
        [{"assistant_id": "echo", "input": HI}, {"assistant_id": "echo", "input": HI}]
    )
    ids = {r["kwargs"]["config"]["configurable"]["langgraph_request_id"] for r in batch}
    assert len(ids) == 1  # one request
