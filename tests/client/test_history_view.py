"""history_json: the HTTP API's history shape, built from events without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durable_azure.client.history_view import history_json
from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    FailureDetails,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorCompleted,
    OrchestratorStarted,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.orchestration.actions import activity_input

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


EVENTS = [
    OrchestratorStarted(timestamp=at(0)),
    ExecutionStarted(
        timestamp=at(0),
        orchestration_instance=OrchestrationInstance(instance_id="abc", execution_id="e1"),
        name="flow",
        version="",
        input='{"n": 1}',
    ),
    TaskScheduled(event_id=0, timestamp=at(0), name="ActivityA", input='"in-a"'),
    TaskScheduled(event_id=1, timestamp=at(0), name="StillRunning", input="2"),
    TimerCreated(event_id=2, timestamp=at(0), fire_at=at(60)),
    OrchestratorCompleted(timestamp=at(0)),
    OrchestratorStarted(timestamp=at(5)),
    TaskFailed(event_id=-1, timestamp=at(5), task_scheduled_id=0, reason="ValueError: no", details="trace"),
    TimerFired(event_id=-1, timestamp=at(60), timer_id=2, fire_at=at(60)),
    SubOrchestrationInstanceCreated(event_id=3, timestamp=at(60), name="child", instance_id="abc:3", input="null"),
    SubOrchestrationInstanceCompleted(event_id=-1, timestamp=at(61), task_scheduled_id=3, result='{"r": [1]}'),
    ExecutionCompleted(
        timestamp=at(62),
        orchestration_status=OrchestrationStatus.Failed,
        result='"boom"',
        failure_details=FailureDetails(error_type="ValueError", error_message="boom"),
    ),
]


def test_markers_are_dropped_and_completions_replace_their_scheduling_events() -> None:
    kinds = [entry["EventType"] for entry in history_json(EVENTS)]
    assert kinds == [
        "ExecutionStarted",
        "TaskScheduled",  # still running, so it stays
        "TimerCreated",
        "TaskFailed",
        "TimerFired",
        "SubOrchestrationInstanceCompleted",
        "ExecutionCompleted",
    ]


def test_execution_started_names_the_function_and_hides_plumbing() -> None:
    started = history_json(EVENTS)[0]
    assert started == {
        "EventType": "ExecutionStarted",
        "Timestamp": "2024-05-01T12:00:00.0000000Z",
        "FunctionName": "flow",
        "Input": {"n": 1},
        "Generation": 0,
    }


def test_a_completion_names_its_function_and_scheduled_time() -> None:
    failed = history_json(EVENTS)[3]
    assert failed["FunctionName"] == "ActivityA"
    assert failed["ScheduledTime"] == "2024-05-01T12:00:00.0000000Z"
    assert failed["Timestamp"] == "2024-05-01T12:00:05.0000000Z"
    assert (failed["Reason"], failed["Details"], failed["Input"]) == ("ValueError: no", "trace", "in-a")
    assert "TaskScheduledId" not in failed
    assert "EventId" not in failed


def test_results_appear_only_with_show_history_output() -> None:
    without = history_json(EVENTS)
    with_output = history_json(EVENTS, show_history_output=True)
    assert "Result" not in without[5] and "Result" not in without[6]
    assert with_output[5]["Result"] == {"r": [1]}
    assert with_output[5]["FunctionName"] == "child"
    assert with_output[5]["InstanceId"] == "abc:3"
    assert with_output[6]["Result"] == "boom"
    assert with_output[6]["OrchestrationStatus"] == "Failed"


def test_inputs_are_hidden_without_show_input_and_timer_ids_always() -> None:
    entries = history_json(EVENTS, show_input=False)
    assert not any("Input" in entry for entry in entries)
    assert entries[4] == {
        "EventType": "TimerFired",
        "Timestamp": "2024-05-01T12:01:00.0000000Z",
        "FireAt": "2024-05-01T12:01:00.0000000Z",
    }
    assert entries[1]["Name"] == "StillRunning"


def test_an_activity_input_stored_in_dtfx_parameter_array_shows_as_its_value() -> None:
    events = [
        TaskScheduled(event_id=0, timestamp=at(0), name="Wrapped", input=activity_input('{"n": 2}')),
        TaskScheduled(event_id=1, timestamp=at(0), name="Done", input=activity_input('"x"')),
        TaskCompleted(timestamp=at(1), task_scheduled_id=1, result='"ok"'),
    ]
    entries = history_json(events, show_input=True)
    assert entries[0]["Input"] == {"n": 2}  # still running: its TaskScheduled is shown
    assert entries[1]["FunctionName"] == "Done" and entries[1]["Input"] == "x"  # merged into its completion
