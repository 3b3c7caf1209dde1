"""Local claim: a worker that sends an activity request while it has a free slot runs it without receiving it.

The claimed work item is stored invisible, as a receive would leave it, so it
stays the recovery path: if the worker dies it reappears after its visibility
timeout and runs elsewhere. Work items for which no slot is free are sent
visible, for any worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from durable_azure.azure_storage import MessageCodec, MessageData, ReceivedMessage, TaskHub, TaskHubQueue
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import OrchestrationInstance, TaskScheduled
from durable_azure.worker import ActivityFunction, Registry, Worker
from tests.worker import apps
from tests.worker.conftest import TEST_SETTINGS, Running

WAIT_SECONDS = 60.0
INSTANCE = OrchestrationInstance(instance_id="claim-1", execution_id="e1")


def gated_once(context):
    return (yield context.call_activity("gated", context.instance_id))


def gated_fan_out(context):
    results = yield context.task_all([context.call_activity("gated", i) for i in range(context.get_input())])
    return sorted(results)


class Gate:
    """An activity that records who ran it and, for the gated worker, waits until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.runs: dict[str, int] = {}
        self._lock = threading.Lock()

    def activity(self, worker: str, *, waits: bool) -> Callable[[object], object]:
        def gated(value: object) -> object:
            with self._lock:
                self.runs[worker] = self.runs.get(worker, 0) + 1
            if waits:
                self.opened.wait(WAIT_SECONDS)
            return value if isinstance(value, int) else worker

        return gated

    def registry(self, worker: str, *, waits: bool) -> Registry:
        base = apps.registry()
        function = self.activity(worker, waits=waits)
        return Registry(
            orchestrators={**base.orchestrators, "gated_once": gated_once, "gated_fan_out": gated_fan_out},
            activities={**base.activities, "gated": ActivityFunction(name="gated", function=function, input_name=None)},
        )


def record_work_item_receives(hub: TaskHub, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The dequeue count of every work item a worker gets by receiving (a pass-through spy; storage stays real)."""
    queue = hub.work_item_queue
    real_receive = queue.receive
    dequeue_counts: list[int] = []

    async def receive(max_messages: int, visibility_timeout: float):
        messages = await real_receive(max_messages, visibility_timeout)
        dequeue_counts.extend(message.dequeue_count for message in messages)
        return messages

    monkeypatch.setattr(queue, "receive", receive)
    return dequeue_counts


async def wait_until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def stored_message_count(queue: TaskHubQueue, hub: TaskHub) -> int:
    """Messages in the queue, visible or not (the queue's approximate count)."""
    properties = await hub.account.queue_service.get_queue_client(queue.name).get_queue_properties()
    return properties.approximate_message_count


async def is_empty(queue: TaskHubQueue, hub: TaskHub) -> bool:
    return await stored_message_count(queue, hub) == 0


async def has_visible(queue: TaskHubQueue, hub: TaskHub, count: int) -> bool:
    peeked = await hub.account.queue_service.get_queue_client(queue.name).peek_messages(max_messages=32)
    return len(peeked) == count


async def test_a_sequence_runs_its_activities_without_receiving_them(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(running.hub, monkeypatch)
    counter = running.hub.account.counter
    before = counter.snapshot()
    instance_id = await running.client.start_new("hello_sequence")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert received == []  # every work item was claimed by the worker that sent it
    assert counter.snapshot()["queue.send"] - before["queue.send"] == 4  # the start and three work items
    # each claimed work item was deleted with the pop receipt its send returned: none is left behind
    await wait_until(lambda: is_empty(running.hub.work_item_queue, running.hub))


async def test_a_fan_out_wider_than_the_free_slots_leaves_the_rest_to_other_workers(
    make_task_hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await make_task_hub()
    gate = Gate()
    settings = dataclasses.replace(TEST_SETTINGS, max_concurrent_activity_functions=2)
    first = Worker(hub, gate.registry("first", waits=True), settings, worker_id="first")
    second = Worker(hub, gate.registry("second", waits=False), TEST_SETTINGS, worker_id="second")
    await first.start()
    try:
        async with DurableOrchestrationClient(hub) as client:
            instance_id = await client.start_new("gated_fan_out", client_input=10)
            await wait_until(lambda: gate.runs.get("first") == 2)
            # the first worker's two slots are busy; the other eight wait, visible, for anyone
            await wait_until(lambda: has_visible(hub.work_item_queue, hub, 8))
            await second.start()
            await wait_until(lambda: gate.runs.get("second") == 8)
            gate.opened.set()
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output == list(range(10))
        assert gate.runs == {"first": 2, "second": 8}
    finally:
        gate.opened.set()
        await first.stop(timeout=5)
        await second.stop(timeout=5)


async def test_a_claimed_work_item_comes_back_when_its_worker_dies(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(task_hub, monkeypatch)
    gate = Gate()
    settings = dataclasses.replace(TEST_SETTINGS, work_item_queue_visibility_timeout=timedelta(seconds=2))
    first = Worker(task_hub, gate.registry("first", waits=True), settings, worker_id="first")
    second = Worker(task_hub, gate.registry("second", waits=False), settings, worker_id="second")
    await first.start()
    try:
        async with DurableOrchestrationClient(task_hub) as client:
            instance_id = await client.start_new("gated_once")
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
    finally:
        gate.opened.set()
        await first.stop(timeout=5)
        await second.stop(timeout=5)


def _claimable_queues(hub: TaskHub) -> dict[str, TaskHubQueue]:
    """The work-item queue on the lean REST path, and the same queue on the SDK path (no account key)."""
    client = hub.account.queue_service.get_queue_client(hub.work_item_queue.name)
    return {"rest": hub.work_item_queue, "sdk": TaskHubQueue(client, MessageCodec(hub.large_messages))}


@pytest.mark.parametrize("path", ["rest", "sdk"])
async def test_a_claimed_send_is_invisible_and_deletable_with_its_pop_receipt(task_hub: TaskHub, path: str) -> None:
    queue = _claimable_queues(task_hub)[path]
    data = MessageData(event=TaskScheduled(event_id=1, name="small", input='"x"'), instance=INSTANCE)
    claimed = await queue.send_claimed(data, visibility_timeout=60)
    assert claimed.data is not None and claimed.data.event == data.event
    assert claimed.data.sequence_number > 0 and claimed.dequeue_count == 0
    assert await queue.receive(32, 60) == []  # nobody else can take it
    await queue.renew(claimed, 60)
    await queue.delete(claimed)
    assert await is_empty(queue, task_hub)


@pytest.mark.parametrize("path", ["rest", "sdk"])
async def test_a_large_claimed_message_is_offloaded_and_reappears_whole(task_hub: TaskHub, path: str) -> None:
    queue = _claimable_queues(task_hub)[path]
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
