"""W4 (long history) and W5 (idle cost): the workloads about growth over time rather than throughput."""

from __future__ import annotations

import asyncio
import time

from bench.harness import running_hub
from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.stats import counts_difference, median
from bench.workloads import Measurement, WorkloadError

EDGE_EPISODES = 50


def _edge_medians(values: list[float]) -> tuple[float, float]:
    """Median of the first and of the last EDGE_EPISODES values (fewer when the run is short)."""
    edge = max(1, min(EDGE_EPISODES, len(values) // 2))
    return median(values[:edge]), median(values[-edge:])


async def w4_long_history(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W4: `w4_activities` sequential activities in one instance: engine CPU, and per-episode time early vs late.

    History grows by three events per episode; if the worker reloaded or replayed the whole history each
    episode, engine time per episode (and table.query requests) would grow with it.
    """
    count = sizes.w4_activities
    async with running_hub(connection_string, timer) as run:
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        instance_id = await run.client.start_new("long_sequence", client_input=count)
        await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
        status = await run.client.get_status(instance_id, show_input=False)
    if status is None or status.output != sum(2 * index for index in range(count)):
        raise WorkloadError(f"long_sequence returned {status.output if status else None!r}")
    engine_first, engine_last = _edge_medians([call.cpu_seconds for call in timer.engine_calls])
    episode_first, episode_last = _edge_medians(timer.episode_seconds)
    return Measurement(
        values={
            "engine_cpu_seconds": timer.engine_cpu_seconds,
            "episodes": float(len(timer.engine_calls)),
            "engine_ms_first_episodes": engine_first * 1000,
            "engine_ms_last_episodes": engine_last * 1000,
            "episode_ms_first_episodes": episode_first * 1000,
            "episode_ms_last_episodes": episode_last * 1000,
            "activities_per_second": count / elapsed,
            "final_history_events": float(timer.engine_calls[-1].history_length if timer.engine_calls else 0),
        },
        requests=requests,
        units=count,
        unit="activity",
    )


async def w5_idle(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W5: a started worker with nothing to do for `w5_idle_seconds`, then one hello sequence started in-process."""
    async with running_hub(connection_string, timer) as run:
        before = run.account.counter.snapshot()
        await asyncio.sleep(sizes.w5_idle_seconds)
        idle_requests = counts_difference(run.account.counter.snapshot(), before)
        start = time.perf_counter()
        instance_id = await run.client.start_new("hello_sequence")
        await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
        latency = time.perf_counter() - start
        if run.watcher.status(instance_id) is None or not run.watcher.status(instance_id).name == "Completed":
            raise WorkloadError(f"hello_sequence after idle ended {run.watcher.status(instance_id)}")
    idle_total = sum(idle_requests.values())
    return Measurement(
        values={
            "idle_requests_per_minute": idle_total / sizes.w5_idle_seconds * 60,
            "idle_seconds": sizes.w5_idle_seconds,
            "start_after_idle_ms": latency * 1000,
        },
        requests=idle_requests,
        units=1,
        unit="idle period",
    )
