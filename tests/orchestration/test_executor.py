"""The executor driven from histories: sequences, fan-out, failures, sub-orchestrations, caching, determinism."""

from __future__ import annotations

import json
from typing import Any

import pytest

from durable_azure import serialization
from durable_azure.errors import OrchestrationError, TaskFailedError
from durable_azure.history import (
    EventSent,
    ExecutionCompleted,
    GenericEvent,
    HistoryEvent,
    OrchestrationStatus,
    OrchestratorCompleted,
    SubOrchestrationInstanceCreated,
    TaskScheduled,
)
from durable_azure.orchestration import (
    CompleteOrchestrationAction,
    CreateSubOrchestrationAction,
    OrchestrationExecutor,
    ScheduleTaskAction,
    SendEventAction,
)
from durable_azure.orchestration.actions import activity_input
from tests.orchestration.builders import (
    INSTANCE_ID,
    at,
    event_raised,
    orchestrator_completed,
    orchestrator_started,
    run_to_end,
    start,
    sub_orchestration_completed,
    sub_orchestration_created,
    sub_orchestration_failed,
    task_completed,
    task_failed,
    task_scheduled,
)


def hello_sequence(context):
    first = yield context.call_activity("Hello", "Tokyo")
    second = yield context.call_activity("Hello", "Seattle")
    third = yield context.call_activity("Hello", "London")
    return [first, second, third]


def fan_out_fan_in(context):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("Double", number) for number in range(count)])
    return sum(results)


def catches_failure(context):
    try:
        yield context.call_activity("Flaky")
    except TaskFailedError as error:
        return f"caught: {error.reason} ({error.error_type})"
    return "no failure"


def lets_failure_escape(context):
    yield context.call_activity("Flaky")
    return "unreachable"


def raises_at_once(context):
    raise KeyError("missing thing")


def plain_function(context):
    return {"input": context.get_input()}


def returns_object(context):
    return object()


def parent(context):
    child_result = yield context.call_sub_orchestrator("child", {"n": 1})
    named = yield context.call_sub_orchestrator("child", None, instance_id="my-child")
    return [child_result, named]


def parent_catching_child_failure(context):
    try:
        yield context.call_sub_orchestrator("child")
    except TaskFailedError as error:
        return f"child failed: {error.reason}"


def sends_event(context):
    context.send_event("other-instance", "Ping", {"from": context.instance_id})
    return "sent"


def yields_garbage(context):
    yield 42


async def async_orchestrator(context):
    return 1


ORCHESTRATORS: dict[str, Any] = {
    "hello_sequence": hello_sequence,
    "fan_out_fan_in": fan_out_fan_in,
    "catches_failure": catches_failure,
    "lets_failure_escape": lets_failure_escape,
    "raises_at_once": raises_at_once,
    "plain_function": plain_function,
    "returns_object": returns_object,
    "parent": parent,
    "parent_catching_child_failure": parent_catching_child_failure,
    "sends_event": sends_event,
    "yields_garbage": yields_garbage,
    "async_orchestrator": async_orchestrator,
}

ACTIVITIES = {"Hello": lambda city: f"Hello {city}!", "Double": lambda number: number * 2}


def execute(history: list[HistoryEvent], new_events: list[HistoryEvent]):
    return OrchestrationExecutor(ORCHESTRATORS).execute(history, new_events)


# -- a sequence of activities --


def test_first_episode_schedules_the_first_activity_and_records_it():
    new_events = start("hello_sequence")
    result = execute([], new_events)
    assert result.actions == (ScheduleTaskAction(id=0, name="Hello", input=activity_input('"Tokyo"')),)
    assert result.status is OrchestrationStatus.Running
    assert not result.is_done
    assert result.new_history == (
        *new_events,
        TaskScheduled(event_id=0, timestamp=at(0), name="Hello", input=activity_input('"Tokyo"')),
        OrchestratorCompleted(timestamp=at(0)),
    )


def test_replay_after_each_completion_gives_the_next_action_then_the_output():
    history = [*start("hello_sequence"), task_scheduled(0, "Hello", "Tokyo"), orchestrator_completed()]
    second = execute(history, [orchestrator_started(1), task_completed(0, "Hello Tokyo!", 1)])
    assert second.actions == (ScheduleTaskAction(id=1, name="Hello", input=activity_input('"Seattle"')),)

    history += [*second.new_history]
    third = execute(history, [orchestrator_started(2), task_completed(1, "Hello Seattle!", 2)])
    assert third.actions == (ScheduleTaskAction(id=2, name="Hello", input=activity_input('"London"')),)

    history += [*third.new_history]
    final = execute(history, [orchestrator_started(3), task_completed(2, "Hello London!", 3)])
    output = '["Hello Tokyo!", "Hello Seattle!", "Hello London!"]'
    assert final.status is OrchestrationStatus.Completed
    assert final.is_done
    assert final.output == output
    assert final.actions == (CompleteOrchestrationAction(status=OrchestrationStatus.Completed, result=output),)
    assert final.new_history[-1] == ExecutionCompleted(
        timestamp=at(3), orchestration_status=OrchestrationStatus.Completed, result=output
    )


def test_sequence_driven_to_the_end_returns_every_result_in_order():
    run = run_to_end(ORCHESTRATORS, start("hello_sequence"), ACTIVITIES)
    assert run.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert len(run.results) == 4


def test_cached_executor_gives_the_same_results_as_a_fresh_full_replay_each_episode():
    cached = run_to_end(ORCHESTRATORS, start("hello_sequence"), ACTIVITIES)
    fresh = run_to_end(ORCHESTRATORS, start("hello_sequence"), ACTIVITIES, fresh_replay=True)
    assert cached.results == fresh.results
    assert cached.history == fresh.history


def test_cached_fan_out_equals_fresh_replay():
    cached = run_to_end(ORCHESTRATORS, start("fan_out_fan_in", 5), ACTIVITIES)
    fresh = run_to_end(ORCHESTRATORS, start("fan_out_fan_in", 5), ACTIVITIES, fresh_replay=True)
    assert cached.results == fresh.results
    assert cached.output == 20


def test_cached_executor_refuses_a_history_it_has_not_seen():
    executor = OrchestrationExecutor(ORCHESTRATORS)
    first = executor.execute([], start("hello_sequence"))
    with pytest.raises(OrchestrationError, match="history has 1 events"):
        executor.execute(list(first.new_history[:1]), [orchestrator_started(1)])


def test_executing_without_execution_started_is_a_caller_error():
    with pytest.raises(OrchestrationError, match="ExecutionStarted"):
        execute([], [orchestrator_started(0), event_raised("x", 1)])


def test_unknown_event_kind_raises():
    class Strange(GenericEvent):
        pass

    with pytest.raises(OrchestrationError, match="unknown history event kind Strange"):
        execute([], [*start("hello_sequence"), Strange()])


# -- fan-out / fan-in --


def test_fan_out_200_activities_then_fan_in_the_sum():
    first = execute([], start("fan_out_fan_in", 200))
    assert [action.id for action in first.actions] == list(range(200))
    assert all(isinstance(action, ScheduleTaskAction) and action.name == "Double" for action in first.actions)
    assert first.actions[7].input == activity_input("7")

    history = list(first.new_history)
    # Completions arrive in two batches, in reverse order: results still come back in input order.
    batch_one = [task_completed(task_id, task_id * 2, 1) for task_id in reversed(range(100, 200))]
    middle = execute(history, [orchestrator_started(1), *batch_one])
    assert middle.actions == ()
    assert middle.status is OrchestrationStatus.Running

    history += list(middle.new_history)
    batch_two = [task_completed(task_id, task_id * 2, 2) for task_id in range(100)]
    final = execute(history, [orchestrator_started(2), *batch_two])
    assert serialization.loads(final.output) == sum(2 * number for number in range(200))


def test_fan_in_of_nothing_completes_at_once():
    result = execute([], start("fan_out_fan_in", 0))
    assert result.status is OrchestrationStatus.Completed
    assert result.output == "0"


def test_task_all_fails_as_soon_as_one_child_fails():
    history = list(execute([], start("fan_out_fan_in", 3)).new_history)
    result = execute(history, [orchestrator_started(1), task_failed(1, "bad number")])
    assert result.status is OrchestrationStatus.Failed
    assert "bad number" in serialization.loads(result.output)


# -- failures --


def test_activity_failure_is_raised_at_the_yield_and_can_be_caught():
    history = [*start("catches_failure"), task_scheduled(0, "Flaky"), orchestrator_completed()]
    result = execute(history, [orchestrator_started(1), task_failed(0, "flaked")])
    assert result.status is OrchestrationStatus.Completed
    assert serialization.loads(result.output) == "caught: ValueError: flaked (ValueError)"


def test_uncaught_activity_failure_fails_the_instance_with_details():
    history = [*start("lets_failure_escape"), task_scheduled(0, "Flaky"), orchestrator_completed()]
    result = execute(history, [orchestrator_started(1), task_failed(0, "flaked")])
    assert result.status is OrchestrationStatus.Failed
    assert result.is_done
    # The extension's words for a failed orchestrator, then str(e) of what escaped it, as the SDK reports it.
    assert serialization.loads(result.output).startswith(
        "Orchestrator function 'lets_failure_escape' failed: ValueError: flaked \n "
    )
    assert result.failure_details.error_type == "TaskFailedError"
    assert "flaked" in result.failure_details.error_message
    assert "lets_failure_escape" in result.failure_details.stack_trace
    completed = result.new_history[-1]
    assert isinstance(completed, ExecutionCompleted)
    assert completed.orchestration_status is OrchestrationStatus.Failed
    assert completed.failure_details == result.failure_details


def test_orchestrator_raising_before_any_yield_fails_with_type_and_message():
    result = execute([], start("raises_at_once"))
    assert result.status is OrchestrationStatus.Failed
    assert json.loads(result.output) == "Orchestrator function 'raises_at_once' failed: 'missing thing'"
    assert result.failure_details.error_type == "KeyError"
    assert result.failure_details.error_message == "'missing thing'"
    assert result.actions[-1].status is OrchestrationStatus.Failed


def test_plain_function_orchestrator_completes_at_once():
    result = execute([], start("plain_function", {"a": 1}))
    assert result.status is OrchestrationStatus.Completed
    assert serialization.loads(result.output) == {"input": {"a": 1}}


def test_returning_a_non_json_value_fails_clearly():
    result = execute([], start("returns_object"))
    assert result.status is OrchestrationStatus.Failed
    assert "orchestrator output is not JSON-serializable" in serialization.loads(result.output)
    assert "object" in serialization.loads(result.output)


def test_yielding_something_that_is_not_a_task_fails():
    result = execute([], start("yields_garbage"))
    assert result.status is OrchestrationStatus.Failed
    assert "orchestrator yielded int" in serialization.loads(result.output)


def test_async_orchestrator_fails_with_a_hint():
    result = execute([], start("async_orchestrator"))
    assert result.status is OrchestrationStatus.Failed
    assert "async orchestrators are not supported" in serialization.loads(result.output)


def test_unknown_orchestrator_name_fails_naming_it():
    result = execute([], start("no_such_orchestrator"))
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details.error_type == "OrchestratorNotFoundError"
    assert "no_such_orchestrator" in serialization.loads(result.output)
    assert result.actions == (
        CompleteOrchestrationAction(
            status=OrchestrationStatus.Failed, result=result.output, failure_details=result.failure_details
        ),
    )


def test_duplicate_completion_is_ignored():
    history = [*start("hello_sequence"), task_scheduled(0, "Hello", "Tokyo"), orchestrator_completed()]
    events = [orchestrator_started(1), task_completed(0, "first"), task_completed(0, "second")]
    result = execute(history, events)
    assert result.actions == (ScheduleTaskAction(id=1, name="Hello", input=activity_input('"Seattle"')),)
    history += list(result.new_history)
    rest = execute(
        history,
        [orchestrator_started(2), task_completed(1, "b"), task_completed(0, "late duplicate")],
    )
    assert rest.actions == (ScheduleTaskAction(id=2, name="Hello", input=activity_input('"London"')),)


# -- sub-orchestrations and sent events --


def test_sub_orchestrations_get_deterministic_ids_and_results():
    first = execute([], start("parent"))
    assert first.actions == (
        CreateSubOrchestrationAction(id=0, name="child", instance_id=f"{INSTANCE_ID}:0", input='{"n": 1}'),
    )
    assert first.new_history[-2] == SubOrchestrationInstanceCreated(
        event_id=0, timestamp=at(0), name="child", instance_id=f"{INSTANCE_ID}:0", input='{"n": 1}'
    )
    history = list(first.new_history)
    second = execute(history, [orchestrator_started(1), sub_orchestration_completed(0, "one")])
    assert second.actions == (CreateSubOrchestrationAction(id=1, name="child", instance_id="my-child"),)
    history += list(second.new_history)
    final = execute(history, [orchestrator_started(2), sub_orchestration_completed(1, "two")])
    assert serialization.loads(final.output) == ["one", "two"]


def test_sub_orchestration_failure_can_be_caught():
    history = [
        *start("parent_catching_child_failure"),
        sub_orchestration_created(0, "child", f"{INSTANCE_ID}:0"),
        orchestrator_completed(),
    ]
    result = execute(history, [orchestrator_started(1), sub_orchestration_failed(0, "child broke")])
    assert serialization.loads(result.output) == "child failed: child broke"


def test_sent_event_is_an_action_and_an_event_sent_record():
    result = execute([], start("sends_event"))
    data = serialization.dumps({"from": INSTANCE_ID})
    assert result.actions[0] == SendEventAction(id=0, instance_id="other-instance", name="Ping", data=data)
    assert EventSent(event_id=0, timestamp=at(0), instance_id="other-instance", name="Ping", input=data) in (
        result.new_history
    )
    assert result.status is OrchestrationStatus.Completed
    replayed = execute(list(result.new_history), [orchestrator_started(1)])
    assert replayed.new_history == ()
    assert replayed.status is OrchestrationStatus.Completed


# -- events for a finished execution --


def test_events_for_a_finished_execution_are_ignored():
    done = run_to_end(ORCHESTRATORS, start("hello_sequence"), ACTIVITIES)
    result = execute(done.history, [orchestrator_started(9), event_raised("late", 1), task_completed(0, "again")])
    assert result.actions == ()
    assert result.new_history == ()
    assert result.is_done
    assert result.status is OrchestrationStatus.Completed
    assert result.output == done.last.output


def test_task_any_returns_the_winning_task_even_when_it_failed():
    def race(context):
        activity = context.call_activity("Flaky")
        timer = context.create_timer(context.current_utc_datetime)
        winner = yield context.task_any([activity, timer])
        timer.cancel()
        return [winner is activity, winner.is_faulted, type(winner.exception).__name__, type(winner.result).__name__]

    executor = OrchestrationExecutor({"race": race})
    first = executor.execute([], start("race"))
    result = executor.execute(list(first.new_history), [orchestrator_started(1), task_failed(0)])
    assert serialization.loads(result.output) == [True, True, "TaskFailedError", "TaskFailedError"]


def test_cached_failure_equals_fresh_replay_failure():
    activities = {"Flaky": lambda value: (_ for _ in ()).throw(RuntimeError("always"))}
    cached = run_to_end(ORCHESTRATORS, start("lets_failure_escape"), activities)
    fresh = run_to_end(ORCHESTRATORS, start("lets_failure_escape"), activities, fresh_replay=True)
    assert cached.last.status is OrchestrationStatus.Failed
    assert cached.results == fresh.results
