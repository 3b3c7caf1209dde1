"""An unmodified app (`import azure.durable_functions`) on two worker processes; one is SIGKILLed mid-run.

The SDK's protocol adds nothing to what must survive a crash: the survivor
takes the dead worker's partitions, messages it had dequeued come back, and
every instance completes once with the right output.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.fault.harness import make_app_dir, running_workers, wait_for_progress

INSTANCES = 12
APP = Path(__file__).parent / "unmodified_app"


@pytest.mark.slow
async def test_killing_a_worker_of_an_unmodified_app_loses_no_instance(tmp_path: Path, connection_string: str) -> None:
    hub_name = unique_hub_name("Unmodified")
    app_dir = make_app_dir(tmp_path, hub_name, source=APP)
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=4)
    try:
        with running_workers(app_dir, connection_string, tmp_path, count=2) as workers:
            await _wait_for_both_to_own_partitions(tmp_path)
            async with DurableOrchestrationClient(hub) as client:
                # As the official client stores them: the input's JSON text, encoded once more.
                ids = [
                    await client.start_new("slow_sequence", f"unmodified-{i}", json.dumps(f"n{i}"))
                    for i in range(INSTANCES)
                ]
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


async def _wait_for_both_to_own_partitions(log_dir: Path) -> None:
    """The killed worker must own partitions (with instances on them) for the kill to test a takeover."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        logs = [path.read_text(errors="replace") for path in sorted(log_dir.glob("worker*.log"))]
        if len(logs) == 2 and all(re.search(r"lease\.acquired partition=", log) for log in logs):
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the two workers never both owned partitions")
