"""W1-W3 on DBOS Transact with its SQLite system database: the peer, run in its own process by `peer.py`.

`python -m bench.peer_dbos --sizes JSON --database DIR` prints one JSON object
(per workload, a list of per-run figures) on its last stdout line. DBOS keeps
global state (one DBOS instance per process, a registry of decorated
functions, background threads), so it never runs inside the bench process.

The workloads have the shapes of `bench/apps.py`, written the way DBOS's docs
write them: steps called from a workflow for W1, a queue of steps for the
fan-out (DBOS's documented way to run steps in parallel; no concurrency limit),
`DBOS.send` / `DBOS.recv` for events. Every other DBOS setting is its default
(queue and notification polling every 1 s on SQLite, which is what bounds its
W3(a) latency).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dbos import DBOS

TOPIC = "Tick"
READY = "ready"
_fan_out_queue: Any = None


@DBOS.step()
def say_hello(name: str) -> str:
    return f"Hello {name}!"


@DBOS.step()
def double(value: int) -> int:
    return value * 2


@DBOS.workflow()
def hello_sequence() -> list[str]:
    return [say_hello("Tokyo"), say_hello("Seattle"), say_hello("London")]


@DBOS.workflow()
def fan_out_fan_in(count: int) -> int:
    handles = [_fan_out_queue.enqueue(double, index) for index in range(count)]
    return sum(handle.get_result() for handle in handles)


@DBOS.workflow()
def event_loop(count: int) -> int:
    DBOS.set_event(READY, True)
    total = 0
    for _ in range(count):
        total += DBOS.recv(TOPIC, timeout_seconds=300)
    return total


def _percentile_95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def w1_throughput(instances: int) -> dict[str, float]:
    start = time.perf_counter()
    handles = [DBOS.start_workflow(hello_sequence) for _ in range(instances)]
    for handle in handles:
        handle.get_result()
    return {"orchestrations_per_second": instances / (time.perf_counter() - start)}


def w1_latency(samples: int) -> dict[str, float]:
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        DBOS.start_workflow(hello_sequence).get_result()
        latencies.append(time.perf_counter() - start)
        time.sleep(0.2)
    return {
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p95_ms": _percentile_95(latencies) * 1000,
    }


def w2_fan_out(activities: int) -> dict[str, float]:
    start = time.perf_counter()
    result = DBOS.start_workflow(fan_out_fan_in, activities).get_result()
    elapsed = time.perf_counter() - start
    if result != sum(2 * index for index in range(activities)):
        raise RuntimeError(f"DBOS fan_out_fan_in returned {result!r}")
    return {"activities_per_second": activities / elapsed}


def _waiting(count: int) -> Any:
    handle = DBOS.start_workflow(event_loop, count)
    DBOS.get_event(handle.get_workflow_id(), READY, timeout_seconds=60)
    return handle


def w3_event_latency(samples: int) -> dict[str, float]:
    latencies = []
    for _ in range(samples):
        handle = _waiting(1)
        time.sleep(0.2)
        start = time.perf_counter()
        DBOS.send(handle.get_workflow_id(), 1, topic=TOPIC)
        handle.get_result()
        latencies.append(time.perf_counter() - start)
    return {
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p95_ms": _percentile_95(latencies) * 1000,
    }


def w3_event_throughput(events: int) -> dict[str, float]:
    handle = _waiting(events)
    workflow_id = handle.get_workflow_id()
    start = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: DBOS.send(workflow_id, 1, topic=TOPIC), range(events)))
    if handle.get_result() != events:
        raise RuntimeError("DBOS event_loop lost events")
    return {"events_per_second": events / (time.perf_counter() - start)}


def run(sizes: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
    plan = {
        "W1a": lambda: w1_throughput(sizes["w1_instances"]),
        "W1b": lambda: w1_latency(sizes["w1_latency_samples"]),
        "W2": lambda: w2_fan_out(sizes["w2_activities"]),
        "W3a": lambda: w3_event_latency(sizes["w3_latency_samples"]),
        "W3b": lambda: w3_event_throughput(sizes["w3_events"]),
    }
    results: dict[str, list[dict[str, float]]] = {}
    for name, workload in plan.items():
        for _ in range(sizes.get("warmup_runs", 0)):  # untimed, as for our workloads
            workload()
        results[name] = [workload() for _ in range(sizes["repeats"])]
    return results


def main() -> None:
    global _fan_out_queue
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", required=True, help="JSON object of bench.sizes.Sizes fields")
    parser.add_argument("--database", required=True, type=Path, help="folder for the SQLite system database")
    arguments = parser.parse_args()
    url = f"sqlite:///{arguments.database / 'dbos-system.sqlite'}"
    DBOS(config={"name": "durable-azure-bench-peer", "system_database_url": url, "log_level": "WARNING"})
    DBOS.launch()
    _fan_out_queue = DBOS.register_queue("fan_out")
    try:
        results = run(json.loads(arguments.sizes))
    finally:
        DBOS.destroy()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
