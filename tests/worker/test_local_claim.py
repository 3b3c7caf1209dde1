"""Local claim: a worker that sends an activity request while it has a free slot runs it without receiving it.

Claims happen in episodes that have no control message to anchor their
activities (test_anchors.py covers those): here, episodes triggered by an
external event. The claimed work item is stored invisible, as a receive would
leave it, so it stays the recovery path: if the worker dies it reappears after
its visibility timeout and runs elsewhere. Work items for which no slot is
free are sent visible, for any worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from durable_azure.azure_storage import (
    MessageData,
    ReceivedMessage,
    StorageAccount,
    TaskHub,
    TaskHubQueue,
    TransportChoice,
)
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import ExecutionStarted, OrchestrationInstance, TaskScheduled
from durable_azure.worker import Registry, Worker
from tests.worker import apps
from tests.worker.conftest import TEST_SETTINGS
from tests.worker.gating import (
    WAIT_SECONDS,
    gated_pair,
    hello_after_event,
    is_empty,
    record_work_item_receives,
    wait_until,
)

INSTANCE = OrchestrationInstance(instance_id="claim-1", execution_id="e1")


async def test_a_sequence_runs_its_activities_without_receiving_them(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(task_hub, monkeypatch)
    base = apps.registry()
    registry = Registry(
        orchestrators={**base.orchestrators, "hello_after_event": hello_after_event}, activities=base.activities
    )
    counter = task_hub.account.counter
    async with Worker(task_hub, registry, TEST_SETTINGS), DurableOrchestrationClient(task_hub) as client:
        before = counter.snapshot()
        instance_id = await client.start_new("hello_after_event")
        await client.raise_event(instance_id, "Go", None)
        status = await client.wait_for_completion(instance_id, timeout=30)
        assert status.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert received == []  # every work item was claimed by the worker that sent it
        # the start, the event and three claimed work items
        assert counter.snapshot()["queue.send"] - before["queue.send"] == 5
        # each claimed work item was deleted with the pop receipt its send returned: none is left behind
        await wait_until(lambda: is_empty(task_hub.work_item_queue, task_hub))


async def test_a_claimed_work_item_comes_back_when_its_worker_dies(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(task_hub, monkeypatch)
    settings = dataclasses.replace(TEST_SETTINGS, work_item_queue_visibility_timeout=timedelta(seconds=2))
    async with gated_pair(task_hub, settings) as (gate, first, second):
        async with DurableOrchestrationClient(task_hub) as client:
            instance_id = await client.start_new("gated_after_event")
            await client.raise_event(instance_id, "Go", None)
            await wait_until(lambda: gate.runs.get("first") == 1)
            assert received == []  # the first worker claimed it
            # let its episode commit and delete the start message, so only the work item is left in flight
            await wait_until(lambda: is_empty(task_hub.control_queue_for(instance_id), task_hub))
            # It dies mid-activity: the running activity is cancelled, its work item neither finished nor handed back.
            await first.stop(timeout=0.1)
            await second.start()
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output == "second"
        assert received == [1]  # it reappeared after its visibility timeout, received here for the first time


@contextlib.asynccontextmanager
async def _work_item_queue(
    hub: TaskHub, connection_string: str, transport: TransportChoice
) -> AsyncIterator[TaskHubQueue]:
    """The hub's work-item queue through an account on the given transport."""
    async with StorageAccount.from_connection_string(connection_string, transport=transport) as account:
        yield TaskHub(account, hub.hub_name, partition_count=hub.partition_count).work_item_queue


@pytest.mark.parametrize("transport", [TransportChoice.LEAN, TransportChoice.SDK])
async def test_a_claimed_send_is_invisible_and_deletable_with_its_pop_receipt(
    task_hub: TaskHub, connection_string: str, transport: TransportChoice
) -> None:
    async with _work_item_queue(task_hub, connection_string, transport) as queue:
        await _claim_receive_renew_delete(queue, task_hub)


async def _claim_receive_renew_delete(queue: TaskHubQueue, task_hub: TaskHub) -> None:
    data = MessageData(event=TaskScheduled(event_id=1, name="small", input='"x"'), instance=INSTANCE)
    claimed = await queue.send_claimed(data, visibility_timeout=60)
    assert claimed.data is not None and claimed.data.event == data.event
    assert claimed.data.sequence_number > 0 and claimed.dequeue_count == 0
    assert await queue.receive(32, 60) == []  # nobody else can take it
    await queue.renew(claimed, 60)
    await queue.delete(claimed)
    assert await is_empty(queue, task_hub)


@pytest.mark.parametrize("transport", [TransportChoice.LEAN, TransportChoice.SDK])
async def test_a_large_claimed_message_is_offloaded_and_reappears_whole(
    task_hub: TaskHub, connection_string: str, transport: TransportChoice
) -> None:
    async with _work_item_queue(task_hub, connection_string, transport) as queue:
        await _claim_large_and_see_it_reappear(queue)


async def _claim_large_and_see_it_reappear(queue: TaskHubQueue) -> None:
    big_input = json.dumps("x" * 50_000)
    data = MessageData(event=TaskScheduled(event_id=1, name="big", input=big_input), instance=INSTANCE)
    claimed = await queue.send_claimed(data, visibility_timeout=1)
    assert json.loads(claimed.raw_body)["CompressedBlobName"]  # the queued body is the blob wrapper
    assert claimed.data is not None and claimed.data.event.input == big_input
    reappeared: list[ReceivedMessage] = []

    async def receive_it() -> bool:  # its claimer never deleted it: it becomes visible after the timeout
        reappeared.extend(await queue.receive(1, 30))
        return bool(reappeared)

    await wait_until(receive_it)
    [message] = reappeared
    assert message.message_id == claimed.message_id and message.dequeue_count == 1
    assert message.data is not None and message.data.event == data.event


def _record_control_receives(hub: TaskHub, monkeypatch: pytest.MonkeyPatch) -> list[ReceivedMessage]:
    """Every message a worker gets by receiving from a control queue (a pass-through spy; storage stays real)."""
    received: list[ReceivedMessage] = []
    for queue in hub.control_queues:
        real_receive = queue.receive

        async def receive(max_messages: int, visibility_timeout: float, real_receive=real_receive):
            messages = await real_receive(max_messages, visibility_timeout)
            received.extend(messages)
            return messages

        monkeypatch.setattr(queue, "receive", receive)
    return received


async def test_a_start_made_in_the_process_owning_its_partition_runs_without_a_receive(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTTP or queue-triggered starter in a worker's process: its starts skip the control-queue poll."""
    received = _record_control_receives(task_hub, monkeypatch)
    history_loads: list[str] = []
    real_load = task_hub.history.load

    async def load(instance_id: str, *args, **kwargs):
        history_loads.append(instance_id)
        return await real_load(instance_id, *args, **kwargs)

    monkeypatch.setattr(task_hub.history, "load", load)
    async with Worker(task_hub, apps.registry(), TEST_SETTINGS), DurableOrchestrationClient(task_hub) as client:
        await wait_until(lambda: all(queue.local_consumers for queue in task_hub.control_queues))  # owns them all
        instance_ids = [await client.start_new("hello_sequence") for _ in range(6)]
        for instance_id in instance_ids:
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
            assert status.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        # each claimed start was deleted with the pop receipt its send returned: none is left to reappear
        for queue in task_hub.control_queues:
            await wait_until(lambda queue=queue: is_empty(queue, task_hub))
    assert [m for m in received if m.data is not None and isinstance(m.data.event, ExecutionStarted)] == []
    assert history_loads == []  # a claimed first start is known new: no history read, as for a received one


async def test_a_start_for_a_partition_owned_elsewhere_is_sent_for_its_owner(task_hub: TaskHub) -> None:
    """No worker in this process: the start goes to the queue, visible, and a worker receives it."""
    async with DurableOrchestrationClient(task_hub) as client:
        instance_id = await client.start_new("hello_sequence")
        [message] = await task_hub.control_queue_for(instance_id).peek()
        assert message is not None and isinstance(message.event, ExecutionStarted)
        async with Worker(task_hub, apps.registry(), TEST_SETTINGS):
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
