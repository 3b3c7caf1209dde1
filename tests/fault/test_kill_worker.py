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
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name

APP = Path(__file__).parent / "app"
INSTANCES = 16


def _make_app_dir(tmp_path: Path, hub_name: str) -> Path:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(APP / "function_app.py", app_dir / "function_app.py")
    provider = {
        "partitionCount": 4,
        "controlQueueVisibilityTimeout": "00:00:15",
        "workItemQueueVisibilityTimeout": "00:00:15",
        "maxQueuePollingInterval": "00:00:01",
        "leaseInterval": "00:00:15",
        "leaseRenewInterval": "00:00:04",
        "leaseAcquireInterval": "00:00:02",
    }
    host = {"version": "2.0", "extensions": {"durableTask": {"hubName": hub_name, "storageProvider": provider}}}
    (app_dir / "host.json").write_text(json.dumps(host))
    return app_dir


def _start_worker(app_dir: Path, connection_string: str, log: Path) -> subprocess.Popen:
    environment = {**os.environ, "AzureWebJobsStorage": connection_string}
    return subprocess.Popen(
        [sys.executable, "-m", "durable_azure", "worker", "--app-dir", str(app_dir)],
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


async def test_killing_one_of_two_workers_loses_no_instance(tmp_path: Path, connection_string: str) -> None:
    hub_name = unique_hub_name("Fault")
    app_dir = _make_app_dir(tmp_path, hub_name)
    workers = [_start_worker(app_dir, connection_string, tmp_path / f"worker{i}.log") for i in range(2)]
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    try:
        async with DurableOrchestrationClient(hub) as client:
            ids = [await client.start_new("slow_sequence", f"kill-{i}", f"n{i}") for i in range(INSTANCES)]
            await _wait_for_progress(client, ids)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            statuses = await asyncio.gather(*(client.wait_for_completion(i, timeout=180) for i in ids))
        for index, status in enumerate(statuses):
            assert status.runtime_status == OrchestrationRuntimeStatus.Completed, _logs(tmp_path)
            assert status.output == [f"Hello n{index}-{step}!" for step in range(4)]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        await hub.delete()
        await account.close()


async def _wait_for_progress(client: DurableOrchestrationClient, ids: list[str]) -> None:
    """Kill only once work is really in flight on both workers: some instances running, none all done."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [await client.get_status(i) for i in ids]
        running = sum(s is not None and s.runtime_status == OrchestrationRuntimeStatus.Running for s in statuses)
        if running >= INSTANCES // 2:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the workers never started the instances")


def _logs(tmp_path: Path) -> str:
    return "\n".join(path.read_text()[-3000:] for path in sorted(tmp_path.glob("worker*.log")))
