"""The instance cache: its figures (entries, events, estimated bytes), which W8 reports, and the bound they drive.

No storage: entries are built from histories, as the worker builds them after
an episode. The worker extends a cached entry's event list in place and puts
the entry again; the estimate must come out the same as counting afresh.
"""

from __future__ import annotations

from datetime import UTC, datetime

from durable_azure.history import (
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestratorCompleted,
    OrchestratorStarted,
    TaskCompleted,
    TaskScheduled,
)
from durable_azure.orchestration import OrchestrationExecutor, OrchestrationState
from durable_azure.worker.instance_cache import EVENT_BYTES, INSTANCE_BYTES, CachedInstance, InstanceCache

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _entry(events: list[HistoryEvent]) -> CachedInstance:
    return CachedInstance(
        executor=OrchestrationExecutor({}), execution_id="e", state=OrchestrationState(events), events=events
    )


def _started(instance_id: str, payload: str = "") -> list[HistoryEvent]:
    instance = OrchestrationInstance(instance_id=instance_id, execution_id="e")
    start = ExecutionStarted(timestamp=NOW, orchestration_instance=instance, name="", input=payload)
    return [OrchestratorStarted(timestamp=NOW), start, OrchestratorCompleted(timestamp=NOW)]


def _episode(task_id: int, result: str) -> list[HistoryEvent]:
    return [
        OrchestratorStarted(timestamp=NOW),
        TaskCompleted(timestamp=NOW, task_scheduled_id=task_id, result=result),
        TaskScheduled(timestamp=NOW, event_id=task_id + 1, name="double", input="1"),
        OrchestratorCompleted(timestamp=NOW),
    ]


def test_an_entry_extended_in_place_counts_as_the_same_history_counted_afresh():
    extended, afresh = InstanceCache(), InstanceCache()
    events = _started("a", payload="x" * 50)
    extended.put("a", _entry(events))
    for task_id in range(3):
        events.extend(_episode(task_id, result="y" * 100))
        extended.put("a", _entry(events))
    afresh.put("a", _entry(list(events)))

    assert extended.event_count == afresh.event_count == len(events)
    assert extended.estimated_bytes == afresh.estimated_bytes
    assert extended.estimated_bytes >= INSTANCE_BYTES + len(events) * EVENT_BYTES + 50 + 3 * 100
    extended.evict("a")
    assert (len(extended), extended.event_count, extended.estimated_bytes) == (0, 0, 0)


def test_the_least_recently_used_instances_go_first_when_the_estimate_exceeds_the_bound():
    probe = InstanceCache()
    probe.put("a", _entry(_started("a", payload="z" * 10)))
    one_instance = probe.estimated_bytes
    cache = InstanceCache(max_bytes=3 * one_instance)
    for name in ("a", "b", "c"):
        cache.put(name, _entry(_started(name, payload="z" * 10)))
    assert cache.get("a") is not None  # now the most recently used
    cache.put("d", _entry(_started("d", payload="z" * 10)))

    assert [name in cache for name in "abcd"] == [True, False, True, True]
    assert cache.estimated_bytes == 3 * one_instance


def test_payloads_count_by_their_length():
    small, large = InstanceCache(), InstanceCache()
    small.put("a", _entry(_started("a", payload="1")))
    large.put("a", _entry(_started("a", payload="1" * 100_001)))
    assert large.estimated_bytes - small.estimated_bytes == 100_000
