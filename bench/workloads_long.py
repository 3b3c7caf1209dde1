"""W4 (long history) and W5 (idle cost): the workloads about growth over time rather than throughput."""

from __future__ import annotations

import asyncio
import json
import math
import time

from bench import apps_sdk
from bench.harness import RunningHub, running_hub
from bench.instruments import EngineTimer, ReferenceInstance
from bench.sizes import Sizes
from bench.stats import counts_difference, median
from bench.workloads import Measurement, WorkloadError

EDGE_EPISODES = 50
IDLE_EFFECT_SAMPLES = 100


def _edge_medians(values: list[float]) -> tuple[float, float]:
    """Median of the first and of the last EDGE_EPISODES values (fewer when the run is short)."""
    edge = max(1, min(EDGE_EPISODES, len(values) // 2))
    return median(values[:edge]), median(values[-edge:])


async def w4_long_history(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W4: `w4_activities` sequential activities in one instance: engine CPU, and per-episode time early vs late.

    History grows by three events per episode; if the worker reloaded or replayed the whole history each
    episode, engine time per episode (and table.query requests) would grow with it.

    Two instances run one after the other on the same worker. The first is W4 as a user runs it: its
    requests, engine CPU and per-episode times are the "as run" figures. The second runs identically,
    except that before each timed engine call the timer steps a fixed-size reference instance, untimed, and
    after it steps it again, timed: that second figure shows how fast the machine was at that moment. Between
    two episodes the worker waits for Azurite's history append, which grows from 1-2 ms to 7-15 ms over
    the run because Azurite scans the partition on each insert; the longer this core sits idle, the more
    of the engine's code and data the CPU caches lose, and the slower the next call starts (the same
    engine step, with no storage at all, takes 20-30 us back to back and 100-200 us after a 7 ms sleep).
    The warmed figures remove that. The machine's own speed still moves by tens of percent from second to
    second (the reference step shows it), so flatness is judged on each warmed call divided by the reference
    step taken right after it: a fixed-size step cannot grow with history, so the ratio grows only if the
    engine's own work does.
    """
    count = sizes.w4_activities
    async with running_hub(connection_string, timer) as run:
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        instance_id = await _run_long_sequence(run, sizes)
        elapsed = time.perf_counter() - start
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
        as_run_calls, as_run_episodes = list(timer.engine_calls), list(timer.episode_seconds)
        status = await run.client.get_status(instance_id, show_input=False)
        timer.reset()
        timer.reference = ReferenceInstance()
        try:
            warm_instance_id = await _run_long_sequence(run, sizes)
            await timer.wait_idle()
        finally:
            timer.reference = None
        warm_calls = list(timer.engine_calls)
        warm_status = await run.client.get_status(warm_instance_id, show_input=False)
    for outcome in (status, warm_status):
        if outcome is None or outcome.output != sum(2 * index for index in range(count)):
            raise WorkloadError(f"long_sequence returned {outcome.output if outcome else None!r}")
    engine_first, engine_last = _edge_medians([call.cpu_seconds for call in as_run_calls])
    warm_first, warm_last = _edge_medians([call.cpu_seconds for call in warm_calls])
    references = [call.reference_cpu_seconds or math.nan for call in warm_calls]
    reference_first, reference_last = _edge_medians(references)
    ratios = [call.cpu_seconds / reference for call, reference in zip(warm_calls, references, strict=True)]
    ratio_first, ratio_last = _edge_medians(ratios)
    episode_first, episode_last = _edge_medians(as_run_episodes)
    back_to_back, after_idle = _idle_effect(idle_seconds=episode_last)
    return Measurement(
        values={
            "engine_cpu_seconds": sum(call.cpu_seconds for call in as_run_calls),
            "episodes": float(len(as_run_calls)),
            "engine_ms_first_episodes": engine_first * 1000,
            "engine_ms_last_episodes": engine_last * 1000,
            "warm_engine_ms_first_episodes": warm_first * 1000,
            "warm_engine_ms_last_episodes": warm_last * 1000,
            "warm_reference_ms_first_episodes": reference_first * 1000,
            "warm_reference_ms_last_episodes": reference_last * 1000,
            "warm_engine_per_reference_first_episodes": ratio_first,
            "warm_engine_per_reference_last_episodes": ratio_last,
            "episode_ms_first_episodes": episode_first * 1000,
            "episode_ms_last_episodes": episode_last * 1000,
            "reference_step_ms_back_to_back": back_to_back * 1000,
            "reference_step_ms_after_idle": after_idle * 1000,
            "activities_per_second": count / elapsed,
            "final_history_events": float(as_run_calls[-1].history_length if as_run_calls else 0),
        },
        requests=requests,
        units=count,
        unit="activity",
    )


async def w4_unmodified(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W4u: W4's long sequence written against azure.durable_functions, run through the SDK's protocol.

    Every episode hands the SDK the whole history, and the SDK replays the generator from its first line:
    engine CPU (the SDK's replay and ours of its reply) grows with history, where W4's stays flat. One
    instance, as run (no warmed pass: the growth is far beyond what the machine's drift could explain).
    """
    count = sizes.w4_activities
    async with running_hub(connection_string, timer, registry=apps_sdk.registry()) as run:
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        # The official client stores the input as JSON text encoded once more; the SDK decodes it back.
        instance_id = await run.client.start_new("long_sequence", client_input=json.dumps(count))
        await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        await timer.wait_idle()
        requests = counts_difference(run.account.counter.snapshot(), before)
        calls = list(timer.engine_calls)
        status = await run.client.get_status(instance_id, show_input=False)
    if status is None or status.output != sum(2 * index for index in range(count)):
        raise WorkloadError(f"long_sequence (unmodified) returned {status.output if status else None!r}")
    engine_first, engine_last = _edge_medians([call.cpu_seconds for call in calls])
    return Measurement(
        values={
            "engine_cpu_seconds": sum(call.cpu_seconds for call in calls),
            "episodes": float(len(calls)),
            "engine_ms_first_episodes": engine_first * 1000,
            "engine_ms_last_episodes": engine_last * 1000,
            "activities_per_second": count / elapsed,
        },
        requests=requests,
        units=count,
        unit="activity",
    )


def _idle_effect(*, idle_seconds: float) -> tuple[float, float]:
    """Median CPU of one fixed-size engine step back to back, and after sleeping as long as a late W4 episode.

    Run with the worker stopped, so nothing else runs in this process: the
    difference is what an idle gap alone costs the next engine call.
    """
    reference = ReferenceInstance()
    reference.step_cpu_seconds()  # the first step starts the instance
    back_to_back = [reference.step_cpu_seconds() for _ in range(IDLE_EFFECT_SAMPLES)]
    after_idle = [reference.step_cpu_seconds(idle_seconds=idle_seconds) for _ in range(IDLE_EFFECT_SAMPLES)]
    return median(back_to_back), median(after_idle)


async def _run_long_sequence(run: RunningHub, sizes: Sizes) -> str:
    instance_id = await run.client.start_new("long_sequence", client_input=sizes.w4_activities)
    await run.watcher.wait_terminal([instance_id], sizes.run_timeout_seconds)
    return instance_id


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
