"""RetryOptions and retried activities / sub-orchestrations, driven from histories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from durable_azure import serialization
from durable_azure.errors import TaskFailedError
from durable_azure.history import OrchestrationStatus, TimerCreated
from durable_azure.orchestration import (
    CreateSubOrchestrationAction,
    CreateTimerAction,
    OrchestrationExecutor,
    RetryOptions,
    ScheduleTaskAction,
)
from durable_azure.orchestration.actions import activity_input
from tests.orchestration.builders import (
    INSTANCE_ID,
    START,
    orchestrator_started,
    run_to_end,
    start,
    sub_orchestration_failed,
    task_completed,
    task_failed,
    timer_fired,
)


def retried(context):
    options = RetryOptions(**context.get_input())
    try:
        result = yield context.call_activity_with_retry("Flaky", options, "payload")
    except TaskFailedError as error:
        return {"gave_up": error.reason}
    return {"result": result}


def retried_child(context):
    options = RetryOptions(1000, 2)
    result = yield context.call_sub_orchestrator_with_retry("child", options, {"n": 1})
    return result


ORCHESTRATORS: dict[str, Any] = {"retried": retried, "retried_child": retried_child}


def failing(times: int):
    """An activity that fails its first `times` calls."""
    calls = {"count": 0}

    def flaky(value: Any) -> Any:
        calls["count"] += 1
        if calls["count"] <= times:
            raise RuntimeError(f"failure {calls['count']}")
        return f"ok after {calls['count']}"

    return {"Flaky": flaky}


def timer_delays(history) -> list[timedelta]:
    """Each retry timer's delay, measured from the episode that created it."""
    return [event.fire_at - event.timestamp for event in history if isinstance(event, TimerCreated)]


def test_retry_options_validation_and_json():
    with pytest.raises(ValueError, match="first_retry_interval"):
        RetryOptions(0, 3)
    with pytest.raises(ValueError, match="max_number_of_attempts"):
        RetryOptions(1000, 0)
    with pytest.raises(ValueError, match="backoff_coefficient"):
        RetryOptions(1000, 3, backoff_coefficient=0.5)
    options = RetryOptions(5000, 3)
    assert options.first_retry_interval_in_milliseconds == 5000
    assert options.max_number_of_attempts == 3
    assert options.to_json() == {"firstRetryIntervalInMilliseconds": 5000, "maxNumberOfAttempts": 3}
    full = RetryOptions(1000, 4, 2.0, 3000, 60000)
    assert full.to_json() == {
        "firstRetryIntervalInMilliseconds": 1000,
        "maxNumberOfAttempts": 4,
        "backoffCoefficient": 2.0,
        "maxRetryIntervalInMilliseconds": 3000,
        "retryTimeoutInMilliseconds": 60000,
    }
    with pytest.raises(AttributeError):
        options.max_number_of_attempts = 5


def test_retry_options_delays():
    options = RetryOptions(1000, 10, backoff_coefficient=2.0, max_retry_interval_in_milliseconds=5000)
    assert [options.delay_after(attempt).total_seconds() for attempt in range(1, 6)] == [1, 2, 4, 5, 5]


def test_success_after_two_failures_uses_backoff_timers_between_attempts():
    options = {"first_retry_interval_in_milliseconds": 1000, "max_number_of_attempts": 5, "backoff_coefficient": 3.0}
    run = run_to_end(ORCHESTRATORS, start("retried", options), failing(2))
    assert run.output == {"result": "ok after 3"}
    assert timer_delays(run.history) == [timedelta(seconds=1), timedelta(seconds=3)]
    # attempt, timer, attempt, timer, attempt: each consumes the next task id
    assert [result.actions[0].id for result in run.results[:-1]] == [0, 1, 2, 3, 4]


def test_gives_up_after_max_attempts_with_the_last_failure():
    options = {"first_retry_interval_in_milliseconds": 500, "max_number_of_attempts": 3}
    run = run_to_end(ORCHESTRATORS, start("retried", options), failing(10))
    assert run.output == {"gave_up": "ValueError: failure 3"}
    assert timer_delays(run.history) == [timedelta(milliseconds=500)] * 2


def test_max_retry_interval_caps_the_delay():
    options = {
        "first_retry_interval_in_milliseconds": 1000,
        "max_number_of_attempts": 4,
        "backoff_coefficient": 10.0,
        "max_retry_interval_in_milliseconds": 2500,
    }
    run = run_to_end(ORCHESTRATORS, start("retried", options), failing(10))
    assert timer_delays(run.history) == [timedelta(seconds=1), timedelta(seconds=2.5), timedelta(seconds=2.5)]


def test_retry_timeout_stops_retrying_before_attempts_run_out():
    # Attempt 1 fails at t=1s (delay 10s -> 11s <= 15s), attempt 2 fails at t=3s (delay 10s -> 13s),
    # attempt 3 fails at t=5s: 5s + 10s = 15s is not beyond the timeout, attempt 4 fails at t=7s: 17s > 15s.
    options = {
        "first_retry_interval_in_milliseconds": 10000,
        "max_number_of_attempts": 10,
        "retry_timeout_in_milliseconds": 15000,
    }
    run = run_to_end(ORCHESTRATORS, start("retried", options), failing(10))
    assert run.output == {"gave_up": "ValueError: failure 4"}
    assert len(timer_delays(run.history)) == 3


def test_retry_history_replays_identically():
    options = {"first_retry_interval_in_milliseconds": 1000, "max_number_of_attempts": 5, "backoff_coefficient": 2.0}
    cached = run_to_end(ORCHESTRATORS, start("retried", options), failing(3))
    fresh = run_to_end(ORCHESTRATORS, start("retried", options), failing(3), fresh_replay=True)
    assert cached.results == fresh.results


def test_retry_actions_from_explicit_history():
    executor = OrchestrationExecutor(ORCHESTRATORS)
    options = {"first_retry_interval_in_milliseconds": 2000, "max_number_of_attempts": 2}
    first = executor.execute([], start("retried", options))
    assert first.actions == (ScheduleTaskAction(id=0, name="Flaky", input=activity_input('"payload"')),)
    history = list(first.new_history)
    failed = executor.execute(history, [orchestrator_started(1), task_failed(0, "nope", 1)])
    fire_at = START + timedelta(seconds=3)
    assert failed.actions == (CreateTimerAction(id=1, fire_at=fire_at),)
    history += list(failed.new_history)
    again = executor.execute(history, [orchestrator_started(3), timer_fired(1, fire_at, 3)])
    assert again.actions == (ScheduleTaskAction(id=2, name="Flaky", input=activity_input('"payload"')),)
    history += list(again.new_history)
    done = executor.execute(history, [orchestrator_started(4), task_completed(2, 42)])
    assert serialization.loads(done.output) == {"result": 42}


def test_sub_orchestration_retry_uses_a_new_child_id_per_attempt_and_fails_at_the_end():
    executor = OrchestrationExecutor(ORCHESTRATORS)
    first = executor.execute([], start("retried_child"))
    assert first.actions == (
        CreateSubOrchestrationAction(id=0, name="child", instance_id=f"{INSTANCE_ID}:0", input='{"n": 1}'),
    )
    history = list(first.new_history)
    failed = executor.execute(history, [orchestrator_started(1), sub_orchestration_failed(0)])
    timer = failed.actions[0]
    history += list(failed.new_history)
    again = executor.execute(history, [orchestrator_started(2), timer_fired(timer.id, timer.fire_at, 2)])
    assert again.actions[0].instance_id == f"{INSTANCE_ID}:2"
    history += list(again.new_history)
    final = executor.execute(history, [orchestrator_started(3), sub_orchestration_failed(2, "still broken")])
    assert final.status is OrchestrationStatus.Failed
    assert serialization.loads(final.output) == "Orchestrator function 'retried_child' failed: still broken \n trace"


def test_the_official_sdks_retry_options_are_accepted() -> None:
    import azure.durable_functions as official

    from durable_azure.orchestration.retry import as_retry_options

    options = as_retry_options(official.RetryOptions(1000, 3))
    assert (options.first_retry_interval_in_milliseconds, options.max_number_of_attempts) == (1000, 3)
    with pytest.raises(TypeError, match="retry_options must be RetryOptions"):
        as_retry_options({"first": 1})
