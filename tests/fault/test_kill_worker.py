"""Two worker processes share a task hub; one is killed with SIGKILL mid-run.

Every instance must still complete with the right output: the survivor takes
the dead worker's partitions once their leases expire, and the messages the
dead worker had dequeued reappear after their visibility timeout. This is also
the crash test of the in-memory short cut for activity results (see
worker/deliveries.py): results the dead worker had handed to its own sessions
but not committed come back through their work items.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
from pathlib import Path

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.fault.harness import make_app_dir, running_workers, start_queue_name, wait_for_all_leases, wait_for_progress

INSTANCES = 16


async def test_killing_one_of_two_workers_loses_no_instance(tmp_path: Path, connection_string: str) -> None:
    hub_name = unique_hub_name("Fault")
    app_dir = make_app_dir(tmp_path, hub_name)
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    try:
        with running_workers(app_dir, connection_string, tmp_path, count=2) as workers:
            async with DurableOrchestrationClient(hub) as client:
                ids = [await client.start_new("slow_sequence", f"kill-{i}", f"n{i}") for i in range(INSTANCES)]
                await wait_for_progress(client, ids)
                workers.processes[0].send_signal(signal.SIGKILL)
                workers.processes[0].wait(timeout=10)
                statuses = await asyncio.gather(*(client.wait_for_completion(i, timeout=180) for i in ids))
        for index, status in enumerate(statuses):
            assert status.runtime_status == OrchestrationRuntimeStatus.Completed, workers.log_tail()
            assert status.output == [f"Hello n{index}-{step}!" for step in range(4)]
    finally:
        await hub.delete()
        await account.close()


async def test_killing_a_worker_that_claimed_its_own_starts_loses_none(tmp_path: Path, connection_string: str) -> None:
    """A queue-triggered starter in the only worker: the worker owns every partition, so it claims each start
    it makes (stored invisible, run with no receive). Killed with them claimed and running, those starts
    must reappear for the next worker after their visibility timeout, and every instance complete once."""
    hub_name = unique_hub_name("Claim")
    app_dir = make_app_dir(tmp_path, hub_name)
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    queue = start_queue_name(hub_name)
    try:
        await account.queues.create_queue(queue)
        with running_workers(app_dir, connection_string, tmp_path, count=1) as workers:
            await wait_for_all_leases(workers.logs, partitions=4)
            ids = [f"claimed-{i}" for i in range(INSTANCES)]
            for index, instance_id in enumerate(ids):
                order = {"orchestrator": "slow_sequence", "id": instance_id, "input": f"n{index}"}
                await account.queues.send(
                    queue, base64.b64encode(json.dumps(order).encode()).decode(), visibility_timeout=0
                )
            async with DurableOrchestrationClient(hub) as client:
                await wait_for_progress(client, ids, every_started=True)
                workers.processes[0].send_signal(signal.SIGKILL)
                workers.processes[0].wait(timeout=10)
                workers.start(1)
                statuses = await asyncio.gather(*(client.wait_for_completion(i, timeout=180) for i in ids))
        for index, status in enumerate(statuses):
            assert status.runtime_status == OrchestrationRuntimeStatus.Completed, workers.log_tail()
            assert status.output == [f"Hello n{index}-{step}!" for step in range(4)]
    finally:
        await account.queues.delete_queue(queue)
        await hub.delete()
        await account.close()
