"""W1-W5 on durable-azure: one function per workload run, each on a fresh hub and worker.

A run returns a `Measurement`: its figures, the storage requests it made by
kind (counted at the SDK pipeline, between the first start and the moment the
last episode finished, idle polling and lease renewals included) and how many
units of work those requests were for (orchestrations, activities, events).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench import apps, apps_sdk
from bench.harness import RunningHub, running_hub
from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.stats import counts_difference, median, percentile
from durable_azure.history import OrchestrationStatus
from durable_azure.worker import Registry


class WorkloadError(RuntimeError):
    """An orchestration of a workload did not complete: its figures would be meaningless."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    values: dict[str, float]
    requests: dict[str, int]
    units: int
    unit: str
    extra: dict[str, object] = field(default_factory=dict)


def _require_completed(run: RunningHub, instance_ids: list[str]) -> None:
    failed = [i for i in instance_ids if run.watcher.status(i) != OrchestrationStatus.Completed]
    if failed:
        raise WorkloadError(
            f"{len(failed)} instance(s) did not complete, e.g. {failed[0]}: {run.watcher.status(failed[0])}"
        )


def _add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for kind, value in more.items():
        total[kind] = total.get(kind, 0) + value


async def w1_throughput(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W1(a): `w1_instances` hello sequences started at once; orchestrations completed per second."""
    return await _hello_sequences(connection_string, timer, sizes)


async def w1_unmodified(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W1u: W1a with the orchestrator written against azure.durable_functions, run through the SDK's protocol."""
    return await _hello_sequences(connection_string, timer, sizes, registry=apps_sdk.registry())


async def _hello_sequences(
    connection_string: str, timer: EngineTimer, sizes: Sizes, registry: Registry | None = None
) -> Measurement:
    async with running_hub(connection_string, timer, registry=registry) as run:
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        starts = [run.client.start_new("hello_sequence") for _ in range(sizes.w1_instances)]
        instance_ids = list(await asyncio.gather(*starts))
        await run.watcher.wait_terminal(instance_ids, sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        _require_completed(run, instance_ids)
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
    return Measurement(
        values={
            "orchestrations_per_second": sizes.w1_instances / elapsed,
            "engine_cpu_seconds": timer.engine_cpu_seconds,
        },
        requests=requests,
        units=sizes.w1_instances,
        unit="orchestration",
    )


async def w1_latency(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W1(b): one hello sequence at a time on an otherwise idle worker; start_new -> Completed."""
    latencies: list[float] = []
    requests: dict[str, int] = {}
    async with running_hub(connection_string, timer) as run:
        for _ in range(sizes.w1_latency_samples):
            await asyncio.sleep(0.2)  # the worker is idle before each start
            before = run.account.counter.snapshot()
            start = time.perf_counter()
            instance_id = await run.client.start_new("hello_sequence")
            await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
            latencies.append(time.perf_counter() - start)
            _require_completed(run, [instance_id])
            await timer.wait_idle()
            _add_counts(requests, counts_difference(run.account.counter.snapshot(), before))
    return _latency_measurement(latencies, requests, "orchestration")


async def w2_fan_out(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W2: one orchestration calling `w2_activities` activities in parallel and summing them."""
    count = sizes.w2_activities
    async with running_hub(connection_string, timer) as run:
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        instance_id = await run.client.start_new("fan_out_fan_in", client_input=count)
        await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        _require_completed(run, [instance_id])
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
        status = await run.client.get_status(instance_id, show_input=False)
    if status is None or status.output != sum(2 * index for index in range(count)):
        raise WorkloadError(f"fan_out_fan_in returned {status.output if status else None!r}")
    return Measurement(
        values={
            "activities_per_second": count / elapsed,
            "episodes": float(len(timer.engine_calls)),
            "engine_cpu_seconds": timer.engine_cpu_seconds,
        },
        requests=requests,
        units=count,
        unit="activity",
    )


async def _started_and_waiting(run: RunningHub, event_count: int, timeout: float) -> str:
    instance_id = await run.client.start_new("event_loop", client_input=event_count)
    await run.watcher.wait_running([instance_id], timeout)
    await run.timer.wait_idle()
    return instance_id


async def w3_event_latency(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W3(a): raise_event -> Completed, for an instance already waiting for that one event."""
    latencies: list[float] = []
    requests: dict[str, int] = {}
    async with running_hub(connection_string, timer) as run:
        for _ in range(sizes.w3_latency_samples):
            instance_id = await _started_and_waiting(run, 1, sizes.run_timeout_seconds)
            await asyncio.sleep(0.2)  # the instance sits waiting on an idle worker
            latencies.append(await timed_last_event(run, instance_id, requests, sizes.run_timeout_seconds))
    return _latency_measurement(latencies, requests, "event")


async def timed_last_event(run: RunningHub, instance_id: str, requests: dict[str, int], timeout: float) -> float:
    """Seconds from raising the one event a waiting `event_loop` instance needs to its completion.

    The requests it took, until the episode has finished, are added to `requests`.
    """
    before = run.account.counter.snapshot()
    start = time.perf_counter()
    await run.client.raise_event(instance_id, apps.EVENT_NAME, 1)
    await run.watcher.wait_terminal([instance_id], timeout)
    latency = time.perf_counter() - start
    _require_completed(run, [instance_id])
    await run.timer.wait_idle()
    _add_counts(requests, counts_difference(run.account.counter.snapshot(), before))
    return latency


async def w3_event_throughput(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W3(b): how fast one looping instance consumes `w3_events` events already waiting in its queue.

    The events are raised (16 in flight) while no worker runs, so the figure is
    consumption alone, not the client's raise rate; then the worker starts and
    the clock runs until the instance completes. Requests counted: the worker's.
    """
    count = sizes.w3_events
    async with running_hub(connection_string, timer, start_worker=False) as run:
        instance_id = await run.client.start_new("event_loop", client_input=count)
        slots = asyncio.Semaphore(16)

        async def raise_one(value: int) -> None:
            async with slots:
                await run.client.raise_event(instance_id, "Tick", value)

        await asyncio.gather(*(raise_one(1) for _ in range(count)))
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        await run.worker.start()
        await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        _require_completed(run, [instance_id])
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
    return Measurement(
        values={"events_per_second": count / elapsed, "episodes": float(len(timer.engine_calls))},
        requests=requests,
        units=count,
        unit="event",
    )


def _latency_measurement(latencies: list[float], requests: dict[str, int], unit: str) -> Measurement:
    """Median and p95 of per-sample latencies, in ms, with the requests all samples made."""
    return Measurement(
        values={"latency_median_ms": median(latencies) * 1000, "latency_p95_ms": percentile(latencies, 0.95) * 1000},
        requests=requests,
        units=len(latencies),
        unit=unit,
    )
