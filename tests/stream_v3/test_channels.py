"""Stream channels and the mux on their own (no graph), side by side with LangGraph's: what a
reader may do with a channel, and how transformers' projections are checked and wired."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.stream_v3.side_by_side import assert_same, raised, run_async

pytestmark = pytest.mark.filterwarnings("ignore::langchain_core._api.LangChainBetaWarning")


def test_a_channel_has_one_reader_on_its_own_lane() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.stream import StreamChannel

        unbound: StreamChannel[int] = StreamChannel()
        sync: StreamChannel[int] = StreamChannel("named")
        sync._bind(is_async=False)
        first = iter(sync)
        sync.push(1)
        sync.push(2)
        sync.close()
        asynchronous: StreamChannel[int] = StreamChannel()
        asynchronous._bind(is_async=True)
        return {
            "unbound": raised(lambda: iter(unbound)),
            "second reader": raised(lambda: iter(sync)),
            "items": list(first),
            "push after close": raised(lambda: sync.push(3)),
            "sync on async": raised(lambda: iter(asynchronous)),
            "async on sync": raised(lambda: aiter(sync)),
            "bad maxlen": raised(lambda: StreamChannel(maxlen=0)),
            "bad tee": raised(lambda: asynchronous.atee(0)),
            "bound twice": raised(lambda: sync._bind(is_async=False)),
        }

    assert_same(reader)


def test_tee_and_atee_give_every_reader_every_item() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.stream import StreamChannel

        sync: StreamChannel[int] = StreamChannel()
        sync._bind(is_async=False)
        a, b = sync.tee(2)
        for i in range(3):
            sync.push(i)
        sync.close()
        tee = [next(a), list(b), list(a)]

        async def atee() -> Any:
            channel: StreamChannel[int] = StreamChannel()
            channel._bind(is_async=True)
            x, y = channel.atee(2)
            for i in range(3):
                channel.push(i)
            channel.fail(ValueError("gone"))
            out = []
            for branch in (x, y):
                try:
                    out.append([i async for i in branch])
                except ValueError as e:
                    out.append(str(e))
            return out

        return {"tee": tee, "atee": run_async(atee)}

    assert_same(reader)


def test_the_mux_checks_and_wires_projections() -> None:
    def reader(m: ModuleType) -> Any:
        from langgraph.stream import StreamChannel, StreamTransformer
        from langgraph.stream._mux import StreamMux

        class Named(StreamTransformer):
            def init(self) -> dict[str, Any]:
                self.out: StreamChannel[str] = StreamChannel("said")
                return {"said": self.out}

            def process(self, event: Any) -> bool:
                self.out.push(event["method"])
                return event["method"] != "hidden"

        class Clash(StreamTransformer):
            def init(self) -> dict[str, Any]:
                return {"said": 1}

        class NotADict(StreamTransformer):
            def init(self) -> Any:
                return [1]

        class Lazy(StreamTransformer):
            def init(self) -> dict[str, Any]:
                return {}

        mux = StreamMux(factories=[Named])
        log = iter(mux._events)
        for method in ("values", "hidden", "custom"):
            mux.push({"type": "event", "method": method, "params": {"namespace": [], "data": 1}})
        mux.close()
        events = [(e.get("seq"), e["method"], e["params"]["data"]) for e in log]
        return {
            "events": events,
            "clash": raised(lambda: StreamMux(factories=[Named, Clash])),
            "not a dict": raised(lambda: StreamMux(factories=[NotADict])),
            "no process": raised(
                lambda: StreamMux(factories=[Lazy]).push(
                    {"type": "event", "method": "x", "params": {"namespace": [], "data": 0}}
                )
            ),
            "no child": raised(lambda: StreamMux([Named(())])._make_child(("x",))),
        }

    assert_same(reader)
