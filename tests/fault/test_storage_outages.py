"""Storage that goes away: stopped for 10 s mid-run, or killed (losing its last writes) and restarted.

Each test has an Azurite of its own, on its own data folder, with two worker
processes on it. While work is in flight the emulator stops (SIGTERM: it saves
its data) for 10 s, or dies (SIGKILL: the last ~5 s of acknowledged writes are
lost, as a storage-account failover can lose them), then comes back on the
same ports and data. Before the kill, the test waits until Azurite has saved
the instances' creation: an instance whose every trace storage lost (its row
and its start message) cannot be completed by anyone, so the crash is staged
mid-run, after the starts, while activities, timers and events are in
flight. Every worker must keep running and every instance must complete with
the right output and a consistent history. After the kill, that takes the
repair sweep: messages whose sends were lost, and histories that lost
episodes whose messages were consumed, leave work in flight that nothing
would complete.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azurite import Azurite, temporary_azurite
from durable_azure.client import DurableOrchestrationClient
from tests.conftest import unique_hub_name
from tests.fault.harness import (
    Mix,
    check_outcomes,
    make_app_dir,
    raise_events,
    running_workers,
    start_workload,
    wait_for_all,
    wait_until_saved,
)

MIX = Mix(
    sequences=40, fan_outs=1, fan_out_width=60, event_waiters=30, timers=30, parents=30, pause=0.5, timer_seconds=8
)


async def _run_through(tmp_path: Path, azurite: Azurite, interrupt: str) -> dict[str, int]:
    """Start the workload, interrupt storage once work is in flight, restart it, check every instance."""
    hub_name = unique_hub_name("Outage")
    app_dir = make_app_dir(tmp_path, hub_name)
    connection_string = azurite.connection_string
    async with StorageAccount.from_connection_string(connection_string) as account:
        hub = TaskHub(account, hub_name, partition_count=4)
        await hub.create_if_not_exists()
        with running_workers(app_dir, connection_string, tmp_path, count=2) as workers:
            async with DurableOrchestrationClient(hub) as client:
                began = time.monotonic()
                expected = await start_workload(client, MIX, interrupt)
                await wait_until_saved(azurite.location, since=time.time())
                await asyncio.sleep(1.0)  # work goes on; the writes since Azurite's last save will be lost
                stopped = time.monotonic()
                if interrupt == "killed":
                    azurite.kill()
                else:
                    azurite.stop()
                await asyncio.sleep(10)
                azurite.start()
                outage = time.monotonic() - stopped
                print(f"\nstorage {interrupt} {stopped - began:.1f} s into the run, for {outage:.1f} s")
                await raise_events(client, expected)
                statuses = await wait_for_all(client, expected, timeout=240)
            assert workers.are_running(), workers.log_tail()
        problems = await check_outcomes(hub, expected, statuses)
        assert problems == [], "\n".join(problems[:20]) + workers.log_tail()
        await hub.delete()
    print(f"workers: {workers.counts()}")
    return workers.counts()


@pytest.mark.slow
async def test_storage_stopped_for_ten_seconds_mid_run(tmp_path: Path) -> None:
    with temporary_azurite("durable-azure-outage-") as azurite:
        await _run_through(tmp_path, azurite, "stopped")


@pytest.mark.slow
async def test_storage_killed_losing_its_last_writes_then_restarted(tmp_path: Path) -> None:
    with temporary_azurite("durable-azure-crash-") as azurite:
        await _run_through(tmp_path, azurite, "killed")
