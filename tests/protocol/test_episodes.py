"""Official-SDK orchestrators (`import azure.durable_functions`) replayed through the protocol, from histories."""

from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df

from durable_azure.history import (
    EventRaised,
    ExecutionResumed,
    ExecutionSuspended,
    ExecutionTerminated,
    OrchestrationStatus,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.orchestration import (
    CompleteOrchestrationAction,
    CreateSubOrchestrationAction,
    CreateTimerAction,
    ScheduleTaskAction,
)
from durable_azure.orchestration.actions import activity_input
from tests.protocol.driver import EXECUTION_ID, INSTANCE_ID, SdkInstance, at, official_client_input


def chain(context: df.DurableOrchestrationContext):
    city = context.get_input()["city"]
    first = yield context.call_activity("say_hello", city)
    second = yield context.call_activity("say_hello", "Seattle")
    return [first, second]


def test_a_chain_schedules_one_activity_per_episode_and_completes_with_the_output() -> None:
    instance = SdkInstance(chain, stored_input=official_client_input({"city": "Tokyo"}))
    first = instance.start()
    assert first.actions == (ScheduleTaskAction(id=0, name="say_hello", input=activity_input('"Tokyo"')),)
    assert first.status is OrchestrationStatus.Running
    second = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result='"Hello Tokyo"'), seconds=1)
    assert second.actions == (ScheduleTaskAction(id=1, name="say_hello", input=activity_input('"Seattle"')),)
    done = instance.episode(TaskCompleted(timestamp=at(2), task_scheduled_id=1, result='"Hello Seattle"'), seconds=2)
    assert done.status is OrchestrationStatus.Completed
    assert json.loads(done.output or "") == ["Hello Tokyo", "Hello Seattle"]


def test_the_trigger_payload_is_the_extensions() -> None:
    instance = SdkInstance(chain, stored_input=official_client_input({"city": "Tokyo"}))
    instance.start()
    instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result='"Hello Tokyo"'), seconds=1)
    payload = instance.calls[-1]
    assert payload["instanceId"] == INSTANCE_ID
    assert payload["input"] == '{"city": "Tokyo"}'  # the stored input decoded once: the official client's JSON text
    assert payload["isReplaying"] is True and payload["parentInstanceId"] is None
    assert (payload["upperSchemaVersion"], payload["upperSchemaVersionNew"]) == (1, 2)
    assert payload["longRunningTimerIntervalDuration"] == "3.00:00:00"
    assert payload["maximumShortTimerDuration"] == "6.00:00:00"
    history = payload["history"]
    assert [event["EventType"] for event in history] == [12, 0, 4, 13, 12, 5]
    assert [event["IsPlayed"] for event in history] == [True, True, True, True, False, False]
    assert all(event["Timestamp"].endswith("Z") for event in history)
    assert history[2]["Name"] == "say_hello" and history[2]["EventId"] == 0


def test_a_cached_executor_gives_the_same_episodes_as_fresh_ones() -> None:
    instance = SdkInstance(chain, stored_input=official_client_input({"city": "Oslo"}), cache_executor=True)
    instance.start()
    instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result='"a"'), seconds=1)
    done = instance.episode(TaskCompleted(timestamp=at(2), task_scheduled_id=1, result='"b"'), seconds=2)
    assert json.loads(done.output or "") == ["a", "b"]


def fan_out(context: df.DurableOrchestrationContext):
    tasks = [context.call_activity("square", n) for n in range(3)]
    results = yield context.task_all(tasks)
    return sum(results)


def test_fan_out_schedules_every_activity_at_once_and_fans_in_whatever_the_completion_order() -> None:
    instance = SdkInstance(fan_out)
    first = instance.start()
    assert [action.id for action in first.actions] == [0, 1, 2]
    assert [action.input for action in first.actions] == ['["0"]', '["1"]', '["2"]']  # type: ignore[attr-defined]
    instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=2, result="4"), seconds=1)
    done = instance.episode(
        TaskCompleted(timestamp=at(2), task_scheduled_id=0, result="0"),
        TaskCompleted(timestamp=at(2), task_scheduled_id=1, result="1"),
        seconds=2,
    )
    assert done.status is OrchestrationStatus.Completed and done.output == "5"


def approval(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(hours=1)
    timeout = context.create_timer(deadline)
    answer = context.wait_for_external_event("Approval")
    winner = yield context.task_any([answer, timeout])
    if winner == answer:
        timeout.cancel()
        return f"approved: {answer.result}"
    return "timed out"


def test_an_event_that_beats_its_timeout_cancels_the_timer_and_completes() -> None:
    instance = SdkInstance(approval)
    first = instance.start()
    assert first.actions == (CreateTimerAction(id=0, fire_at=at(3600)),)
    done = instance.episode(EventRaised(timestamp=at(5), name="Approval", input='"yes"'), seconds=5)
    assert done.status is OrchestrationStatus.Completed
    assert json.loads(done.output or "") == "approved: yes"


def test_a_timeout_that_fires_first_completes_the_other_way() -> None:
    instance = SdkInstance(approval)
    instance.start()
    done = instance.episode(TimerFired(timestamp=at(3600), timer_id=0, fire_at=at(3600)), seconds=3600)
    assert json.loads(done.output or "") == "timed out"


def parent(context: df.DurableOrchestrationContext):
    result = yield context.call_sub_orchestrator("child", {"n": 2})
    return result


def test_a_sub_orchestration_gets_the_extensions_default_id_and_its_input_encoded_once_more() -> None:
    instance = SdkInstance(parent)
    first = instance.start()
    assert first.actions == (
        CreateSubOrchestrationAction(
            id=0, name="child", instance_id=f"{EXECUTION_ID}:0", input=json.dumps('{"n": 2}'), version=None
        ),
    )
    done = instance.episode(
        SubOrchestrationInstanceCompleted(timestamp=at(1), task_scheduled_id=0, result='"done"'), seconds=1
    )
    assert json.loads(done.output or "") == "done"


def flaky(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=2)
    result = yield context.call_activity_with_retry("flaky", options, "x")
    return result


def _failed(task_id: int, seconds: float) -> TaskFailed:
    return TaskFailed(timestamp=at(seconds), task_scheduled_id=task_id, reason="boom", details="trace")


def test_retries_follow_dtfx_a_timer_after_every_failure_the_last_one_included() -> None:
    instance = SdkInstance(flaky)
    assert instance.start().actions == (ScheduleTaskAction(id=0, name="flaky", input=activity_input('"x"')),)
    first_retry = instance.episode(_failed(0, 1), seconds=1)
    assert first_retry.actions == (CreateTimerAction(id=1, fire_at=at(6)),)
    second = instance.episode(TimerFired(timestamp=at(6), timer_id=1, fire_at=at(6)), seconds=6)
    assert second.actions == (ScheduleTaskAction(id=2, name="flaky", input=activity_input('"x"')),)
    trailing = instance.episode(_failed(2, 7), seconds=7)
    assert trailing.actions == (CreateTimerAction(id=3, fire_at=at(7)),)  # due at once
    assert trailing.status is OrchestrationStatus.Running  # the SDK waits for DTFx's trailing timer
    done = instance.episode(TimerFired(timestamp=at(7), timer_id=3, fire_at=at(7)), seconds=7)
    assert done.status is OrchestrationStatus.Failed
    assert json.loads(done.output or "").startswith("Orchestrator function 'orchestrator' failed: boom")


def test_a_retry_that_succeeds_returns_its_result() -> None:
    instance = SdkInstance(flaky)
    instance.start()
    instance.episode(_failed(0, 1), seconds=1)
    instance.episode(TimerFired(timestamp=at(6), timer_id=1, fire_at=at(6)), seconds=6)
    done = instance.episode(TaskCompleted(timestamp=at(7), task_scheduled_id=2, result='"ok"'), seconds=7)
    assert json.loads(done.output or "") == "ok"


def counting(context: df.DurableOrchestrationContext):
    count = context.get_input() or 0
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
    if count < 3:
        context.continue_as_new(count + 1)
    return count


def test_continue_as_new_restarts_with_its_input_encoded_as_the_extension_stores_it() -> None:
    instance = SdkInstance(counting, stored_input=official_client_input(1))
    instance.start()
    result = instance.episode(TimerFired(timestamp=at(1), timer_id=0, fire_at=at(1)), seconds=1)
    assert result.status is OrchestrationStatus.ContinuedAsNew
    complete = result.actions[-1]
    assert isinstance(complete, CompleteOrchestrationAction)
    assert complete.status is OrchestrationStatus.ContinuedAsNew and complete.new_input == json.dumps("2")


def status_setter(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "one"})
    yield context.call_activity("step", None)
    context.set_custom_status(0)  # falsy: the SDK does not send it, so the status is cleared as on the original
    yield context.call_activity("step", None)
    return None


def test_custom_status_is_the_sdks_and_a_falsy_one_reads_as_none() -> None:
    instance = SdkInstance(status_setter)
    first = instance.start()
    assert json.loads(first.custom_status or "") == {"stage": "one"}
    second = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result="null"), seconds=1)
    assert second.custom_status is None


def renamed(context: df.DurableOrchestrationContext):
    yield context.call_activity("act", None)
    return "done"


def test_history_the_code_no_longer_matches_fails_as_non_deterministic() -> None:
    instance = SdkInstance(renamed)
    instance.start()
    instance.history[2] = TaskScheduled(event_id=0, timestamp=at(0), name="other")  # an older deployment's history
    result = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result="null"), seconds=1)
    assert result.status is OrchestrationStatus.Failed
    assert "Non-deterministic" in (result.output or "")


def raises_after_work(context: df.DurableOrchestrationContext):
    yield context.call_activity("first", None)
    raise ValueError("it went wrong")


def test_an_orchestrator_that_raises_fails_with_the_extensions_message() -> None:
    instance = SdkInstance(raises_after_work)
    instance.start()
    result = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result="null"), seconds=1)
    assert result.status is OrchestrationStatus.Failed
    assert json.loads(result.output or "") == "Orchestrator function 'orchestrator' failed: it went wrong"


def uncaught_activity_failure(context: df.DurableOrchestrationContext):
    yield context.call_activity("breaks", None)
    return "unreachable"


def test_an_uncaught_activity_failure_fails_the_orchestration_with_the_sdks_text() -> None:
    instance = SdkInstance(uncaught_activity_failure)
    instance.start()
    result = instance.episode(_failed(0, 1), seconds=1)
    assert result.status is OrchestrationStatus.Failed
    assert json.loads(result.output or "").startswith("Orchestrator function 'orchestrator' failed: boom")


def long_wait(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(days=10))
    return "woke"


def test_a_timer_beyond_six_days_is_split_by_the_sdk_into_three_day_chunks() -> None:
    instance = SdkInstance(long_wait)
    first = instance.start()
    assert first.actions == (CreateTimerAction(id=0, fire_at=at(3 * 86400)),)
    second = instance.episode(TimerFired(timestamp=at(3 * 86400), timer_id=0, fire_at=at(3 * 86400)), seconds=3 * 86400)
    assert second.actions == (CreateTimerAction(id=1, fire_at=at(6 * 86400)),)
    instance.episode(TimerFired(timestamp=at(6 * 86400), timer_id=1, fire_at=at(6 * 86400)), seconds=6 * 86400)
    last = instance.history[-2]  # the last chunk ends at the timer's own time
    assert isinstance(last, TimerCreated) and last.fire_at == at(10 * 86400)


def test_terminating_ends_the_instance_without_running_more_work() -> None:
    instance = SdkInstance(chain, stored_input=official_client_input({"city": "Tokyo"}))
    instance.start()
    result = instance.episode(ExecutionTerminated(timestamp=at(1), input='"stop"'), seconds=1)
    assert result.status is OrchestrationStatus.Terminated
    assert result.actions[:-1] == ()


def test_an_unknown_orchestrator_name_fails_as_on_the_native_path() -> None:
    instance = SdkInstance(chain, name="registered")
    instance.started = type(instance.started)(
        timestamp=at(0),
        orchestration_instance=instance.started.orchestration_instance,
        name="missing",
        version="",
    )
    result = instance.start()
    assert result.status is OrchestrationStatus.Failed
    assert "No orchestrator named 'missing'" in (result.output or "")


def test_a_suspended_instance_holds_what_arrives_until_it_is_resumed() -> None:
    instance = SdkInstance(approval)
    instance.start()
    held = instance.episode(
        ExecutionSuspended(timestamp=at(1), reason="hold"),
        EventRaised(timestamp=at(2), name="Approval", input='"yes"'),
        seconds=2,
    )
    assert held.status is OrchestrationStatus.Suspended
    assert [event["EventType"] for event in instance.calls[-1]["history"]][-2:] == [
        12,
        19,
    ]  # suspended; the event is not shown
    done = instance.episode(ExecutionResumed(timestamp=at(3), reason="go"), seconds=3)
    assert done.status is OrchestrationStatus.Completed
    assert json.loads(done.output or "") == "approved: yes"


def rounds(context: df.DurableOrchestrationContext):
    """Each round waits for "go" or a one-minute timeout; a round's unanswered wait stays behind."""
    for round_number in range(2):
        go = context.wait_for_external_event("go")
        timeout = context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
        winner = yield context.task_any([go, timeout])
        if winner == go:
            timeout.cancel()
            yield context.call_activity("after", round_number)
            return round_number
    return None


def test_an_event_goes_to_the_newest_waiter_as_the_sdk_gives_it() -> None:
    instance = SdkInstance(rounds)
    instance.start()
    instance.episode(TimerFired(timestamp=at(60), timer_id=0, fire_at=at(60)), seconds=60)  # round 0 timed out
    result = instance.episode(EventRaised(timestamp=at(70), name="go", input="null"), seconds=70)
    # The SDK gives "go" to round 1's wait (its newest) and schedules the activity; so must the shim.
    assert result.actions == (ScheduleTaskAction(id=2, name="after", input=activity_input("1")),)


def test_a_name_differing_only_in_case_is_the_same_activity_as_dtfx_compares() -> None:
    instance = SdkInstance(renamed)
    instance.start()
    instance.history[2] = TaskScheduled(event_id=0, timestamp=at(0), name="ACT")
    result = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result="null"), seconds=1)
    assert result.status is OrchestrationStatus.Completed


def first_come(context: df.DurableOrchestrationContext):
    """task_any again and again over the tasks still running (the SDK adds no action for the later ones)."""
    pending = [context.call_activity("work", n) for n in range(3)]
    order = []
    while pending:
        done = yield context.task_any(pending)
        pending.remove(done)
        order.append(done.result)
    return order


def test_repeated_task_any_over_running_tasks_completes_in_arrival_order() -> None:
    instance = SdkInstance(first_come)
    assert [action.id for action in instance.start().actions] == [0, 1, 2]
    instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=2, result='"c"'), seconds=1)
    instance.episode(TaskCompleted(timestamp=at(2), task_scheduled_id=0, result='"a"'), seconds=2)
    done = instance.episode(TaskCompleted(timestamp=at(3), task_scheduled_id=1, result='"b"'), seconds=3)
    assert done.status is OrchestrationStatus.Completed
    assert json.loads(done.output or "") == ["c", "a", "b"]


def parent_with_retry(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
    return (yield context.call_sub_orchestrator_with_retry("child", options, "in"))


def test_a_sub_orchestration_retried_gets_a_new_default_id_per_attempt() -> None:
    instance = SdkInstance(parent_with_retry)
    (first,) = instance.start().actions
    assert isinstance(first, CreateSubOrchestrationAction) and first.instance_id == f"{EXECUTION_ID}:0"
    failed = SubOrchestrationInstanceFailed(timestamp=at(1), task_scheduled_id=0, reason="child broke")
    (timer,) = instance.episode(failed, seconds=1).actions
    assert timer == CreateTimerAction(id=1, fire_at=at(2))
    (second,) = instance.episode(TimerFired(timestamp=at(2), timer_id=1, fire_at=at(2)), seconds=2).actions
    assert isinstance(second, CreateSubOrchestrationAction) and second.instance_id == f"{EXECUTION_ID}:2"
    done = instance.episode(
        SubOrchestrationInstanceCompleted(timestamp=at(3), task_scheduled_id=2, result='"ok"'), seconds=3
    )
    assert json.loads(done.output or "") == "ok"
