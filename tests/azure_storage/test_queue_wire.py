"""The lean queue path (queue_wire.py) against Azurite, which checks every Shared Key signature."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import MessageGoneError, StorageError


async def test_send_receive_update_and_delete_round_trip_text_exactly(
    task_hub: TaskHub, storage_account: StorageAccount
) -> None:
    wire = storage_account.queue_wire
    assert wire is not None  # an account key is there, so the lean path is used
    queue = task_hub.work_item_queue.name
    text = '{"a": "<tag> & \\"quotes\\" é"}'
    await wire.send(queue, text, visibility_timeout=0)
    [message] = await wire.receive(queue, 32, visibility_timeout=30)
    assert message.text == text and message.dequeue_count == 1
    new_receipt = await wire.update_visibility(queue, message.message_id, message.pop_receipt, 0)
    with pytest.raises(MessageGoneError):  # the old pop receipt is stale now
        await wire.delete(queue, message.message_id, message.pop_receipt)
    [again] = await wire.receive(queue, 32, visibility_timeout=30)
    assert again.text == text and again.dequeue_count == 2
    await wire.delete(queue, again.message_id, again.pop_receipt)
    assert await wire.receive(queue, 32, visibility_timeout=30) == []
    assert new_receipt != message.pop_receipt


async def test_each_call_is_one_counted_request(task_hub: TaskHub, storage_account: StorageAccount) -> None:
    wire = storage_account.queue_wire
    queue = task_hub.work_item_queue.name
    before = storage_account.counter.snapshot()
    for number in range(3):
        await wire.send(queue, str(number), visibility_timeout=0)
    messages = await wire.receive(queue, 32, visibility_timeout=30)
    for message in messages:
        await wire.delete(queue, message.message_id, message.pop_receipt)
    after = storage_account.counter.snapshot()
    assert {kind: after[kind] - before[kind] for kind in ("queue.send", "queue.receive", "queue.delete")} == {
        "queue.send": 3,
        "queue.receive": 1,
        "queue.delete": 3,
    }


async def test_a_missing_queue_is_a_storage_error_naming_the_operation(storage_account: StorageAccount) -> None:
    with pytest.raises(StorageError, match=r"send message failed .*HTTP 404.*QueueNotFound"):
        await storage_account.queue_wire.send("no-such-queue", "x", visibility_timeout=0)
