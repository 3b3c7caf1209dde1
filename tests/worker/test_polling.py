"""Listening to a queue: the idle wait ends early when woken, and a stopping worker hides no message."""

from __future__ import annotations

import asyncio

import pytest

from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.history import OrchestrationInstance, TaskScheduled
from durable_azure.worker.polling import BackoffPoller, receive_or_hand_back


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


async def test_a_listener_stopped_mid_receive_leaves_the_messages_visible(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = task_hub.work_item_queue
    instance = OrchestrationInstance(instance_id="hand-back", execution_id="e1")
    await queue.send(MessageData(event=TaskScheduled(event_id=0, name="say_hello", input='"x"'), instance=instance))
    real_receive = queue.receive
    dequeued = asyncio.Event()

    async def slow_receive(max_messages: int, visibility_timeout: float):
        messages = await real_receive(max_messages, visibility_timeout)  # the service hides them now
        dequeued.set()
        await asyncio.sleep(0.5)  # the stop lands while the answer is still on its way to the listener
        return messages

    monkeypatch.setattr(queue, "receive", slow_receive)
    listening = asyncio.create_task(receive_or_hand_back(queue, 32, visibility_timeout=300))
    await dequeued.wait()
    listening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listening
    # handed back at once, not after the 300 s visibility timeout
    [message] = await real_receive(32, 30)
    assert message.data is not None and message.data.event.name == "say_hello"
    assert message.dequeue_count == 2
