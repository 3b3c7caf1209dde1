"""A client on a fresh task hub, with or without a running worker (the worker runs tests/client/apps.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus
from durable_azure.worker import Worker
from tests.client import apps
from tests.worker.conftest import TEST_SETTINGS

WAIT_SECONDS = 60.0


@dataclass
class Running:
    hub: TaskHub
    worker: Worker
    client: DurableOrchestrationClient


@pytest_asyncio.fixture
async def client(task_hub: TaskHub) -> AsyncIterator[DurableOrchestrationClient]:
    """A client and no worker: instances stay Pending, so tests see exactly what the client wrote."""
    async with DurableOrchestrationClient(task_hub) as client:
        yield client


@pytest_asyncio.fixture
async def running(task_hub: TaskHub) -> AsyncIterator[Running]:
    worker = Worker(task_hub, apps.registry(), TEST_SETTINGS)
    await worker.start()
    client = DurableOrchestrationClient(task_hub)
    try:
        yield Running(task_hub, worker, client)
    finally:
        apps.open_every_gate()
        await client.close()
        await worker.stop(timeout=5)


async def eventually(
    probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], what: str, timeout: float = WAIT_SECONDS
) -> Any:
    """Poll `probe` until `accept(value)`; fails (naming `what`) only after a generous timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still waiting for {what}; last value: {value!r}")
        await asyncio.sleep(0.1)


async def wait_for_status(
    client: DurableOrchestrationClient, instance_id: str, status: OrchestrationRuntimeStatus
) -> DurableOrchestrationStatus:
    return await eventually(
        lambda: client.get_status(instance_id, show_history=True),
        lambda value: value is not None and value.runtime_status == status,
        f"instance {instance_id} to be {status.value}",
    )


async def wait_until_entered(key: str) -> None:
    """The gate activity of `key` has started running."""
    assert await asyncio.to_thread(apps.gate_entered[key].wait, WAIT_SECONDS), f"gate {key} never entered"


async def queues_are_empty(hub: TaskHub) -> bool:
    """No message left in any control or work-item queue: the worker has consumed everything sent so far."""
    for queue in [*hub.control_queues, hub.work_item_queue]:
        if await queue.approximate_message_count():
            return False
    return True
