"""rewind_history: which rows become GenericEvent markers, and which children are rewound too."""

from __future__ import annotations

from datetime import UTC, datetime

from durable_azure.client.rewind import rewind_history
from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    GenericEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorCompleted,
    OrchestratorStarted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
)

T = datetime(2024, 5, 1, tzinfo=UTC)

FAILED_HISTORY = [
    OrchestratorStarted(timestamp=T),
    ExecutionStarted(
        timestamp=T, orchestration_instance=OrchestrationInstance(instance_id="p", execution_id="e"), name="p"
    ),
    TaskScheduled(event_id=0, timestamp=T, name="ok"),
    TaskScheduled(event_id=1, timestamp=T, name="bad"),
    SubOrchestrationInstanceCreated(event_id=2, timestamp=T, name="child", instance_id="p-child"),
    OrchestratorCompleted(timestamp=T),
    TaskCompleted(timestamp=T, task_scheduled_id=0, result="1"),
    TaskFailed(timestamp=T, task_scheduled_id=1, reason="boom"),
    SubOrchestrationInstanceFailed(timestamp=T, task_scheduled_id=2, reason="child boom"),
    ExecutionCompleted(timestamp=T, orchestration_status=OrchestrationStatus.Failed, result='"boom"'),
]


def test_failure_rows_become_markers_in_place() -> None:
    rewound = rewind_history(FAILED_HISTORY, "fixed")
    assert len(rewound.events) == len(FAILED_HISTORY)
    markers = [index for index, event in enumerate(rewound.events) if isinstance(event, GenericEvent)]
    assert markers == [3, 7, 8, 9]
    assert rewound.rewritten_count == 4
    assert all(rewound.events[index].data == "Rewound: fixed" for index in markers)
    assert rewound.events[3].event_id == 1
    kept = [event for index, event in enumerate(rewound.events) if index not in markers]
    assert kept == [event for index, event in enumerate(FAILED_HISTORY) if index not in markers]


def test_failed_children_are_named_and_their_creation_kept() -> None:
    rewound = rewind_history(FAILED_HISTORY, "fixed")
    assert rewound.failed_sub_orchestration_ids == ["p-child"]
    assert isinstance(rewound.events[4], SubOrchestrationInstanceCreated)


def test_a_history_without_failures_is_unchanged() -> None:
    healthy = FAILED_HISTORY[:7]
    rewound = rewind_history(healthy, "nothing to do")
    assert rewound.events == healthy
    assert rewound.rewritten_count == 0
    assert rewound.failed_sub_orchestration_ids == []
