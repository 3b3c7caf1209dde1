"""W8: many instances started and left waiting on an external event, in one worker.

What it shows: how fast instances start and reach Running (their first
episode committed, waiting on the event), what they cost in memory (the
process's RSS, and a traced breakdown per cached instance), how many the
instance cache holds, and what an event costs when its instance is still
cached versus when the worker must reload its history and replay it.

Phases, on one fresh hub and worker:

1. start `w8_instances` instances of `event_loop` (one event each), 64 starts
   in flight, and wait until all are Running. Requests are counted over this
   phase, so "requests per instance" is the cost of a start. RSS is read
   before and after (after a garbage collection);
2. raise the event to `w8_events` of them, one at a time: half to the newest
   instances (still cached), half to the oldest, evicted first so that they
   are reloaded at every size (the default bound has already evicted them in a
   full run). Each must complete;
3. with tracemalloc on, start WARM_SAMPLE more, then `w8_memory_sample` more
   (bench/memory.py), and divide what the latter still hold by their number.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.harness import RunningHub, running_hub
from bench.instruments import EngineTimer
from bench.memory import MemoryTrace, history_bytes, resident_bytes
from bench.sizes import Sizes
from bench.stats import counts_difference, median
from bench.workloads import Measurement, timed_last_event

START_IN_FLIGHT = 64
# Traced instances started before the mark (see MemoryTrace): one per starter, enough to open every connection
# the sample will use and to turn `urlsplit`'s 128-entry cache over a few times.
WARM_SAMPLE = START_IN_FLIGHT
MEGABYTE = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class _Started:
    instance_ids: list[str]
    start_seconds: float  # until the last start_new returned
    running_seconds: float  # until the last instance was Running


async def w8_waiting_instances(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W8: see the module docstring."""
    count = sizes.w8_instances
    async with running_hub(connection_string, timer) as run:
        cache = run.worker.instance_cache
        resident_before = resident_bytes()
        timer.reset()
        before = run.account.counter.snapshot()
        started = await _start_waiting(run, "w8", count, sizes.run_timeout_seconds)
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
        resident_after = resident_bytes()
        cache_entries, cache_events, cache_estimate = len(cache), cache.event_count, cache.estimated_bytes
        events = await _raise_events(run, started.instance_ids, sizes)
        memory = await _traced_sample(run, sizes)
    return Measurement(
        values={
            "instances": float(count),
            "starts_per_second": count / started.start_seconds,
            "running_per_second": count / started.running_seconds,
            "seconds_to_all_running": started.running_seconds,
            "rss_before_mb": resident_before / MEGABYTE,
            "rss_after_mb": resident_after / MEGABYTE,
            "rss_growth_bytes_per_instance": (resident_after - resident_before) / count,
            "cache_entries": float(cache_entries),
            "cache_events": float(cache_events),
            "cache_estimated_mb": cache_estimate / MEGABYTE,
            **memory,
            **events,
        },
        requests=requests,
        units=count,
        unit="instance",
    )


async def _start_waiting(run: RunningHub, prefix: str, count: int, timeout: float) -> _Started:
    """Start `count` event_loop instances (ids `{prefix}-00000`...), START_IN_FLIGHT at a time, until all Running.

    A fixed set of starters takes ids from a shared iterator, so the bench holds
    64 coroutines, not one per instance (10,000 pending coroutines would show
    in the RSS figure).
    """
    instance_ids = [f"{prefix}-{index:05d}" for index in range(count)]
    running = asyncio.create_task(run.watcher.wait_running(instance_ids, timeout))
    to_start = iter(instance_ids)

    async def starter() -> None:
        for instance_id in to_start:
            await run.client.start_new("event_loop", instance_id=instance_id, client_input=1)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(starter() for _ in range(min(START_IN_FLIGHT, count))))
        start_seconds = time.perf_counter() - start
        await running
    finally:
        running.cancel()
    return _Started(instance_ids=instance_ids, start_seconds=start_seconds, running_seconds=time.perf_counter() - start)


async def _raise_events(run: RunningHub, instance_ids: list[str], sizes: Sizes) -> dict[str, float]:
    """Phase 2: one event to each of the newest and the oldest instances; latency and requests per event."""
    cache = run.worker.instance_cache
    half = max(1, sizes.w8_events // 2)
    newest, oldest = instance_ids[-half:], instance_ids[:half]
    newest_cached = sum(1 for instance_id in newest if instance_id in cache)
    oldest_evicted_by_bound = sum(1 for instance_id in oldest if instance_id not in cache)
    for instance_id in oldest:
        cache.evict(instance_id)
    cached_ms, cached_requests = await _events_to(run, newest, sizes.run_timeout_seconds)
    reloaded_ms, reloaded_requests = await _events_to(run, oldest, sizes.run_timeout_seconds)
    return {
        "event_ms_cached": cached_ms,
        "event_ms_reloaded": reloaded_ms,
        "requests_per_event_cached": sum(cached_requests.values()) / len(newest),
        "requests_per_event_reloaded": sum(reloaded_requests.values()) / len(oldest),
        "history_queries_per_event_reloaded": reloaded_requests.get("table.query", 0) / len(oldest),
        "cached_of_newest": float(newest_cached),
        "evicted_by_bound_of_oldest": float(oldest_evicted_by_bound),
    }


async def _events_to(run: RunningHub, instance_ids: list[str], timeout: float) -> tuple[float, dict[str, int]]:
    """Median ms from raise_event to Completed, one instance at a time, and the requests all of them took."""
    requests: dict[str, int] = {}
    latencies = [await timed_last_event(run, instance_id, requests, timeout) for instance_id in instance_ids]
    return median(latencies) * 1000, requests


async def _traced_sample(run: RunningHub, sizes: Sizes) -> dict[str, float]:
    """Phase 3: bytes per cached instance, traced, by part of the code, with the history events' share."""
    count = sizes.w8_memory_sample
    cache = run.worker.instance_cache
    trace = MemoryTrace()
    trace.start()
    try:
        await _start_waiting(run, "w8-warm", min(count, WARM_SAMPLE), sizes.run_timeout_seconds)
        await run.timer.wait_idle()
        trace.mark()
        started = await _start_waiting(run, "w8-sample", count, sizes.run_timeout_seconds)
        await run.timer.wait_idle()
    finally:
        cost = trace.stop()
    entries = [entry for instance_id in started.instance_ids if (entry := cache.get(instance_id)) is not None]
    history = history_bytes(entry.events for entry in entries) / count
    per_instance = cost.instances_bytes / count
    figures = {
        "sample_cached": float(len(entries)),
        "cached_instance_bytes": per_instance,
        "history_bytes_per_instance": history,
        "beyond_history_bytes_per_instance": per_instance - history,
    }
    for group, size in cost.by_group.items():
        figures[f"traced_{group}_bytes_per_instance"] = size / count
    return figures
