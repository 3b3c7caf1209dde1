"""Storage that fails: 5 % of every kind of request, for each kind of fault, through a loopback proxy.

Two worker processes and the client reach Azurite only through the proxy,
which answers 503 ServerBusy (with Retry-After), 500 OperationTimedOut,
resets the connection before forwarding, forwards and then drops the answer
(the write happened, the client saw an error), or delays, each for 5 % of
every request kind. 200 orchestrations of the sample workloads must all
complete with the right output and consistent histories. The test prints
what the proxy injected and what the workers logged (copies dropped,
repairs), and how long the run took.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azurite import Azurite
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
)
from tests.fault.proxy import FaultPlan, FaultProxy, FaultProxyThread, ServicePorts

FAULT_RATE = float(os.environ.get("DURABLE_AZURE_FAULT_RATE", "0.05"))
FAULTS = ("busy", "timeout", "reset_before", "drop_after", "delay")


@pytest.mark.slow
async def test_every_instance_completes_under_five_percent_of_each_fault(
    tmp_path: Path, azurite: Azurite, connection_string: str
) -> None:
    hub_name = unique_hub_name("Faults")
    app_dir = make_app_dir(tmp_path, hub_name)
    plan = FaultPlan(rates=dict.fromkeys(FAULTS, FAULT_RATE), seed=7, delay_seconds=(0.2, 1.0))
    proxy = FaultProxy(ServicePorts.of_azurite(azurite), plan, is_paused=True)
    with FaultProxyThread(proxy) as faulty:
        async with StorageAccount.from_connection_string(connection_string) as direct:
            hub = TaskHub(direct, hub_name, partition_count=4)
            await hub.create_if_not_exists()
            faulty.resume()
            started = time.monotonic()
            try:
                with running_workers(app_dir, faulty.connection_string, tmp_path, count=2) as workers:
                    async with DurableOrchestrationClient.from_connection_string(
                        faulty.connection_string, hub_name
                    ) as client:
                        expected = await start_workload(client, Mix(), "f")
                        await raise_events(client, expected)
                        statuses = await wait_for_all(client, expected, timeout=600)
                    elapsed = time.monotonic() - started
                    assert workers.are_running(), workers.log_tail()
                faulty.pause()
                problems = await check_outcomes(hub, expected, statuses)
                assert problems == [], "\n".join(problems[:20]) + workers.log_tail()
                assert len(expected) == 200
                statistics = faulty.statistics()
                assert all(statistics.fault_count(fault) > 0 for fault in FAULTS) or FAULT_RATE == 0
                print(f"\n{len(expected)} orchestrations in {elapsed:.1f} s; proxy: {statistics.summary()}")
                print(f"workers: {workers.counts()}")
            finally:
                faulty.pause()
                await asyncio.sleep(0)
                await hub.delete()
