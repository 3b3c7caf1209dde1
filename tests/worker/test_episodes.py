"""Episode-level guarantees, driven message by message against Azurite (no worker loop).

Two runners with separate caches stand in for two workers that both believe
they own an instance (split brain); hand-made replies stand in for a queue
that delivers twice or out of order.
"""

from __future__ import annotations

import asyncio
import json

from durable_azure.azure_storage import MessageData, ReceivedMessage, TaskHub, TaskHubQueue
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import EventRaised, OrchestrationInstance, TaskCompleted
from durable_azure.worker.episode import EpisodeRunner
from durable_azure.worker.instance_cache import InstanceCache
from tests.worker import apps


async def receive(
    queue: TaskHubQueue, count: int, timeout: float = 10.0, visibility: float = 30
) -> list[ReceivedMessage]:
    """Wait until `count` messages are visible and take them (hidden for `visibility` seconds)."""
    messages: list[ReceivedMessage] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(messages) < count:
        assert loop.time() < deadline, f"only {len(messages)} of {count} messages arrived"
        messages += await queue.receive(count - len(messages), visibility)
        await asyncio.sleep(0.05)
    return messages


async def started(hub: TaskHub, name: str, instance_id: str) -> tuple[EpisodeRunner, TaskHubQueue, str]:
    async with DurableOrchestrationClient(hub) as client:
        await client.start_new(name, instance_id)
    runner = EpisodeRunner(hub, apps.registry(), InstanceCache())
    queue = hub.control_queue_for(instance_id)
    await runner.run(instance_id, await receive(queue, 1))
    history = await hub.history.load(instance_id)
    return runner, queue, history.execution_id


def completed_reply(instance_id: str, execution_id: str, task_id: int, result: str) -> MessageData:
    return MessageData(
        event=TaskCompleted(task_scheduled_id=task_id, result=json.dumps(result)),
        instance=OrchestrationInstance(instance_id=instance_id, execution_id=execution_id),
    )


async def test_a_reply_delivered_twice_is_applied_once(task_hub: TaskHub) -> None:
    runner, queue, execution_id = await started(task_hub, "hello_sequence", "twice")
    reply = completed_reply("twice", execution_id, 0, "Hello Tokyo!")
    await queue.send(reply)
    await queue.send(reply)
    await runner.run("twice", await receive(queue, 2))  # both copies in one batch
    await queue.send(reply)
    await runner.run("twice", await receive(queue, 1))  # and once more, later
    events = (await task_hub.history.load("twice")).events
    assert sum(isinstance(event, TaskCompleted) for event in events) == 1
    assert [event.name for event in events if type(event).__name__ == "TaskScheduled"] == ["say_hello"] * 2
    assert await queue.receive(32, 1) == []  # every copy was deleted


async def test_a_reply_that_overtakes_its_request_is_deferred_not_lost(task_hub: TaskHub) -> None:
    runner, queue, execution_id = await started(task_hub, "hello_sequence", "early")
    await queue.send(completed_reply("early", execution_id, 2, "Hello London!"))  # task 2 is not scheduled yet
    await runner.run("early", await receive(queue, 1))
    assert not any(isinstance(e, TaskCompleted) for e in (await task_hub.history.load("early")).events)
    again = await receive(queue, 1, timeout=15)  # abandoned with a 1 s backoff: it comes back
    assert again[0].dequeue_count == 2


async def test_a_commit_from_a_stale_owner_is_refused_and_its_messages_come_back(task_hub: TaskHub) -> None:
    stale, queue, _ = await started(task_hub, "two_approvals", "split")
    fresh = EpisodeRunner(task_hub, apps.registry(), InstanceCache())
    async with DurableOrchestrationClient(task_hub) as client:
        await client.raise_event("split", "Approval", "first")
        await fresh.run("split", await receive(queue, 1))  # the other owner moves the instance on
        await client.raise_event("split", "Approval", "second")
        await stale.run("split", await receive(queue, 1))  # still holds the old sentinel ETag
        events = (await task_hub.history.load("split")).events
        assert [event.input for event in events if isinstance(event, EventRaised)] == ['"first"']
        redelivered = await receive(queue, 1, timeout=15)
        await stale.run("split", redelivered)  # it reloads history now, and succeeds
        status = await client.get_status("split")
    assert status.output == ["first", "second"]


async def test_a_worker_that_gets_an_instance_back_reloads_what_another_worker_did(task_hub: TaskHub) -> None:
    first, queue, execution_id = await started(task_hub, "hello_sequence", "back")
    second = EpisodeRunner(task_hub, apps.registry(), InstanceCache())
    await queue.send(completed_reply("back", execution_id, 0, "Hello Tokyo!"))
    await second.run("back", await receive(queue, 1))  # the other worker moves it on: task 1 scheduled
    await queue.send(completed_reply("back", execution_id, 1, "Hello Seattle!"))
    await first.run("back", await receive(queue, 1))  # its cached copy has never seen task 1
    events = (await task_hub.history.load("back")).events
    assert [e.task_scheduled_id for e in events if isinstance(e, TaskCompleted)] == [0, 1]
    assert [e.event_id for e in events if type(e).__name__ == "TaskScheduled"] == [0, 1, 2]
