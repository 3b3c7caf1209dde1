"""The printed table: per workload its medians, requests by kind, Azurite bound, DBOS ratio; then the targets."""

from __future__ import annotations

import json
import math
from typing import Any

LOWER_IS_BETTER = ("latency_median_ms", "idle_requests_per_minute")


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _plural(unit: str) -> str:
    return unit[:-1] + "ies" if unit.endswith("y") else unit + "s"


def _bound_text(bound: dict[str, Any], unit: str) -> str:
    text = f"mix rate {_number(bound['mix_requests_per_second'])} requests/s"
    if "fraction" in bound:
        text += f" = {_number(bound['bound_units_per_second'])} {_plural(unit)}/s; ours is {bound['fraction']:.0%}"
    else:
        text += " (latency workload: no throughput fraction)"
    if not bound["counter_matches_plan"]:
        text += "  [counter disagreed with the planned mix]"
    return text


def _workload_lines(key: str, result: dict[str, Any]) -> list[str]:
    lines = [f"{key}  {result['title']}  (medians of {len(result['runs'])} run(s))"]
    lines += [f"    {name:28} {_number(value)}" for name, value in result["median"].items()]
    kinds = ", ".join(f"{kind} {_number(count)}" for kind, count in sorted(result["requests"].items()))
    lines.append(f"    {'storage requests':28} {_number(result['requests_total'])}: {kinds}")
    lines.append(f"    {'requests per ' + result['unit']:28} {_number(result['requests_per_unit'])}")
    bound = result.get("bound")
    if bound:
        lines.append(f"    {'Azurite bound':28} {_bound_text(bound, result['unit'])}")
        deep = bound.get("at_depth")
        if deep:
            standing = f"{_number(deep['average_standing_messages'])} messages standing"
            if round(deep["average_standing_messages"]) != deep["standing_messages"]:
                # The deletes needed a bigger backlog than the workload's own (bench/bound.py, "Depth").
                standing += f"; the workload's average is {deep['standing_messages']}"
            lines.append(f"    Azurite bound at the workload's depth ({standing}): {_bound_text(deep, result['unit'])}")
    peer = result.get("peer")
    if peer:
        headline = result["headline"]
        better = "lower is better" if headline in LOWER_IS_BETTER else "higher is better"
        lines.append(
            f"    {'DBOS peer':28} {headline} {_number(peer['median'].get(headline, math.nan))}; "
            f"ours / DBOS = {_number(peer['ratio'])} ({better})"
        )
    return lines


def render(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"durable-azure benchmark ({'quick' if meta['quick'] else 'full'}), Python {meta['python']}, "
        f"{meta['cpu_count']} CPUs, load average at start {meta['load_average_at_start'][0]:.2f}",
        "",
    ]
    for key, result in report["workloads"].items():
        lines += [*_workload_lines(key, result), ""]
    if report.get("peer_error"):
        lines += [f"DBOS peer: {report['peer_error']}", ""]
    lines += _two_paths(report["workloads"])
    lines.append("Targets")
    for target in report["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        lines.append(f"    {target['id']} {verdict:12} {target['measured']:58} target: {target['target']}")
    for key, paths in report.get("profiles", {}).items():
        lines.append(f"profile {key}: {paths}")
    lines.append(f"total {meta['duration_seconds']:.0f} s")
    return "\n".join(lines)


def _two_paths(workloads: dict[str, Any]) -> list[str]:
    """Native and unmodified side by side, where both ran: what the SDK's full replay costs."""
    pairs = [
        ("W1a", "W1u", "orchestrations_per_second", "orchestrations/s"),
        ("W4", "W4u", "engine_cpu_seconds", "s of engine CPU"),
        ("W4", "W4u", "engine_ms_last_episodes", "ms of engine CPU per late episode"),
        ("W4", "W4u", "activities_per_second", "activities/s"),
    ]
    lines = []
    for native, unmodified, figure, unit in pairs:
        if native in workloads and unmodified in workloads:
            ours = workloads[native]["median"].get(figure)
            theirs = workloads[unmodified]["median"].get(figure)
            lines.append(f"    {native} vs {unmodified}: {_number(ours)} native, {_number(theirs)} unmodified {unit}")
    return ["Native vs unmodified (azure.durable_functions)", *lines, ""] if lines else []


def _finite(value: Any) -> Any:
    """JSON has no NaN: figures that could not be measured become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(_finite(report), indent=2) + "\n"
