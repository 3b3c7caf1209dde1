"""Timer firing lateness: how long after its scheduled second a 1-second timer's function starts.

`measure_timer_lateness(account)` runs one TimerListener (schedule `* * * * * *`, so no status blob) on the
given account for about ten seconds and returns, per firing, the seconds between the occurrence it fired
and the moment the function started. That covers the wait's wake-up, the occurrence's record on the lock
blob (one storage request) and the hand-over to the function's thread. Target (issue 11): median under 1 s.

Run alone: `python -m bench.timer_lateness` (starts its own Azurite).
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.stats import counts_difference
from bench.workloads import Measurement, WorkloadError
from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.functions.indexing import InvocationServices, TriggeredFunction, binding_spec
from durable_azure.functions.triggers.timer import TimerListener
from durable_azure.functions.urls import ManagementUrls


async def measure_timer_lateness(account: StorageAccount, *, seconds: float = 10.0) -> list[float]:
    """Lateness samples (seconds) of a 1-second timer run for `seconds` on `account` (its own host id)."""
    samples: list[float] = []
    listener: TimerListener | None = None

    def tick() -> None:
        started = datetime.datetime.now(datetime.UTC)
        occurrence = listener.next_occurrence if listener is not None else None
        if occurrence is not None:
            samples.append((started - occurrence).total_seconds())

    trigger = binding_spec("lateness", {"type": "timerTrigger", "name": "timer", "schedule": "* * * * * *"})
    function = TriggeredFunction(name="lateness", function=tick, trigger=trigger, bindings=())
    client = DurableOrchestrationClient(TaskHub(account, "BenchTimerUnused"))

    async def client_for(task_hub: str | None, connection_name: str | None) -> DurableOrchestrationClient:
        return client

    services = InvocationServices(
        client=client,
        client_for=client_for,
        management=ManagementUrls(base_url="http://127.0.0.1:7071", task_hub="BenchTimerUnused", connection_name=""),
        account_for=lambda connection_name: account,
        host_id=f"bench-timer-{uuid.uuid4().hex[:12]}",
    )
    listener = TimerListener(function, services)
    await listener.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await listener.stop()
        await client.close()
    return samples


async def w9_timer_lateness(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W9: a 1-second timer for `w9_seconds`; median and worst lateness of its firings, and their requests."""
    async with StorageAccount.from_connection_string(connection_string) as account:
        before = account.counter.snapshot()
        samples = await measure_timer_lateness(account, seconds=sizes.w9_seconds)
        requests = counts_difference(account.counter.snapshot(), before)
    if not samples:
        raise WorkloadError("the 1-second timer never fired")
    ordered = sorted(samples)
    return Measurement(
        values={
            "lateness_median_ms": statistics.median(ordered) * 1000,
            "lateness_p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
            "lateness_max_ms": ordered[-1] * 1000,
            "firings": float(len(ordered)),
        },
        requests=requests,
        units=len(ordered),
        unit="firing",
    )


async def _main() -> None:
    from durable_azure.azurite import Azurite

    with tempfile.TemporaryDirectory(prefix="bench-timer-") as folder:
        server = Azurite(Path(folder))
        server.start()
        try:
            async with StorageAccount.from_connection_string(server.connection_string) as account:
                started = time.monotonic()
                samples = await measure_timer_lateness(account)
                elapsed = time.monotonic() - started
        finally:
            server.stop()
    print(f"{len(samples)} firings in {elapsed:.1f} s; lateness median {statistics.median(samples) * 1000:.1f} ms, "
          f"max {max(samples) * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(_main())
