"""Helpers for tests where workers race for activities: a gate that holds activities, queue observers.

Storage stays real: the spy on receive passes every call through.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from durable_azure.azure_storage import TaskHub, TaskHubQueue
from durable_azure.settings import DurableTaskSettings
from durable_azure.worker import ActivityFunction, Registry, Worker
from tests.worker import apps

WAIT_SECONDS = 60.0


def gated_once(context):
    return (yield context.call_activity("gated", context.instance_id))


def gated_after_event(context):
    yield context.wait_for_external_event("Go")  # an EventRaised cannot anchor: the activity is claimed
    return (yield context.call_activity("gated", context.instance_id))


def hello_after_event(context):
    yield context.wait_for_external_event("Go")
    greetings = []
    for city in ("Tokyo", "Seattle", "London"):
        greetings.append((yield context.call_activity("say_hello", city)))
    return greetings


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
            orchestrators={
                **base.orchestrators,
                "gated_once": gated_once,
                "gated_after_event": gated_after_event,
                "gated_fan_out": gated_fan_out,
            },
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
    return await queue.approximate_message_count()


async def is_empty(queue: TaskHubQueue, hub: TaskHub) -> bool:
    return await stored_message_count(queue, hub) == 0


async def has_visible(queue: TaskHubQueue, hub: TaskHub, count: int) -> bool:
    return len(await queue.peek()) == count


@contextlib.asynccontextmanager
async def gated_pair(
    hub: TaskHub, settings: DurableTaskSettings, *, first_slots: int | None = None
) -> AsyncIterator[tuple[Gate, Worker, Worker]]:
    """A started worker "first" whose activities wait for the gate, and a worker "second" not started yet."""
    gate = Gate()
    first_settings = settings
    if first_slots is not None:
        first_settings = dataclasses.replace(settings, max_concurrent_activity_functions=first_slots)
    first = Worker(hub, gate.registry("first", waits=True), first_settings, worker_id="first")
    second = Worker(hub, gate.registry("second", waits=False), settings, worker_id="second")
    await first.start()
    try:
        yield gate, first, second
    finally:
        gate.opened.set()
        await first.stop(timeout=5)
        await second.stop(timeout=5)
