"""v3 run streams side by side: the same programs streamed on LangGraph and on rewind, each
projection read as a user reads it, sync and async; what each engine gave must be the same."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from tests.stream_v3.side_by_side import assert_same, raised, run_async

pytestmark = pytest.mark.filterwarnings("ignore::langchain_core._api.LangChainBetaWarning")


def _events(run: Any) -> list[Any]:
    return [_event(e) for e in run]


def _event(e: Any) -> dict[str, Any]:
    params = e["params"]
    out = {"seq": e.get("seq"), "method": e["method"], "namespace": params["namespace"]}
    out["data"] = params["data"]
    if "interrupts" in params:
        out["interrupts"] = params["interrupts"]
    return out


def _stream(m: ModuleType, program: str, **kwargs: Any) -> Any:
    graph = getattr(m, f"build_{program}")()
    return graph.stream_events(m.INPUTS[program], version="v3", **kwargs)


async def _astream(m: ModuleType, program: str, **kwargs: Any) -> Any:
    graph = getattr(m, f"build_{program}")()
    return await graph.astream_events(m.INPUTS[program], version="v3", **kwargs)


@pytest.mark.parametrize("program", ["plain", "chat", "nested", "agent", "failing", "unstreamed"])
def test_raw_protocol_events(program: str) -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, program)
        seen: list[Any] = []

        def read() -> None:
            for e in run:
                seen.append(_event(e))

        return {"events": seen, "end": raised(read)}

    assert_same(reader)


@pytest.mark.parametrize("program", ["plain", "chat", "nested", "agent", "failing"])
def test_raw_protocol_events_async(program: str) -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, program)
            seen: list[Any] = []
            try:
                async for e in run:
                    seen.append(_event(e))
            except Exception as e:
                return {"events": seen, "end": raised(lambda: _reraise(e))}
            return {"events": seen}

        return run_async(read)

    assert_same(reader)


def _reraise(e: BaseException) -> None:
    raise e


@pytest.mark.parametrize("program", ["plain", "chat", "nested", "inner"])
def test_values_and_output(program: str) -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, program)
        values = list(run.values)
        return {
            "values": values,
            "output": run.output,
            "interrupted": run.interrupted,
            "interrupts": run.interrupts,
        }

    assert_same(reader)


def test_values_and_output_async() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, "nested")
            values = [v async for v in run.values]
            return {"values": values, "output": await run.output()}

        return run_async(read)

    assert_same(reader)


def _chat_stream(s: Any) -> dict[str, Any]:
    return {
        "class": type(s).__name__,
        "node": s.node,
        "namespace": s.namespace,
        "message_id": s.message_id,
        "text": list(s.text),
        "tool_calls": s.tool_calls.get() if hasattr(s.tool_calls, "get") else None,
        "output": s.output,
    }


async def _achat_stream(s: Any) -> dict[str, Any]:
    return {
        "class": type(s).__name__,
        "node": s.node,
        "message_id": s.message_id,
        "text": [t async for t in s.text],
        "output": await s.output,
    }


@pytest.mark.parametrize("program", ["chat", "nested", "agent", "unstreamed"])
def test_messages(program: str) -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, program)
        return {"streams": [_chat_stream(s) for s in run.messages], "output": run.output}

    assert_same(reader)


@pytest.mark.parametrize("program", ["chat", "agent", "async_chat", "react"])
def test_messages_async(program: str) -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, program)
            streams = [await _achat_stream(s) async for s in run.messages]
            return {"streams": streams, "output": await run.output()}

        return run_async(read)

    assert_same(reader)


def test_concurrent_readers_share_the_pump() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, "nested")

            async def values() -> list[Any]:
                return [v async for v in run.values]

            async def lifecycle() -> list[Any]:
                return [p async for p in run.lifecycle]

            both = await asyncio.gather(values(), lifecycle())
            return {"values": both[0], "lifecycle": both[1]}

        return run_async(read)

    assert_same(reader)


def test_lifecycle() -> None:
    def reader(m: ModuleType) -> Any:
        return list(_stream(m, "nested").lifecycle)

    found = assert_same(reader)
    assert [p["event"] for p in found] == ["started", "started", "completed", "completed"]


def _handle(h: Any) -> dict[str, Any]:
    """A subgraph's handle, read whole: its values and (recursively) its own subgraphs, both
    subscribed before the run moves on (items come only to a channel that is read)."""
    described = {"path": h.path, "graph_name": h.graph_name, "trigger": h.trigger_call_id}
    values: list[Any] = []
    grandchildren: list[Any] = []
    status_at_start = h.status
    for name, item in h.interleave("values", "subgraphs"):
        if name == "values":
            values.append(item)
        else:
            grandchildren.append(_handle(item))
    return {
        **described,
        "status_at_start": status_at_start,
        "values": values,
        "grandchildren": grandchildren,
        "status": h.status,
        "error": h.error,
        "output": h.output,
    }


def test_subgraph_handles() -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, "nested")
        return {"handles": [_handle(h) for h in run.subgraphs], "output": run.output}

    found = assert_same(reader)
    assert found["handles"][0]["grandchildren"], "the grandchild was found on the child"


def test_subgraph_handles_async() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, "nested")
            out = []
            async for h in run.subgraphs:
                messages = h.messages
                values = [v async for v in h.values]
                streams = [await _achat_stream(s) async for s in messages]
                out.append({"path": h.path, "values": values, "streams": streams})
            return {"handles": out, "output": await run.output()}

        return run_async(read)

    assert_same(reader)


def test_interrupt_and_resume() -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_interrupting(m.InMemorySaver())
        config = {"configurable": {"thread_id": "t1"}}
        first = graph.stream_events(m.INPUTS["interrupting"], config, version="v3")
        values = list(first.values)
        seen = {
            "values": values,
            "interrupted": first.interrupted,
            "interrupts": first.interrupts,
            "output": first.output,
        }
        from langgraph.types import Command

        second = graph.stream_events(Command(resume="yes"), config, version="v3")
        return {
            "first": seen,
            "second": _events(second),
            "output": second.output,
            "interrupted": second.interrupted,
        }

    found = assert_same(reader)
    assert found["first"]["interrupted"] is True


def test_interrupt_async() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            graph = m.build_interrupting(m.InMemorySaver())
            config = {"configurable": {"thread_id": "t1"}}
            run = await graph.astream_events(m.INPUTS["interrupting"], config, version="v3")
            return {
                "events": [_event(e) async for e in run],
                "interrupted": await run.interrupted(),
                "interrupts": await run.interrupts(),
            }

        return run_async(read)

    assert_same(reader)


def test_errors_propagate() -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, "failing")
        values: list[Any] = []

        def read() -> None:
            for v in run.values:
                values.append(v)

        end = raised(read)
        return {"values": values, "end": end, "output": raised(lambda: run.output)}

    found = assert_same(reader)
    assert found["end"]["raised"]["type"] == "ValueError"


@pytest.mark.parametrize("name", ["Updates", "Custom", "Checkpoints", "Debug", "Tasks"])
def test_optional_transformers(name: str) -> None:
    def reader(m: ModuleType) -> Any:
        import langgraph.stream as stream_module

        transformer = getattr(stream_module, f"{name}Transformer")
        graph = m.build_plain(m.InMemorySaver())
        config = {"configurable": {"thread_id": "t1"}}
        run = graph.stream_events(
            m.INPUTS["plain"], config, version="v3", transformers=[transformer]
        )
        projection = getattr(run, name.lower())
        return {"items": list(projection), "events": [e["method"] for e in run]}

    assert_same(reader)


def test_user_transformer_at_compile_and_call() -> None:
    def reader(m: ModuleType) -> Any:
        compiled = m.build_plain(transformers=[m.StepCounter])
        run = compiled.stream_events(m.INPUTS["plain"], version="v3")
        steps = run.extensions["steps"]
        nodes = run.extensions["nodes"]
        seen = {"steps": list(steps), "nodes": list(nodes)}
        again = m.build_plain().stream_events(
            m.INPUTS["plain"], version="v3", transformers=[lambda scope: m.StepCounter(scope)]
        )
        return {"compiled": seen, "events": _events(again), "native": hasattr(again, "steps")}

    assert_same(reader)


def test_tool_call_transformer() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.prebuilt import ToolCallTransformer

        run = m.build_agent(transformers=[ToolCallTransformer]).stream_events(
            m.INPUTS["agent"], version="v3"
        )
        calls = []
        for call in run.tool_calls:
            deltas = list(call)
            calls.append(
                {
                    "repr": repr(call),
                    "id": call.tool_call_id,
                    "name": call.tool_name,
                    "input": call.input,
                    "deltas": deltas,
                    "output": call.output,
                    "error": call.error,
                    "completed": call.completed,
                }
            )
        return {"calls": calls, "output": run.output}

    found = assert_same(reader)
    assert found["calls"][0]["output"] == "Sunny in Paris"


def test_tool_call_transformer_async() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.prebuilt import ToolCallTransformer

        async def read() -> Any:
            graph = m.build_agent()
            run = await graph.astream_events(
                m.INPUTS["agent"], version="v3", transformers=[ToolCallTransformer]
            )
            calls = []
            async for call in run.tool_calls:
                deltas = [d async for d in call]
                calls.append([call.tool_call_id, call.input, deltas, call.output])
            return {"calls": calls, "events": [e["method"] async for e in run]}

        return run_async(read)

    assert_same(reader)


def test_tee_and_interleave() -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, "plain")
        a, b = run.values.tee(2)
        first = [next(a)]
        both = {"b": list(b), "a": first + list(a)}
        chat = _stream(m, "chat")
        order = [(name, sig(item)) for name, item in chat.interleave("values", "messages")]
        return {"tee": both, "interleave": order}

    assert_same(reader)


def sig(item: Any) -> Any:
    return type(item).__name__ if not isinstance(item, dict) else item


@pytest.mark.parametrize(
    "kwargs",
    [{"stream_mode": "values"}, {"subgraphs": True}, {"stream_mode": "values", "subgraphs": 1}],
)
def test_v3_refuses_what_it_owns(kwargs: dict[str, Any]) -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_plain()
        return raised(lambda: graph.stream_events(m.INPUTS["plain"], version="v3", **kwargs))

    found = assert_same(reader)
    assert found["raised"]["type"] == "TypeError"


def test_v3_refuses_a_transformer_instance() -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_plain()
        instance = m.StepCounter(())
        return [
            raised(
                lambda t=t: graph.stream_events(m.INPUTS["plain"], version="v3", transformers=[t])
            )
            for t in (instance, 42)
        ]

    found = assert_same(reader)
    assert all(f["raised"]["type"] == "TypeError" for f in found)


def test_async_only_transformer_refused_on_the_sync_lane() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.stream import StreamTransformer

        class Slow(StreamTransformer):
            def init(self) -> dict[str, Any]:
                return {}

            async def aprocess(self, event: Any) -> bool:
                return True

        graph = m.build_plain()
        return raised(
            lambda: graph.stream_events(m.INPUTS["plain"], version="v3", transformers=[Slow])
        )

    assert_same(reader)


def test_an_unregistered_projection_says_what_is_registered() -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, "plain")
        return [raised(lambda: run.updates), raised(lambda: run.no_such_thing)]

    assert_same(reader)


def test_run_options_are_passed_on_to_the_stream() -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_plain(m.InMemorySaver())
        config = {"configurable": {"thread_id": "t1"}}
        run = graph.stream_events(
            m.INPUTS["plain"],
            config,
            version="v3",
            interrupt_before=["second"],
            durability="exit",
        )
        seen = {"events": _events(run), "interrupted": run.interrupted, "output": run.output}
        state = graph.get_state(config)
        return {**seen, "next": state.next, "values": state.values}

    assert_same(reader)


def test_a_transformer_before_the_builtins_changes_what_they_see() -> None:
    def reader(m: ModuleType) -> Any:
        run = _stream(m, "chat", transformers=[m.Shouting])
        return [list(s.text) for s in run.messages]

    found = assert_same(reader)
    assert found[0][0] == "HELLO"


def test_scheduled_work_of_an_async_transformer() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            run = await _astream(m, "plain", transformers=[m.Sizes])
            sizes = run.extensions["sizes"]
            return {"sizes": [s async for s in sizes], "output": await run.output()}

        sync = raised(lambda: _stream(m, "plain", transformers=[m.Sizes]))
        return {"async": run_async(read), "sync": sync}

    assert_same(reader)


@pytest.mark.parametrize("aio", [False, True])
def test_tool_output_deltas(aio: bool) -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.prebuilt import ToolCallTransformer

        if not aio:
            run = _stream(m, "reporting", transformers=[ToolCallTransformer])
            return [[c.tool_call_id, c.input, list(c), c.output] for c in run.tool_calls]

        async def read() -> Any:
            run = await _astream(m, "reporting", transformers=[ToolCallTransformer])
            return [
                [c.tool_call_id, c.input, [d async for d in c], c.output]
                async for c in run.tool_calls
            ]

        return run_async(read)

    found = assert_same(reader)
    assert len(found[0][2]) == 2, "both parts streamed"


def test_tools_stream_mode_with_deltas() -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_reporting()
        return list(graph.stream(m.INPUTS["reporting"], stream_mode="tools"))

    assert_same(reader)


def test_tool_output_deltas_are_no_langchain_events() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            graph = m.build_reporting()
            return [
                (e["event"], e["name"]) async for e in graph.astream_events(m.INPUTS["reporting"])
            ]

        return run_async(read)

    assert_same(reader)


@pytest.mark.parametrize("fail", [False, True])
def test_a_subgraph_that_fails_or_is_interrupted(fail: bool) -> None:
    def reader(m: ModuleType) -> Any:
        graph = m.build_nested_trouble(m.InMemorySaver(), fail=fail)
        config = {"configurable": {"thread_id": "t1"}}
        run = graph.stream_events({"n": 0, "log": []}, config, version="v3")
        lifecycle = iter(run.lifecycle)  # subscribed now: its items are kept as they come
        handles = []

        def read() -> None:
            for h in run.subgraphs:
                handles.append(h)
                raised(lambda h=h: list(h.values))

        end = raised(read)
        return {
            "end": end,
            "lifecycle": raised(lambda: list(lifecycle)),
            "handles": [[h.path, h.status, h.error] for h in handles],
            "output": raised(lambda: run.output),
            "interrupts": raised(lambda: run.interrupts),
        }

    assert_same(reader)


def test_a_subgraph_that_fails_async() -> None:
    def reader(m: ModuleType) -> Any:
        async def read() -> Any:
            graph = m.build_nested_trouble(fail=True)
            run = await graph.astream_events({"n": 0, "log": []}, version="v3")
            seen = []
            try:
                async for h in run.subgraphs:
                    seen.append([h.path, [v async for v in h.values]])
            except Exception as e:
                seen.append(["raised", type(e).__name__, str(e)])
            lifecycle = []
            try:
                async for payload in run.lifecycle:
                    lifecycle.append(payload)
            except Exception as e:
                lifecycle.append(["raised", type(e).__name__, str(e)])
            return {"seen": seen, "lifecycle": lifecycle}

        return run_async(read)

    assert_same(reader)


def test_tool_call_transformer_on_the_prebuilt_agent() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.prebuilt import ToolCallTransformer

        run = _stream(m, "react", transformers=[ToolCallTransformer])
        calls = [[c.tool_call_id, c.tool_name, c.input, c.output] for c in run.tool_calls]
        return {"calls": calls, "output": run.output}

    assert_same(reader)
