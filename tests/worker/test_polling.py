"""The idle poller's wait ends early when woken, and never outlives a cancel (a worker stopping)."""

from __future__ import annotations

import asyncio

import pytest

from durable_azure.worker.polling import BackoffPoller


async def test_a_wake_ends_the_idle_wait_at_once() -> None:
    poller = BackoffPoller(minimum=30, maximum=30)
    waiting = asyncio.create_task(poller.wait_after_empty_poll())
    await asyncio.sleep(0)
    poller.wake()
    await asyncio.wait_for(waiting, timeout=5)  # not the 30 s backoff
    assert poller.interval == 0


async def test_a_stop_that_lands_with_a_wake_still_stops_the_listener() -> None:
    # On Python 3.11 asyncio.wait_for swallowed a cancel() issued in the same loop iteration as the wake,
    # so a worker stopping just as work was enqueued kept a listener polling forever.
    poller = BackoffPoller(minimum=30, maximum=30)
    waiting = asyncio.create_task(poller.wait_after_empty_poll())
    await asyncio.sleep(0)
    poller.wake()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
