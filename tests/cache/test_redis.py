"""RedisCache on the Redis server at 127.0.0.1:6379: hits, expiry, clearing, the async API,
an unreachable server, LangGraph's entry layout, and the missing package."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from langgraph.cache.redis import RedisCache as LgRedisCache
from redis.backoff import NoBackoff
from redis.retry import Retry

from rewind.cache.redis import RedisCache
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer
from tests.runtime.test_node_cache import graph_counting


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, its keys deleted after it."""
    chosen = f"rewind-test:{uuid.uuid4().hex}:"
    yield chosen
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{chosen}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_hit_skips_the_node_across_caches_on_one_server(prefix: str, redis_url: str) -> None:
    runs: list[int] = []
    first = graph_counting(runs, RedisCache(redis.Redis.from_url(redis_url), prefix=prefix))
    assert first.invoke({"x": 3}) == {"x": 3, "result": 3}
    # another client, same server
    second = graph_counting(runs, RedisCache(redis_url, prefix=prefix))
    assert list(second.stream({"x": 3}, stream_mode="updates")) == [
        {"expensive": {"result": 6}, "__metadata__": {"cached": True}},
        {"cheap": {"result": 3}, "__metadata__": {"cached": True}},
    ]
    assert runs == [3]
    second.clear_cache(["expensive"])
    second.invoke({"x": 3})
    assert runs == [3, 3]


def test_entries_expire_with_redis_ttl(prefix: str, redis_url: str) -> None:
    runs: list[int] = []
    graph = graph_counting(runs, RedisCache(redis_url, prefix=prefix), ttl=1)
    graph.invoke({"x": 1})
    keys = list(redis.Redis.from_url(redis_url).scan_iter(match=f"{prefix}*"))
    ttls = sorted(redis.Redis.from_url(redis_url).ttl(k) for k in keys)
    assert ttls[0] == -1 and 0 < ttls[-1] <= 1  # cheap: no ttl; expensive: one second
    graph.invoke({"x": 1})
    assert runs == [1]
    time.sleep(1.2)
    graph.invoke({"x": 1})
    assert runs == [1, 1]


def test_the_async_api_with_an_async_client(prefix: str, redis_url: str) -> None:
    async def main() -> list[int]:
        runs: list[int] = []
        client = redis.asyncio.Redis.from_url(redis_url)
        graph = graph_counting(runs, RedisCache(client, prefix=prefix))
        await graph.ainvoke({"x": 2})
        await graph.ainvoke({"x": 2})
        await graph.aclear_cache()
        await graph.ainvoke({"x": 2})
        await client.aclose()
        return runs

    assert asyncio.run(main()) == [2, 2]
    with pytest.raises(TypeError, match="async Redis client: use the async API"):
        RedisCache(redis.asyncio.Redis.from_url(redis_url), prefix=prefix).get([(("n",), "k")])


def test_entries_are_langgraphs_with_its_serializer(prefix: str, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    ours = RedisCache(client, serde=JsonPlusSerializer(), prefix=prefix)
    theirs = LgRedisCache(client, prefix=prefix)
    ours.set({(("node", "a"), "k1"): ({"v": [1, 2]}, None)})
    assert theirs.get([(("node", "a"), "k1")]) == {(("node", "a"), "k1"): {"v": [1, 2]}}
    theirs.set({(("node",), "k2"): ("text", 60)})
    assert ours.get([(("node",), "k2"), (("node",), "missing")]) == {(("node",), "k2"): "text"}
    ours.clear([("node", "a")])
    assert ours.get([(("node", "a"), "k1")]) == {}
    assert ours.get([(("node",), "k2")]) != {}


def test_an_unreachable_server_is_a_miss_not_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    no_retry = Retry(NoBackoff(), 0)
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=no_retry)
    graph = graph_counting(runs, RedisCache(dead))
    assert graph.invoke({"x": 4}) == {"x": 4, "result": 4}
    graph.invoke({"x": 4})
    assert runs == [4, 4]
    assert "node cache on Redis unreachable" in caplog.text


def test_a_missing_redis_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"pip install 'rewind\[redis\]'"):
        RedisCache(redis_url)
