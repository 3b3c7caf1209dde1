"""The history codec against DTFx-shaped JSON: every event kind round-trips, and DTFx's own spelling parses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from durable_azure.history import (
    EVENT_CLASSES,
    EventType,
    ExecutionCompleted,
    ExecutionStarted,
    FailureDetails,
    OrchestrationInstance,
    OrchestrationStatus,
    ParentInstance,
    TaskFailed,
    TimerFired,
    from_json,
    from_wire,
    to_json,
    to_wire,
)

WHEN = datetime(2026, 11, 26, 4, 29, 5, 304673, tzinfo=UTC)


@pytest.mark.parametrize("event_type", list(EVENT_CLASSES))
def test_every_event_kind_round_trips_through_json_and_wire(event_type: EventType) -> None:
    event = EVENT_CLASSES[event_type](event_id=7, timestamp=WHEN)
    assert from_json(to_json(event)) == event
    assert from_wire(to_wire(event)) == event
    assert to_json(event)["EventType"] == int(event_type)


def test_nested_objects_and_enums_take_the_dtfx_shapes() -> None:
    started = ExecutionStarted(
        timestamp=WHEN,
        orchestration_instance=OrchestrationInstance(instance_id="child", execution_id="e2"),
        parent_instance=ParentInstance(
            name="parent",
            orchestration_instance=OrchestrationInstance(instance_id="p", execution_id="e1"),
            task_schedule_id=3,
        ),
        name="hello",
        input='"x"',
        tags={"team": "a"},
    )
    shape = to_json(started)
    assert shape["Timestamp"] == "2026-11-26T04:29:05.3046730Z"
    assert shape["OrchestrationInstance"] == {"InstanceId": "child", "ExecutionId": "e2"}
    assert shape["ParentInstance"]["TaskScheduleId"] == 3
    assert from_json(shape) == started
    failed = ExecutionCompleted(
        orchestration_status=OrchestrationStatus.Failed,
        failure_details=FailureDetails(error_type="ValueError", error_message="boom"),
    )
    assert to_json(failed)["OrchestrationStatus"] == 3
    assert from_json(to_json(failed)) == failed


def test_dtfx_spellings_parse_enum_names_json_strings_and_seven_digit_times() -> None:
    row = {
        "EventType": "TaskFailed",
        "EventId": 4,
        "IsPlayed": "True",
        "Timestamp": "2026-11-26T02:42:17.5762600Z",
        "TaskScheduledId": 1,
        "Reason": "ValueError: boom",
        "FailureDetails": '{"ErrorType": "ValueError", "ErrorMessage": "boom", "StackTrace": null}',
        "SomethingNewer": "ignored",
    }
    event = from_wire(row)
    assert isinstance(event, TaskFailed)
    assert event.is_played is True and event.task_scheduled_id == 1
    assert event.failure_details == FailureDetails(error_type="ValueError", error_message="boom")
    assert event.timestamp == datetime(2026, 11, 26, 2, 42, 17, 576260, tzinfo=UTC)
    timer = from_wire({"EventType": 11, "TimerId": 2, "FireAt": "2026-11-27T00:00:00Z", "ParentInstance": "null"})
    assert timer == TimerFired(timer_id=2, fire_at=datetime(2026, 11, 27, tzinfo=UTC))
