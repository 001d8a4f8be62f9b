"""The store's write turn: one transaction at a time, group commits before other writes."""

from __future__ import annotations

import asyncio

import pytest

from rewind.log.turn import WriteTurn


async def test_waiting_group_commits_go_before_waiting_writes() -> None:
    turn = WriteTurn()
    order: list[str] = []

    async def write(name: str) -> None:
        async with turn:
            order.append(name)
            await asyncio.sleep(0)

    async def commit(name: str) -> None:
        async with turn.first():
            order.append(name)
            await asyncio.sleep(0)

    async with turn:  # a write in progress; others queue behind it
        tasks = [asyncio.create_task(write("w1")), asyncio.create_task(write("w2"))]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(commit("c1")))
        await asyncio.sleep(0)
        assert turn.locked() and order == []
    await asyncio.gather(*tasks)
    assert order == ["c1", "w1", "w2"]  # the commit first, the writes in their order
    assert not turn.locked()


async def test_a_waiter_cancelled_as_it_is_handed_the_turn_passes_it_on() -> None:
    turn = WriteTurn()
    got: list[str] = []

    async def write(name: str) -> None:
        async with turn:
            got.append(name)

    await turn.__aenter__()
    first = asyncio.create_task(write("cancelled"))
    second = asyncio.create_task(write("next"))
    await asyncio.sleep(0)
    await turn.__aexit__()  # hands the turn to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert got == ["next"] and not turn.locked()


async def test_other_writes_are_not_starved_by_a_stream_of_group_commits() -> None:
    turn = WriteTurn()
    order: list[str] = []

    async def take(name: str, first: bool) -> None:
        async with turn.first() if first else turn:
            order.append(name)
            await asyncio.sleep(0)

    async with turn:
        tasks = [asyncio.create_task(take("w1", False)), asyncio.create_task(take("w2", False))]
        tasks += [asyncio.create_task(take(f"c{i}", True)) for i in range(1, 4)]
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    # A group commit goes before the writes waiting, then one of them, and so on.
    assert order == ["c1", "w1", "c2", "w2", "c3"]
