"""Runs every workload several times, the Azurite bound for each mix, the DBOS peer; returns one JSON-able dict."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import targets
from bench.bound import MixRate, measure_mix
from bench.harness import bench_azurite
from bench.instruments import EngineTimer
from bench.peer import run_peer
from bench.profiles import profile_workloads
from bench.sizes import Sizes
from bench.stats import median, median_counts, ratio
from bench.timer_lateness import w9_timer_lateness
from bench.workloads import (
    Measurement,
    w1_latency,
    w1_throughput,
    w1_unmodified,
    w2_fan_out,
    w3_event_latency,
    w3_event_throughput,
)
from bench.workloads_entities import w7_many_entities, w7_one_entity
from bench.workloads_long import w4_long_history, w4_unmodified, w5_idle
from bench.workloads_queue import w6_at_w1_scale, w6_queue_trigger
from bench.workloads_waiting import w8_waiting_instances

Workload = Callable[[str, EngineTimer, Sizes], Awaitable[Measurement]]


def shallow(sizes: Sizes) -> int:
    """Most workloads keep a few messages in their queues at a time: no bound at depth beyond the usual one."""
    return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """One workload: its function, title, headline figure, whether the Azurite bound applies to it, and its depth.

    `standing_messages` is how many messages the workload keeps in its queues on
    average; Azurite's queue requests slow down with every stored message, so a
    workload with a backlog also gets a bound measured at that depth.
    """

    key: str
    title: str
    function: Workload
    headline: str
    throughput: bool
    repeated: bool = True
    standing_messages: Callable[[Sizes], int] = shallow
    # At most this many of the sizes' warm-up runs (None: all of them).
    max_warmup_runs: int | None = None

    def warmup_runs(self, sizes: Sizes) -> int:
        if not self.repeated:
            return 0
        return sizes.warmup_runs if self.max_warmup_runs is None else min(sizes.warmup_runs, self.max_warmup_runs)


SPECS = (
    Spec(
        key="W1a",
        title="hello sequence, N at once",
        function=w1_throughput,
        headline="orchestrations_per_second",
        throughput=True,
    ),
    Spec(
        key="W1u",
        title="W1a, the app unmodified (azure.durable_functions through its protocol)",
        function=w1_unmodified,
        headline="orchestrations_per_second",
        throughput=True,
    ),
    Spec(key="W1b", title="hello sequence alone", function=w1_latency, headline="latency_median_ms", throughput=False),
    # Soon after W1a: its rate is compared with W1a's of the same run (target P8), and the machine's speed drifts.
    Spec(
        key="W6",
        title="orchestrations started by a queue trigger",
        function=w6_queue_trigger,
        headline="messages_per_second",
        throughput=True,
        standing_messages=Sizes.w6_standing_messages,
    ),
    Spec(
        key="W6s",
        title="W6 at W1a's scale (as many messages as W1a's orchestrations)",
        function=w6_at_w1_scale,
        headline="messages_per_second",
        throughput=True,
    ),
    Spec(
        key="W2",
        title="fan-out/fan-in",
        function=w2_fan_out,
        headline="activities_per_second",
        throughput=True,
        standing_messages=Sizes.w2_standing_messages,
    ),
    Spec(key="W3a", title="event latency", function=w3_event_latency, headline="latency_median_ms", throughput=False),
    Spec(
        key="W3b",
        title="events into one instance",
        function=w3_event_throughput,
        headline="events_per_second",
        throughput=True,
    ),
    # One warm-up: W4's targets are engine CPU and request counts, not throughput, and each run takes 10-30 s.
    Spec(
        key="W4",
        title="long history",
        function=w4_long_history,
        headline="activities_per_second",
        throughput=True,
        max_warmup_runs=1,
    ),
    # One run, no warm-up: the SDK replays the whole history every episode, so 1,000 steps take minutes of
    # CPU (quadratic), and the figure is that cost, far beyond run-to-run noise.
    Spec(
        key="W4u",
        title="W4, the app unmodified (azure.durable_functions through its protocol)",
        function=w4_unmodified,
        headline="activities_per_second",
        throughput=True,
        repeated=False,
    ),
    Spec(
        key="W7a",
        title="signals to one counter entity",
        function=w7_one_entity,
        headline="operations_per_second",
        throughput=True,
        standing_messages=Sizes.w7_standing_messages,
    ),
    Spec(
        key="W7b",
        title="signals to many counter entities",
        function=w7_many_entities,
        headline="operations_per_second",
        throughput=True,
        standing_messages=Sizes.w7b_standing_messages,
    ),
    Spec(
        key="W5",
        title="idle worker",
        function=w5_idle,
        headline="idle_requests_per_minute",
        throughput=False,
        repeated=False,
    ),
    # One run, no warm-up: its figure is the lateness of each of a 1-second timer's firings, not a rate.
    Spec(
        key="W9",
        title="timer firing lateness",
        function=w9_timer_lateness,
        headline="lateness_median_ms",
        throughput=False,
        repeated=False,
        max_warmup_runs=0,
    ),
    # One run, no warm-up: starting 10,000 instances takes one to two minutes on Azurite, and its figures are
    # memory and counts more than a rate.
    Spec(
        key="W8",
        title="instances waiting on an event",
        function=w8_waiting_instances,
        headline="running_per_second",
        throughput=True,
        repeated=False,
    ),
)


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def _run_workload(spec: Spec, connection_string: str, timer: EngineTimer, sizes: Sizes) -> dict[str, Any]:
    """Warm-up runs, then timed runs, each followed at once by the Azurite bound for its own request mix.

    Pairing matters on a shared VM: the machine's speed drifts by tens of percent
    within minutes (the bounds after three W1a runs, seconds apart, were 175, 206
    and 204 orchestrations/s), so a bound measured once, after all
    runs, compares each run with a different machine. Each run's fraction is its
    own throughput over the bound measured seconds later; the report gives the
    median of those fractions.
    """
    repeats = sizes.repeats if spec.repeated else 1
    warmups = spec.warmup_runs(sizes)
    for index in range(warmups):
        started = time.perf_counter()
        await spec.function(connection_string, timer, sizes)
        elapsed = time.perf_counter() - started
        _progress(f"{spec.key} warm-up {index + 1}/{warmups} ({elapsed:.1f} s, not counted)")
    runs: list[Measurement] = []
    run_bounds: list[list[MixRate]] = []
    for index in range(repeats):
        started = time.perf_counter()
        runs.append(await spec.function(connection_string, timer, sizes))
        elapsed = time.perf_counter() - started
        run_bounds.append(await _mix_rates(connection_string, runs[-1].requests, sizes, standing_messages=0))
        _progress(
            f"{spec.key} run {index + 1}/{repeats}: {runs[-1].values[spec.headline]:.1f} {spec.headline} "
            f"({elapsed:.1f} s); Azurite bound after it: {_best(run_bounds[-1]).requests_per_second:.0f} requests/s"
        )
    requests = median_counts([run.requests for run in runs])
    total = median([sum(run.requests.values()) for run in runs])
    names = list(runs[0].values)
    result: dict[str, Any] = {
        "title": spec.title,
        "headline": spec.headline,
        "runs": [run.values for run in runs],
        "median": {name: median([run.values[name] for run in runs]) for name in names},
        "unit": runs[0].unit,
        "units": runs[0].units,
        "requests": requests,
        "requests_total": total,
        "requests_per_unit": total / runs[0].units,
    }
    result["bound"] = _paired_bound(spec, sizes, runs, run_bounds)
    standing_messages = spec.standing_messages(sizes)
    if standing_messages > 0:
        at_depth = await _mix_rates(connection_string, requests, sizes, standing_messages=standing_messages)
        result["bound"]["at_depth"] = {
            "standing_messages": standing_messages,
            **_bound_summary(at_depth, sizes),
            **_in_units(spec, result["median"][spec.headline], _best(at_depth), result["requests_per_unit"]),
        }
    return result


async def _mix_rates(
    connection_string: str, requests: dict[str, float], sizes: Sizes, *, standing_messages: int
) -> list[MixRate]:
    return [
        await measure_mix(connection_string, requests, sizes.bound_requests, concurrency, standing_messages)
        for concurrency in sizes.bound_concurrencies
    ]


def _best(rates: list[MixRate]) -> MixRate:
    return max(rates, key=lambda mix: mix.requests_per_second)


def _bound_summary(rates: list[MixRate], sizes: Sizes) -> dict[str, Any]:
    best = _best(rates)
    return {
        "mix_requests_per_second": best.requests_per_second,
        "rates_by_concurrency": dict(
            zip(sizes.bound_concurrencies, (m.requests_per_second for m in rates), strict=True)
        ),
        "counter_matches_plan": all(mix.counter_matches for mix in rates),
        "average_standing_messages": best.average_standing_messages,
    }


def _in_units(spec: Spec, headline: float, best: MixRate, requests_per_unit: float) -> dict[str, float]:
    if not spec.throughput:
        return {}
    bound_units = best.requests_per_second / requests_per_unit
    return {"bound_units_per_second": bound_units, "fraction": ratio(headline, bound_units)}


def _paired_bound(spec: Spec, sizes: Sizes, runs: list[Measurement], run_bounds: list[list[MixRate]]) -> dict[str, Any]:
    """Medians over the runs of each run's own bound, and of each run's fraction of it."""
    per_run = []
    for run, rates in zip(runs, run_bounds, strict=True):
        requests_per_unit = sum(run.requests.values()) / run.units
        in_units = _in_units(spec, run.values[spec.headline], _best(rates), requests_per_unit)
        per_run.append({**_bound_summary(rates, sizes), **in_units})
    bound: dict[str, Any] = {
        "mix_requests_per_second": median([b["mix_requests_per_second"] for b in per_run]),
        "rates_by_concurrency": {
            concurrency: median([b["rates_by_concurrency"][concurrency] for b in per_run])
            for concurrency in sizes.bound_concurrencies
        },
        "counter_matches_plan": all(b["counter_matches_plan"] for b in per_run),
        "average_standing_messages": median([b["average_standing_messages"] for b in per_run]),
        "runs": per_run,
    }
    if spec.throughput:
        bound["bound_units_per_second"] = median([b["bound_units_per_second"] for b in per_run])
        bound["fraction"] = median([b["fraction"] for b in per_run])
    return bound


def _add_peer(results: dict[str, dict[str, Any]], peer: dict[str, Any]) -> None:
    for key, runs in peer.get("runs", {}).items():
        ours = results.get(key)
        if ours is None:
            continue
        peer_median = {name: median([run[name] for run in runs]) for name in runs[0]}
        headline = ours["headline"]
        ours["peer"] = {
            "name": "DBOS Transact (SQLite)",
            "runs": runs,
            "median": peer_median,
            "ratio": ratio(ours["median"][headline], peer_median.get(headline, float("nan"))),
        }


def _meta(sizes: Sizes, quick: bool) -> dict[str, Any]:
    return {
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "quick": quick,
        "sizes": dataclasses.asdict(sizes),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


async def run_all(
    sizes: Sizes,
    *,
    quick: bool,
    only: set[str] | None,
    with_peer: bool,
    profile_dir: Path | None,
    azurite_debug_log: Path | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {"meta": _meta(sizes, quick)}
    results: dict[str, dict[str, Any]] = {}
    timer = EngineTimer()
    with bench_azurite(azurite_debug_log) as azurite, timer.installed():
        for spec in SPECS:
            if only and spec.key not in only:
                continue
            results[spec.key] = await _run_workload(spec, azurite.connection_string, timer, sizes)
        if profile_dir is not None:
            _progress(f"profiling W1a and W4 into {profile_dir}")
            report["profiles"] = await profile_workloads(azurite.connection_string, timer, sizes, profile_dir)
    if with_peer:
        _progress("running the DBOS peer (W1-W3) in a subprocess")
        peer = await asyncio.to_thread(run_peer, sizes, sizes.run_timeout_seconds * 3)
        report["peer_error"] = peer.get("error")
        _add_peer(results, peer)
    report["workloads"] = results
    report["targets"] = targets.evaluate(results)
    report["meta"]["duration_seconds"] = time.perf_counter() - started
    return report
