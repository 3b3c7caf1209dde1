"""Poison messages, long timers and several workers on one task hub."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta

from azure.storage.queue import QueueClient

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import OrchestrationRuntimeStatus
from durable_azure.worker import Worker
from tests.worker import apps
from tests.worker.conftest import TEST_SETTINGS, Running


async def test_an_undecodable_message_is_moved_aside_and_its_partition_keeps_working(
    running: Running, connection_string: str
) -> None:
    instance_id = "poison-neighbour"
    queue = running.hub.control_queue_for(instance_id)
    QueueClient.from_connection_string(connection_string, queue.name).send_message("this is not an envelope")
    status = await running.client.wait_for_completion(
        await running.client.start_new("hello_sequence", instance_id=instance_id), timeout=60
    )
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    poison = QueueClient.from_connection_string(connection_string, running.hub.names.poison_queue)
    for _ in range(100):
        peeked = poison.peek_messages(max_messages=5)
        if peeked:
            break
        await asyncio.sleep(0.1)
    assert any("this is not an envelope" in message.content for message in peeked)


async def test_a_timer_longer_than_the_queue_visibility_limit_is_chained(running: Running) -> None:
    for queue in running.hub.control_queues:
        queue.max_visibility_delay_seconds = 1.5  # stands in for the 7-day limit of Azure queues
    started = time.monotonic()
    instance_id = await running.client.start_new("timer_then_done", client_input=4)
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == "timer fired"
    assert time.monotonic() - started >= 4


async def test_two_workers_split_the_partitions_and_finish_every_instance(task_hub: TaskHub) -> None:
    first = Worker(task_hub, apps.registry(), TEST_SETTINGS, worker_id="first")
    second = Worker(task_hub, apps.registry(), TEST_SETTINGS, worker_id="second")
    await first.start()
    await second.start()
    try:
        await _wait_until(lambda: len(first.owned_partitions) == 2 and len(second.owned_partitions) == 2)
        assert set(first.owned_partitions).isdisjoint(second.owned_partitions)
        async with DurableOrchestrationClient(task_hub) as client:
            ids = [await client.start_new("hello_sequence", instance_id=f"split-{i}") for i in range(12)]
            statuses = await asyncio.gather(*(client.wait_for_completion(i, timeout=90) for i in ids))
        assert all(status.output[0] == "Hello Tokyo!" for status in statuses)
        await first.stop(timeout=5)
        await _wait_until(lambda: len(second.owned_partitions) == 4)
    finally:
        await first.stop(timeout=5)
        await second.stop(timeout=5)


async def test_three_workers_on_four_partitions_each_get_work(task_hub: TaskHub) -> None:
    workers = [Worker(task_hub, apps.registry(), TEST_SETTINGS, worker_id=f"w{i}") for i in range(3)]
    for worker in workers:
        await worker.start()
    try:
        partitions = sorted(queue.name for queue in task_hub.control_queues)

        def balanced() -> bool:  # every worker has work, and every partition exactly one owner
            owned = [partition for worker in workers for partition in worker.owned_partitions]
            return all(worker.owned_partitions for worker in workers) and sorted(owned) == partitions

        await _wait_until(balanced)
    finally:
        for worker in workers:
            await worker.stop(timeout=5)


async def _wait_until(condition, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)


async def test_a_work_item_dequeued_too_often_fails_its_activity_instead_of_looping(task_hub: TaskHub) -> None:
    from tests.worker.test_episodes import receive, started

    await started(task_hub, "hello_sequence", "poisoned")  # the first activity's work item is now queued
    await receive(task_hub.work_item_queue, 1, visibility=1)  # a "crashed" attempt: dequeued, never completed
    settings = dataclasses.replace(
        TEST_SETTINGS, max_dequeue_count=1, work_item_queue_visibility_timeout=timedelta(seconds=1)
    )
    worker = Worker(task_hub, apps.registry(), settings)
    await worker.start()
    try:
        async with DurableOrchestrationClient(task_hub) as client:
            status = await client.wait_for_completion("poisoned", timeout=90)
    finally:
        await worker.stop(timeout=5)
    assert status.runtime_status == OrchestrationRuntimeStatus.Failed
    assert "dequeued 2 times" in str(status.output)
