"""The benchmark harness's plumbing at a tiny size: every workload runs and every reported field is there.

Never asserts a timing: the figures depend on the machine. It asserts what a
reader of the printed table and the JSON relies on: each workload completed,
requests were counted by kind, each timed run got its own Azurite bound, the
bound's driver issued exactly the planned requests (on shallow queues, and for W2 also at W2's own depth), and
each target has a verdict.
"""

from __future__ import annotations

import json

from bench.report import render, to_json
from bench.runner import SPECS, run_all
from bench.sizes import TINY

WORKLOAD_FIELDS = {
    "title",
    "headline",
    "runs",
    "median",
    "unit",
    "units",
    "requests",
    "requests_total",
    "requests_per_unit",
    "bound",
}

DEPTH_FIELDS = {"standing_messages", "mix_requests_per_second", "bound_units_per_second", "fraction"}

WAITING_FIELDS = {
    "starts_per_second",
    "running_per_second",
    "rss_before_mb",
    "rss_after_mb",
    "rss_growth_bytes_per_instance",
    "cache_entries",
    "cache_events",
    "cache_estimated_mb",
    "cached_instance_bytes",
    "history_bytes_per_instance",
    "beyond_history_bytes_per_instance",
    "event_ms_cached",
    "event_ms_reloaded",
    "requests_per_event_cached",
    "requests_per_event_reloaded",
}


async def test_every_workload_reports_every_field(tmp_path):
    report = await run_all(TINY, quick=True, only=None, with_peer=False, profile_dir=None, azurite_debug_log=None)
    document = json.loads(to_json(report))

    assert set(document["workloads"]) == {spec.key for spec in SPECS}
    for key, result in document["workloads"].items():
        assert set(result) >= WORKLOAD_FIELDS, key
        assert result["requests_total"] > 0, key
        assert set(result["median"]) == set(result["runs"][0]), key
        assert result["bound"]["mix_requests_per_second"] > 0, key
        assert result["bound"]["counter_matches_plan"], key
        assert len(result["bound"]["runs"]) == len(result["runs"]), key  # each timed run has its own bound
    fan_out = document["workloads"]["W2"]["bound"]
    assert set(fan_out["at_depth"]) >= DEPTH_FIELDS
    assert fan_out["at_depth"]["standing_messages"] == TINY.w2_activities // 2
    assert fan_out["at_depth"]["average_standing_messages"] >= TINY.w2_activities // 2
    assert fan_out["at_depth"]["counter_matches_plan"]
    queue_started = document["workloads"]["W6"]
    assert queue_started["units"] == TINY.w6_messages
    assert {"queue.receive", "queue.delete"} <= set(queue_started["requests"])
    assert queue_started["bound"]["at_depth"]["standing_messages"] == TINY.w6_messages // 2
    assert document["workloads"]["W6s"]["units"] == TINY.w1_instances  # W6 at W1a's scale
    _check_entities(document["workloads"])
    deep = {"W2", "W6", "W7a", "W7b"}
    assert all("at_depth" not in result["bound"] for key, result in document["workloads"].items() if key not in deep)
    hello = document["workloads"]["W1a"]
    assert hello["units"] == TINY.w1_instances
    assert {"queue.send", "queue.receive", "queue.delete", "table.batch"} <= set(hello["requests"])
    assert hello["requests_per_unit"] == hello["requests_total"] / TINY.w1_instances
    long_history = document["workloads"]["W4"]["median"]
    assert long_history["warm_engine_ms_first_episodes"] > 0
    assert long_history["reference_step_ms_after_idle"] > 0
    assert "warmed" in next(target["measured"] for target in document["targets"] if target["id"] == "P5")
    _check_waiting_instances(document["workloads"]["W8"])
    timer = document["workloads"]["W9"]
    assert timer["units"] >= 1 and timer["median"]["firings"] == timer["units"]
    assert 0 <= timer["median"]["lateness_median_ms"] <= timer["median"]["lateness_max_ms"]
    assert [target["id"] for target in document["targets"]] == [f"P{n}" for n in range(1, 11)]
    assert all(isinstance(target["met"], bool) for target in document["targets"] if target["id"] != "P2")
    printed = render(report)
    assert all(f"{spec.key} " in printed for spec in SPECS)
    assert "requests per orchestration" in printed
    assert "Azurite bound at the workload's depth" in printed
    assert "Azurite bound at W2's depth" in printed  # P4's line
    assert "requests per instance" in printed  # W8's line


def _check_waiting_instances(result):
    """W8: every instance waited in the cache (TINY fits the bound); the events reached cached and reloaded ones."""
    figures = result["median"]
    assert set(figures) >= WAITING_FIELDS
    assert result["units"] == TINY.w8_instances
    assert figures["cache_entries"] == TINY.w8_instances
    assert figures["cache_events"] == 3 * TINY.w8_instances  # OrchestratorStarted, ExecutionStarted, its Completed
    assert figures["sample_cached"] == TINY.w8_memory_sample
    assert 0 < figures["history_bytes_per_instance"] < figures["cached_instance_bytes"]
    assert figures["rss_after_mb"] > 0
    assert figures["cached_of_newest"] == TINY.w8_events // 2
    assert figures["history_queries_per_event_reloaded"] == 1  # evicted: its history is read once, then replayed
    assert {"queue.send", "table.batch"} <= set(result["requests"])
    assert result["bound"]["fraction"] > 0


def _check_entities(workloads):
    """W7: every signal was applied (the run waits for the final counts), in batches, with its send counted."""
    one, many = workloads["W7a"], workloads["W7b"]
    assert one["units"] == TINY.w7_signals
    assert many["units"] == TINY.w7_entities * TINY.w7_signals_per_entity
    for result in (one, many):
        assert result["unit"] == "operation"
        assert result["median"]["send_requests_per_operation"] >= 1  # one queue send per signal
        assert result["median"]["requests_per_operation_with_send"] > result["requests_per_unit"]
        assert {"queue.receive", "queue.delete", "table.batch"} <= set(result["requests"])
        assert result["bound"]["at_depth"]["standing_messages"] == result["units"] // 2
    assert one["median"]["operations_per_episode"] > 1  # batched: fewer episodes than operations
