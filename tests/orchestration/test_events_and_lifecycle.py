"""Timers, external events, continue-as-new, terminate, suspend/resume, non-determinism, driven from histories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durable_azure import serialization
from durable_azure.history import (
    ContinueAsNew,
    ExecutionCompleted,
    OrchestrationStatus,
    TimerCreated,
)
from durable_azure.orchestration import (
    CompleteOrchestrationAction,
    CreateTimerAction,
    OrchestrationExecutor,
    ScheduleTaskAction,
)
from tests.orchestration.builders import (
    at,
    event_raised,
    orchestrator_completed,
    orchestrator_started,
    resumed,
    start,
    suspended,
    task_completed,
    task_scheduled,
    terminated,
    timer_created,
    timer_fired,
)


def sleeper(context):
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    return "woke"


def approval(context):
    """Races an event against a timer and cancels the timer when the event wins."""
    timer = context.create_timer(context.current_utc_datetime + timedelta(days=1))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner is event:
        timer.cancel()
        return {"approved": event.result, "timer_cancelled": timer.is_cancelled}
    return "timed out"


def cancels_then_continues(context):
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    timer.cancel()
    value = yield context.call_activity("Work")
    return [value, timer.is_completed, timer.is_cancelled]


def waits_twice(context):
    first = yield context.wait_for_external_event("Data")
    second = yield context.wait_for_external_event("data")
    return [first, second]


def waits_for_two_names(context):
    first = yield context.wait_for_external_event("A")
    second = yield context.wait_for_external_event("B")
    return {"A": first, "B": second}


def counter(context):
    """Counts to 3 across executions, carrying the count as input."""
    count = context.get_input()
    yield context.call_activity("Tick", count)
    if count < 3:
        context.continue_as_new(count + 1)
        return None
    return count


def waits_forever(context):
    yield context.wait_for_external_event("never")


ORCHESTRATORS: dict[str, Any] = {
    "sleeper": sleeper,
    "approval": approval,
    "cancels_then_continues": cancels_then_continues,
    "waits_twice": waits_twice,
    "waits_for_two_names": waits_for_two_names,
    "counter": counter,
    "waits_forever": waits_forever,
}


def execute(history, new_events):
    return OrchestrationExecutor(ORCHESTRATORS).execute(history, new_events)


def output_of(result) -> Any:
    return serialization.loads(result.output)


# -- timers --


def test_timer_is_created_and_fires():
    first = execute([], start("sleeper"))
    fire_at = at(3600)
    assert first.actions == (CreateTimerAction(id=0, fire_at=fire_at),)
    assert TimerCreated(event_id=0, timestamp=at(0), fire_at=fire_at) in first.new_history
    result = execute(list(first.new_history), [orchestrator_started(3600), timer_fired(0, fire_at, 3600)])
    assert output_of(result) == "woke"


def test_event_beats_timer_and_the_timer_is_cancelled():
    first = execute([], start("approval"))
    assert first.actions == (CreateTimerAction(id=0, fire_at=at(86400)),)
    history = list(first.new_history)
    result = execute(history, [orchestrator_started(60), event_raised("Approval", True, 60)])
    assert output_of(result) == {"approved": True, "timer_cancelled": True}


def test_timer_beats_event():
    history = [*start("approval"), timer_created(0, at(86400)), orchestrator_completed()]
    result = execute(history, [orchestrator_started(86400), timer_fired(0, at(86400), 86400)])
    assert output_of(result) == "timed out"


def test_cancelled_timer_firing_later_is_ignored():
    first = execute([], start("cancels_then_continues"))
    assert first.actions == (
        CreateTimerAction(id=0, fire_at=at(300)),
        ScheduleTaskAction(id=1, name="Work"),
    )
    history = list(first.new_history)
    fired = execute(history, [orchestrator_started(300), timer_fired(0, at(300), 300)])
    assert fired.actions == ()
    assert fired.status is OrchestrationStatus.Running
    history += list(fired.new_history)
    done = execute(history, [orchestrator_started(301), task_completed(1, "worked")])
    assert output_of(done) == ["worked", True, True]


def test_cancelling_a_completed_timer_raises_value_error():
    def cancels_twice(context):
        timer = context.create_timer(context.current_utc_datetime)
        yield timer
        try:
            timer.cancel()
        except ValueError as error:
            return str(error)
        return "no error"

    executor = OrchestrationExecutor({"cancels_twice": cancels_twice})
    first = executor.execute([], start("cancels_twice"))
    result = executor.execute(list(first.new_history), [orchestrator_started(1), timer_fired(0, at(0), 1)])
    assert "already completed" in output_of(result)


# -- external events --


def test_event_raised_before_anyone_waits_is_kept():
    result = execute([], [*start("waits_twice"), event_raised("Data", "early")])
    assert result.status is OrchestrationStatus.Running
    history = list(result.new_history)
    final = execute(history, [orchestrator_started(1), event_raised("Data", "later", 1)])
    assert output_of(final) == ["early", "later"]


def test_event_raised_after_the_wait_completes_it():
    first = execute([], start("waits_twice"))
    assert first.actions == ()
    history = list(first.new_history)
    second = execute(history, [orchestrator_started(1), event_raised("DATA", "one")])
    assert second.status is OrchestrationStatus.Running
    history += list(second.new_history)
    final = execute(history, [orchestrator_started(2), event_raised("data", "two")])
    assert output_of(final) == ["one", "two"]


def test_two_events_with_the_same_name_reach_two_waits_in_order():
    events = [event_raised("Data", "first"), event_raised("Data", "second")]
    result = execute([], [*start("waits_twice"), *events])
    assert output_of(result) == ["first", "second"]


def test_event_payloads_keep_their_json_type():
    events = [event_raised("B", {"k": [1, 2]}), event_raised("A", "a string")]
    result = execute([], [*start("waits_for_two_names"), *events])
    assert output_of(result) == {"A": "a string", "B": {"k": [1, 2]}}


def test_event_arriving_in_the_same_batch_as_the_start_is_buffered():
    result = execute([], [orchestrator_started(0), event_raised("Data", "x"), *start("waits_twice")[1:]])
    assert result.status is OrchestrationStatus.Running
    final = execute(list(result.new_history), [orchestrator_started(1), event_raised("Data", "y")])
    assert output_of(final) == ["x", "y"]


# -- continue-as-new --


def test_continue_as_new_ends_the_execution_with_the_new_input():
    history = [*start("counter", 1), task_scheduled(0, "Tick", 1), orchestrator_completed()]
    result = execute(history, [orchestrator_started(1), task_completed(0, None)])
    assert result.status is OrchestrationStatus.ContinuedAsNew
    assert result.is_done
    assert result.output == "2"
    assert result.actions == (CompleteOrchestrationAction(status=OrchestrationStatus.ContinuedAsNew, new_input="2"),)
    assert result.new_history[-1] == ContinueAsNew(timestamp=at(1), result="2")


def test_continue_as_new_carries_over_unconsumed_events_in_arrival_order():
    history = [*start("counter", 1), task_scheduled(0, "Tick", 1), orchestrator_completed()]
    early = [event_raised("first", 1), event_raised("second", 2)]
    late = event_raised("third", 3)
    result = execute(history, [orchestrator_started(1), *early, task_completed(0, None), late])
    action = result.actions[-1]
    assert action.status is OrchestrationStatus.ContinuedAsNew
    assert action.carryover_events == (*early, late)


def test_carryover_events_reach_waiters_of_the_next_execution():
    result = execute(
        [*start("counter", 1), task_scheduled(0, "Tick", 1), orchestrator_completed()],
        [orchestrator_started(1), event_raised("Data", "kept"), task_completed(0, None)],
    )
    carried = result.actions[-1].carryover_events
    next_execution = execute([], [*start("waits_twice", seconds=2), *carried, event_raised("Data", "new")])
    assert output_of(next_execution) == ["kept", "new"]


def test_three_executions_of_counter_end_completed():
    input_value, outputs = 1, []
    for _ in range(3):
        executor = OrchestrationExecutor(ORCHESTRATORS)
        first = executor.execute([], start("counter", input_value))
        final = executor.execute(list(first.new_history), [orchestrator_started(1), task_completed(0, None)])
        outputs.append(final.status)
        input_value = output_of(final)
    assert outputs[:2] == [OrchestrationStatus.ContinuedAsNew] * 2
    assert outputs[2] is OrchestrationStatus.Completed
    assert input_value == 3


# -- terminate --


def test_terminate_ends_the_instance_at_once_with_the_reason():
    first = execute([], start("waits_forever"))
    result = execute(list(first.new_history), [orchestrator_started(1), terminated("operator said so")])
    assert result.status is OrchestrationStatus.Terminated
    assert result.output == '"operator said so"'
    assert result.actions == (
        CompleteOrchestrationAction(status=OrchestrationStatus.Terminated, result='"operator said so"'),
    )
    assert result.new_history[-1] == ExecutionCompleted(
        timestamp=at(1), orchestration_status=OrchestrationStatus.Terminated, result='"operator said so"'
    )


def test_terminate_drops_actions_scheduled_in_the_same_episode():
    history = [*start("cancels_then_continues"), timer_created(0, at(300)), task_scheduled(1, "Work")]
    history.append(orchestrator_completed())
    result = execute(history, [orchestrator_started(1), task_completed(1, "done"), terminated()])
    # The completion would have finished the instance, but it came first: Completed, and terminate is ignored.
    assert result.status is OrchestrationStatus.Completed

    def two_steps(context):
        yield context.call_activity("Work")
        yield context.call_activity("Work")

    executor = OrchestrationExecutor({"two_steps": two_steps})
    first = executor.execute([], start("two_steps"))
    late = executor.execute(list(first.new_history), [orchestrator_started(1), task_completed(0, 1), terminated()])
    assert late.status is OrchestrationStatus.Terminated
    assert late.actions == (CompleteOrchestrationAction(status=OrchestrationStatus.Terminated, result='"stop"'),)
    assert not any(event.event_id == 1 for event in late.new_history)


# -- suspend / resume --


def test_events_while_suspended_wait_for_resume():
    first = execute([], start("waits_twice"))
    history = list(first.new_history)
    paused = execute(history, [orchestrator_started(1), suspended(), event_raised("Data", "a")])
    assert paused.status is OrchestrationStatus.Suspended
    history += list(paused.new_history)
    still = execute(history, [orchestrator_started(2), event_raised("Data", "b")])
    assert still.status is OrchestrationStatus.Suspended
    assert still.new_history[1] == event_raised("Data", "b")  # recorded even though deferred
    history += list(still.new_history)
    done = execute(history, [orchestrator_started(3), resumed()])
    assert done.status is OrchestrationStatus.Completed
    assert output_of(done) == ["a", "b"]


def test_terminate_applies_while_suspended():
    first = execute([], start("waits_forever"))
    history = [*first.new_history]
    result = execute(history, [orchestrator_started(1), suspended(), terminated("bye")])
    assert result.status is OrchestrationStatus.Terminated


def test_suspended_cached_executor_matches_fresh_replay():
    executor = OrchestrationExecutor(ORCHESTRATORS)
    history = list(executor.execute([], start("waits_twice")).new_history)
    batches = [
        [orchestrator_started(1), suspended(), event_raised("Data", "a")],
        [orchestrator_started(2), event_raised("Data", "b"), resumed()],
    ]
    for batch in batches:
        fresh = OrchestrationExecutor(ORCHESTRATORS).execute(list(history), batch)
        cached = executor.execute(list(history), batch)
        assert cached == fresh
        history += list(cached.new_history)
    assert output_of(cached) == ["a", "b"]
