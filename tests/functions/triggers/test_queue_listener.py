"""The queue listener's sharing and lifetime: several listeners on one queue, stop with work in flight, renewal."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.functions.indexing import TriggeredFunction
from tests.functions.harness import RunningApp, running_app
from tests.functions.queue_support import APP_DIR, Queues, eventually, listening


@pytest_asyncio.fixture
async def app(task_hub: TaskHub) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        yield running


@pytest_asyncio.fixture
async def queues(task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Queues]:
    created = Queues(task_hub.account, monkeypatch)
    yield created
    await created.delete_all()


@pytest.fixture
def slow_seconds(app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The app module's SLOW_SECONDS (the module as the loader imported it), restored after the test."""
    seconds: dict[str, float] = _function(app, "slow").function.__globals__["SLOW_SECONDS"]
    monkeypatch.setitem(seconds, "value", seconds["value"])
    return seconds


def _function(app: RunningApp, name: str) -> TriggeredFunction:
    return next(function for function in app.index.triggered if function.name == name)


async def test_two_listeners_on_one_queue_process_each_message_once(app: RunningApp, queues: Queues) -> None:
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    bodies = [f"m{index}" for index in range(40)]
    for body in bodies:
        await queues.send(queue, body)
    async with listening(app, "as_text"), listening(app, "as_text"):
        texts = await queues.take(record, len(bodies))

        async def drained() -> bool:
            return await queues.visible(queue) == []

        await eventually(drained, "the source queue drained")
    assert Counter(texts) == Counter(f"str:{body}" for body in bodies)
    assert await queues.visible(record) == []  # nothing processed twice


async def test_stop_lets_invocations_finish_and_loses_nothing(
    app: RunningApp, queues: Queues, slow_seconds: dict[str, float]
) -> None:
    queue, record = queues.name("SLOW_QUEUE"), queues.name("RECORD_QUEUE")
    bodies = [f"s{index}" for index in range(12)]
    for body in bodies:
        await queues.send(queue, body)
    async with listening(app, "slow") as listener:
        first = await queues.take(record, 1)
        await listener.stop()  # batch 4 + threshold 2: several are in flight now
    done_before_restart = first + await _everything_in(queues, record)
    assert done_before_restart and set(done_before_restart) < set(bodies)
    async with listening(app, "slow"):  # what was not done is visible again at once (not after 10 minutes)
        rest = await queues.take(record, len(bodies) - len(done_before_restart))
    assert Counter(done_before_restart + rest) == Counter(bodies)


async def test_visibility_is_renewed_while_the_function_runs(
    app: RunningApp, queues: Queues, slow_seconds: dict[str, float]
) -> None:
    """With a 2 s claim renewed every second, a 3 s invocation keeps its message from the second listener."""
    slow_seconds["value"] = 3.0
    queue, record = queues.name("SLOW_QUEUE"), queues.name("RECORD_QUEUE")
    await queues.send(queue, "long one")
    short_claim = timedelta(seconds=2)
    async with (
        listening(app, "slow", message_visibility=short_claim),
        listening(app, "slow", message_visibility=short_claim),
    ):
        assert await queues.take(record, 1) == ["long one"]
    assert await _everything_in(queues, record) == []


async def _everything_in(queues: Queues, queue: str) -> list[str]:
    """What `queue` holds now (taken)."""
    visible = await queues.visible(queue)
    return await queues.take(queue, len(visible)) if visible else []


async def test_many_messages_run_in_parallel_up_to_the_limit(app: RunningApp, queues: Queues) -> None:
    """batchSize 4 + newBatchThreshold 2: at most 6 at once, and more than one at a time."""
    queue, record = queues.name("SLOW_QUEUE"), queues.name("RECORD_QUEUE")
    for index in range(10):
        await queues.send(queue, f"p{index}")
    running: list[int] = []
    peak: list[int] = []
    function = _function(app, "slow")
    original = function.function

    async def counting(msg: str) -> str:
        running.append(1)
        peak.append(len(running))
        try:
            return await original(msg)
        finally:
            running.pop()

    app.index.triggered[app.index.triggered.index(function)] = dataclasses.replace(function, function=counting)
    async with listening(app, "slow"):
        await queues.take(record, 10)
    assert 1 < max(peak) <= 6


async def test_messages_received_after_stop_are_visible_again_at_once(
    app: RunningApp, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receive answered after stop() was called: its messages are handed back, not kept invisible 10 minutes."""
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    for index in range(3):
        await queues.send(queue, f"r{index}")
    receiving, answer = asyncio.Event(), asyncio.Event()
    storage = queues.account.queues
    real_receive = storage.receive

    async def receive_answered_late(*arguments: object, **options: object) -> object:
        receiving.set()
        await answer.wait()  # the real receive runs only once stop has begun
        return await real_receive(*arguments, **options)

    monkeypatch.setattr(storage, "receive", receive_answered_late)
    async with listening(app, "as_text") as listener:
        await receiving.wait()
        stopping = asyncio.create_task(listener.stop())
        await asyncio.sleep(0)  # stop() has marked the listener stopping and waits for the poller
        answer.set()
        await stopping
    assert len(await queues.visible(queue)) == 3
    assert await queues.visible(record) == []
