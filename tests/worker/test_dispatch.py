"""Dispatcher behaviour a user notices: concurrency limits, long activities, shutdown, discards."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta

from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import EventRaised, OrchestrationInstance
from durable_azure.worker import Worker
from tests.worker import apps
from tests.worker.conftest import TEST_SETTINGS, Running


async def run_with(task_hub: TaskHub, name: str, client_input=None, **settings):
    worker = Worker(task_hub, apps.registry(), dataclasses.replace(TEST_SETTINGS, **settings))
    await worker.start()
    try:
        async with DurableOrchestrationClient(task_hub) as client:
            instance_id = await client.start_new(name, client_input=client_input)
            return await client.wait_for_completion(instance_id, timeout=60)
    finally:
        await worker.stop(timeout=5)


async def test_max_concurrent_activity_functions_is_respected(task_hub: TaskHub) -> None:
    apps.concurrency.update(now=0, max=0)
    status = await run_with(task_hub, "busy_fan_out", 8, max_concurrent_activity_functions=2)
    assert status.output == "done"
    assert apps.concurrency["max"] == 2


async def test_an_activity_longer_than_its_visibility_timeout_runs_once(task_hub: TaskHub) -> None:
    status = await run_with(task_hub, "slow_once", work_item_queue_visibility_timeout=timedelta(seconds=2))
    assert status.output.startswith("activity")
    assert apps.runs[status.instance_id] == 1  # the message was kept invisible while it ran


async def test_sync_activities_run_in_the_thread_pool_and_async_ones_on_the_loop(running: Running) -> None:
    instance_id = await running.client.start_new("threads")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    sync_thread, async_thread = status.output
    assert sync_thread.startswith("activity")
    assert async_thread == "MainThread"


async def test_a_stopped_worker_releases_its_leases_at_once(task_hub: TaskHub) -> None:
    worker = Worker(task_hub, apps.registry(), TEST_SETTINGS)
    await worker.start()
    assert len(worker.owned_partitions) == 4
    await worker.stop(timeout=5)
    leases = await task_hub.leases.list()
    assert [lease.is_leased for lease in leases] == [False] * 4


async def test_messages_for_unknown_or_finished_instances_are_discarded_with_a_log_line(
    running: Running, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="durable_azure")
    finished = await running.client.start_new("hello_sequence")
    await running.client.wait_for_completion(finished, timeout=30)
    for instance_id in ("nobody-home", finished):
        event = EventRaised(name="Late", input='"x"')
        message = MessageData(event=event, instance=OrchestrationInstance(instance_id=instance_id))
        await running.hub.control_queue_for(instance_id).send(message)
    for _ in range(100):
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("message.discarded")]
        if len(lines) >= 2:
            break
        await asyncio.sleep(0.1)
    assert any("nobody-home" in line and "no such instance" in line for line in lines)
    assert any(finished in line and "Completed" in line for line in lines)


async def test_a_sequence_run_here_costs_one_queue_message_in_all(running: Running) -> None:
    counter = running.hub.account.counter
    before = counter.snapshot()
    status = await run_to_end_quietly(running, "hello_sequence")
    assert status.output[2] == "Hello London!"
    after = counter.snapshot()
    # Only the ExecutionStarted: it anchored the three activities, which ran here with no work item,
    # and their results were handed over in memory; it is deleted once, when the last result is safe.
    assert after["queue.send"] - before["queue.send"] == 1
    assert after["queue.delete"] - before["queue.delete"] == 1


async def run_to_end_quietly(running: Running, name: str):
    instance_id = await running.client.start_new(name)
    return await running.client.wait_for_completion(instance_id, timeout=30)
