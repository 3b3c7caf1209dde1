"""Queue behaviour the dispatchers rely on: visibility, delete, abandon, renew, poison, send listeners."""

from __future__ import annotations

import json

import pytest

from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.errors import ConfigurationError, MessageGoneError
from durable_azure.history import EventRaised, OrchestrationInstance

INSTANCE = OrchestrationInstance(instance_id="q1", execution_id="e1")


def _message(text: str = "1") -> MessageData:
    return MessageData(event=EventRaised(name="go", input=text), instance=INSTANCE)


async def test_send_receive_delete(task_hub: TaskHub) -> None:
    queue = task_hub.control_queue_for("q1")
    await queue.send(_message())
    [received] = await queue.receive(32, 30)
    assert received.data is not None and received.data.event == _message().event
    assert received.dequeue_count == 1 and received.queue_name == queue.name
    assert received.data.sequence_number > 0  # stamped by send
    await queue.delete(received)
    await queue.delete(received)  # already gone: logged, not raised
    assert await queue.receive(32, 1) == []


async def test_received_message_stays_invisible_until_abandoned(task_hub: TaskHub) -> None:
    queue = task_hub.work_item_queue
    await queue.send(_message())
    [received] = await queue.receive(1, 60)
    assert await queue.receive(32, 60) == []
    await queue.abandon(received, 0)
    [again] = await queue.receive(1, 60)
    assert again.message_id == received.message_id and again.dequeue_count == 2


async def test_delayed_send_is_invisible_and_delay_is_clamped(task_hub: TaskHub) -> None:
    queue = task_hub.work_item_queue
    queue.max_visibility_delay_seconds = 120
    await queue.send(_message(), visibility_delay=10**9)  # would be rejected by the service unclamped
    assert await queue.receive(32, 1) == []


async def test_renew_refreshes_pop_receipt_and_stale_receipts_are_gone(task_hub: TaskHub) -> None:
    queue = task_hub.work_item_queue
    await queue.send(_message())
    [received] = await queue.receive(1, 30)
    stale_receipt = received.pop_receipt
    await queue.renew(received, 60)
    assert received.pop_receipt != stale_receipt
    stale = type(received)(
        **{**{slot: getattr(received, slot) for slot in received.__slots__}, "pop_receipt": stale_receipt}
    )
    with pytest.raises(MessageGoneError):
        await queue.renew(stale, 60)
    await queue.delete(received)
    with pytest.raises(MessageGoneError):
        await queue.renew(received, 60)


async def test_move_to_poison_keeps_the_body_and_reason(task_hub: TaskHub) -> None:
    queue = task_hub.control_queues[1]
    await queue.send(_message("poisoned"))
    [received] = await queue.receive(1, 30)
    await queue.move_to_poison(received, "failed 10 times")
    assert await queue.receive(32, 1) == []
    [poisoned] = await task_hub.poison_queue.receive(1, 30)
    wrapper = json.loads(poisoned.raw_body)
    assert wrapper["Reason"] == "failed 10 times"
    assert wrapper["Body"] == received.raw_body
    assert wrapper["SourceQueue"] == queue.name


async def test_send_listeners_are_told_when_each_message_becomes_visible(task_hub: TaskHub) -> None:
    delays: list[float] = []
    queue = task_hub.control_queues[0]
    queue.add_send_listener(delays.append)
    await queue.send(_message())
    await queue.send(_message(), visibility_delay=2.2)
    assert delays == [0, 3]  # rounded up: a timer must never fire early


async def test_receive_rejects_more_than_32(task_hub: TaskHub) -> None:
    with pytest.raises(ConfigurationError):
        await task_hub.work_item_queue.receive(33, 30)
