"""Supervision: a task that dies or returns while the service runs is a failure; cancelled ones at stop are not."""

import asyncio

import pytest

from runtime.supervise import Supervisor, TaskFailed


async def test_a_dying_task_ends_the_wait_and_is_reported():
    sup = Supervisor("test service")

    async def dies():
        await asyncio.sleep(0.01)
        raise RuntimeError("boom")

    sup.spawn(asyncio.sleep(60), "sleeper")
    sup.spawn(dies(), "dier")
    await asyncio.wait_for(sup.wait(asyncio.Event()), 5)
    assert not sup.healthy and "dier" in sup.failure and "RuntimeError: boom" in sup.failure
    await sup.cancel_all()
    with pytest.raises(TaskFailed):
        sup.raise_if_failed()


async def test_a_loop_that_returns_is_a_failure_too():
    sup = Supervisor("test service")

    async def returns():
        return None

    sup.spawn(returns(), "quitter")
    await asyncio.wait_for(sup.wait(asyncio.Event()), 5)
    assert "ended on its own" in sup.failure


async def test_stop_and_cancellation_are_not_failures():
    sup = Supervisor("test service")
    stop = asyncio.Event()
    sup.spawn(asyncio.sleep(60), "sleeper")
    stop.set()
    await asyncio.wait_for(sup.wait(stop), 5)
    await sup.cancel_all()
    assert sup.healthy
    sup.raise_if_failed()
