"""A counter entity gets 1,000 `add 1` from four senders while the worker that owns it is SIGKILLed, repeatedly.

The contract (DESIGN.md, entities): every operation is applied exactly once. A
worker killed mid-batch leaves messages it had dequeued (they reappear after
their visibility timeout) and maybe a batch it had committed but not yet
deleted (its messages come back too, and the entity's message sorter must
recognise them as copies by their sender stamps). So the count must reach
exactly 1,000 and stay there once every message is consumed: more means an
operation applied twice, less means one lost.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.entities import EntityId, SchedulerState
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.fault.harness import WorkerProcesses, make_app_dir, running_workers, wait_for_all_leases

SENDERS = 4
SIGNALS = 1000
KILLS = 3
PAUSE = 0.15
"""Seconds each sender waits between signals, so sending spans the kills (about 40 s)."""
PROGRESS_BEFORE_KILL = 40
"""Operations the entity must have applied since the last kill: a worker has taken over and is mid-run."""
SETTLE_SECONDS = 10.0
"""How long the count must stay put with no message left (invisible ones count); twice this, longer than the
control queue's visibility timeout, when a wake-up message waits in the queue and nothing in the sorter."""
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
async def test_killing_the_entitys_worker_applies_each_signal_once(tmp_path: Path, connection_string: str) -> None:
    hub_name = unique_hub_name("EntityKill")
    app_dir = make_app_dir(tmp_path, hub_name)
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    entity = EntityId("counter", "kill")
    try:
        with running_workers(app_dir, connection_string, tmp_path, count=2) as workers:
            await wait_for_all_leases(workers.logs, partitions=4)
            senders = [
                _start_sender(hub_name, entity.key, SIGNALS // SENDERS, connection_string) for _ in range(SENDERS)
            ]
            async with DurableOrchestrationClient(hub) as client:
                kills = await _kill_owners(hub, client, workers, entity, KILLS)
                for sender in senders:
                    assert await asyncio.to_thread(sender.wait, 300) == 0, "a sender failed"
                count = await _settled_count(hub, client, entity, deadline=300)
        assert kills == KILLS
        assert count == SIGNALS, workers.log_tail()
    finally:
        await hub.delete()
        await account.close()


@pytest.mark.slow
async def test_killing_the_entitys_worker_applies_each_orchestration_signal_once(
    tmp_path: Path, connection_string: str
) -> None:
    """The senders are orchestrations (4 x 250 signals, in rounds of 25 between timers), killed along with the entity.

    An orchestration episode sends its signals before it commits its history (DTFx's order); a worker killed
    between the two leaves signals that the retried episode sends again. Their ids and stamps derive from the
    execution and the task ids (not the retry's clock), so the entity drops them as copies: exactly 1,000.
    (Before that was so, one run of this test counted 1,004.)
    """
    hub_name = unique_hub_name("EntityOrchKill")
    app_dir = make_app_dir(tmp_path, hub_name)
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    entity = EntityId("counter", "orchestrated")
    try:
        with running_workers(app_dir, connection_string, tmp_path, count=2) as workers:
            await wait_for_all_leases(workers.logs, partitions=4)
            async with DurableOrchestrationClient(hub) as client:
                ids = [
                    await client.start_new("signal_counter", f"sender-{n}", [entity.key, SIGNALS // SENDERS, 25])
                    for n in range(SENDERS)
                ]
                kills = await _kill_owners(hub, client, workers, entity, KILLS)
                statuses = await asyncio.gather(*(client.wait_for_completion(i, timeout=300) for i in ids))
                count = await _settled_count(hub, client, entity, deadline=300)
        assert kills == KILLS
        assert [status.runtime_status for status in statuses] == [OrchestrationRuntimeStatus.Completed] * SENDERS
        assert count == SIGNALS, workers.log_tail()
    finally:
        await hub.delete()
        await account.close()


def _start_sender(hub_name: str, key: str, count: int, connection_string: str) -> subprocess.Popen[bytes]:
    """One sender process (tests/fault/entity_sender.py): its own client, so its own sender id and stamps."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fault.entity_sender", hub_name, key, str(count), str(PAUSE)],
        cwd=ROOT,
        env={**os.environ, "AzureWebJobsStorage": connection_string},
    )


async def _kill_owners(
    hub: TaskHub, client: DurableOrchestrationClient, workers: WorkerProcesses, entity: EntityId, kills: int
) -> int:
    """SIGKILL the worker owning the entity's partition each time it has made progress; start a replacement.

    Returns how many kills were made before the count reached the end (the test wants all of them mid-run).
    """
    partition = hub.control_queue_for(EntityId.get_scheduler_id(entity)).name
    made = 0
    last_count = 0
    deadline = time.monotonic() + 240
    while made < kills and time.monotonic() < deadline:
        count = await _count(client, entity)
        owner = await _owner_process(hub, workers, partition)
        if count >= last_count + PROGRESS_BEFORE_KILL and count < SIGNALS and owner is not None:
            owner.send_signal(signal.SIGKILL)
            owner.wait(timeout=10)
            workers.start(1)
            made += 1
            last_count = count
        await asyncio.sleep(0.1)
    return made


async def _owner_process(hub: TaskHub, workers: WorkerProcesses, partition: str) -> subprocess.Popen[bytes] | None:
    """The live worker process holding the partition's lease (its log names its worker id), if any."""
    lease = next((lease for lease in await hub.leases.list() if lease.partition_id == partition), None)
    if lease is None or not lease.is_leased or lease.owner is None:
        return None
    for index, process in enumerate(workers.processes):
        log = (workers.log_dir / f"worker{index}.log").read_text(errors="replace")
        if process.poll() is None and re.search(rf"owner={re.escape(lease.owner)}\b", log):
            return process
    return None


async def _count(client: DurableOrchestrationClient, entity: EntityId) -> int:
    response = await client.read_entity_state(entity)
    return int(response.entity_state) if response.entity_exists else 0


async def _settled_count(hub: TaskHub, client: DurableOrchestrationClient, entity: EntityId, deadline: float) -> int:
    """The count once it has not moved for a while and nothing can still change it.

    Nothing can: the control queue is empty, or (an entity that waited for a reordered request leaves a
    wake-up message invisible in its queue for the reorder window) nothing waits in the entity's sorter and
    the count has held for longer than the visibility timeout, so messages a killed worker had dequeued are
    back and applied.
    """
    queue = hub.control_queue_for(EntityId.get_scheduler_id(entity))
    end = time.monotonic() + deadline
    count, since = await _count(client, entity), time.monotonic()
    while time.monotonic() < end:
        await asyncio.sleep(0.5)
        now_count = await _count(client, entity)
        if now_count != count:
            count, since = now_count, time.monotonic()
            continue
        held = time.monotonic() - since
        if held < SETTLE_SECONDS:
            continue
        if await queue.approximate_message_count() == 0 or (
            held >= 2 * SETTLE_SECONDS and not await _waiting(hub, entity)
        ):
            return count
    return count


async def _waiting(hub: TaskHub, entity: EntityId) -> bool:
    """Whether the entity's sorter holds a request waiting for its predecessor."""
    record = await hub.instances.get(EntityId.get_scheduler_id(entity))
    state = SchedulerState.from_text(record.input if record else None)
    return any(sender.buffered for sender in state.sorter.received.values())
