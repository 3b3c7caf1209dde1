"""Replay guarantees: non-determinism detection, is_replaying, replay-safe time and ids, context surface."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from durable_azure import serialization
from durable_azure.history import OrchestrationStatus
from durable_azure.orchestration import OrchestrationExecutor, ScheduleTaskAction
from durable_azure.orchestration.actions import activity_input
from tests.orchestration.builders import (
    INSTANCE_ID,
    START,
    at,
    execution_started,
    orchestrator_completed,
    orchestrator_started,
    run_to_end,
    start,
    task_completed,
    task_scheduled,
    timer_created,
)

SEEN_REPLAYING: list[bool] = []


def say_bye(context):
    yield context.call_activity("Hello")
    result = yield context.call_activity("Bye")
    return result


def records_replaying(context):
    flags = [context.is_replaying]
    for _ in range(2):
        yield context.call_activity("Step")
        flags.append(context.is_replaying)
    return flags


def clock_and_ids(context):
    times = [context.current_utc_datetime.isoformat()]
    ids = [context.new_uuid(), str(context.new_guid())]
    yield context.call_activity("Step")
    times.append(context.current_utc_datetime.isoformat())
    ids.append(context.new_uuid())
    return {"times": times, "ids": ids}


def identity(context):
    context.set_custom_status({"stage": "started"})
    yield context.call_activity("Step")
    context.set_custom_status("stage two")
    return {
        "instance_id": context.instance_id,
        "parent": context.parent_instance_id,
        "input": context.get_input(),
        "custom": context.custom_status,
        "history_kinds": [type(event).__name__ for event in context.histories][:2],
    }


def bad_custom_status(context):
    context.set_custom_status({1, 2})
    yield context.call_activity("Step")


def bad_activity_input(context):
    yield context.call_activity("Step", object())


def calls_by_function(context):
    def registered():
        pass

    registered._durable_name = "RegisteredName"
    yield context.call_activity(registered, 1)


def calls_plain_function(context):
    def not_registered():
        pass

    yield context.call_activity(not_registered)


ORCHESTRATORS: dict[str, Any] = {
    "say_bye": say_bye,
    "records_replaying": records_replaying,
    "clock_and_ids": clock_and_ids,
    "identity": identity,
    "bad_custom_status": bad_custom_status,
    "bad_activity_input": bad_activity_input,
    "calls_by_function": calls_by_function,
    "calls_plain_function": calls_plain_function,
}

STEP = {"Step": lambda value: "stepped", "Hello": lambda value: "hi", "Bye": lambda value: "bye"}


def execute(history, new_events):
    return OrchestrationExecutor(ORCHESTRATORS).execute(history, new_events)


def failure_text(result) -> str:
    """ "Type: message" of the failure; the output is the extension's "Orchestrator function 'x' failed: message"."""
    assert result.status is OrchestrationStatus.Failed
    details = result.failure_details
    output = serialization.loads(result.output)
    assert output.startswith("Orchestrator function '") and output.endswith(f"' failed: {details.error_message}")
    return f"{details.error_type}: {details.error_message}"


# -- non-determinism --


def test_different_activity_name_fails_naming_both():
    history = [
        *start("say_bye"),
        task_scheduled(0, "Hello"),
        orchestrator_completed(),
        orchestrator_started(1),
        task_completed(0, "hi"),
        task_scheduled(1, "Hello"),
        orchestrator_completed(1),
    ]
    result = execute(history, [orchestrator_started(2), task_completed(1, "x")])
    assert failure_text(result) == (
        "NonDeterminismError: Non-deterministic workflow: history has TaskScheduled 'Hello' at task 1 "
        "but the orchestrator scheduled activity 'Bye' at task 1"
    )
    assert result.failure_details.error_type == "NonDeterminismError"
    assert result.actions[-1].status is OrchestrationStatus.Failed
    assert len(result.actions) == 1  # no new work is started from a diverged replay


def test_different_kind_fails_naming_both():
    history = [*start("say_bye"), timer_created(0, at(10)), orchestrator_completed()]
    result = execute(history, [orchestrator_started(1)])
    assert "history has TimerCreated at task 0 but the orchestrator scheduled activity 'Hello' at task 0" in (
        failure_text(result)
    )


def test_scheduling_event_with_no_action_at_all_fails():
    history = [*start("say_bye"), task_scheduled(0, "Hello"), task_scheduled(1, "Extra"), orchestrator_completed()]
    result = execute(history, [orchestrator_started(1)])
    assert "history has TaskScheduled 'Extra' at task 1 but the orchestrator scheduled nothing at task 1" in (
        failure_text(result)
    )


def test_finished_history_replays_to_its_recorded_status_even_if_code_changed():
    done = run_to_end(ORCHESTRATORS, start("say_bye"), STEP)
    changed = OrchestrationExecutor({"say_bye": lambda context: "new code"})
    result = changed.execute(done.history, [orchestrator_started(9)])
    assert result.status is OrchestrationStatus.Completed
    assert serialization.loads(result.output) == "bye"
    assert result.new_history == ()


# -- is_replaying --


def test_is_replaying_is_true_for_history_and_false_for_new_events():
    history = [
        *start("records_replaying"),
        task_scheduled(0, "Step"),
        orchestrator_completed(),
        orchestrator_started(1),
        task_completed(0, "a"),
        task_scheduled(1, "Step"),
        orchestrator_completed(1),
    ]
    result = execute(history, [orchestrator_started(2), task_completed(1, "b")])
    assert serialization.loads(result.output) == [True, True, False]


def test_is_replaying_is_false_throughout_on_a_cached_executor():
    run = run_to_end(ORCHESTRATORS, start("records_replaying"), STEP)
    assert run.output == [False, False, False]
    fresh = run_to_end(ORCHESTRATORS, start("records_replaying"), STEP, fresh_replay=True)
    assert fresh.output == [True, True, False]


# -- time and ids --


def test_current_utc_datetime_follows_orchestrator_started_and_ids_are_deterministic():
    first = run_to_end(ORCHESTRATORS, start("clock_and_ids"), STEP)
    again = run_to_end(ORCHESTRATORS, start("clock_and_ids"), STEP, fresh_replay=True)
    assert first.output == again.output
    assert first.output["times"] == [START.isoformat(), at(1).isoformat()]
    assert len(set(first.output["ids"])) == 3


def test_new_uuid_matches_durable_functions_formula():
    namespace = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
    expected = str(uuid.uuid5(namespace, f"{INSTANCE_ID}_2024-05-01T12:00:00.000000Z_0"))
    guid = uuid.uuid5(uuid.NAMESPACE_URL, f"{INSTANCE_ID}_{START}_1")
    run = run_to_end(ORCHESTRATORS, start("clock_and_ids"), STEP)
    assert run.output["ids"][:2] == [expected, str(guid)]


def test_current_utc_datetime_is_timezone_aware_utc():
    seen: list[datetime] = []

    def looks_at_clock(context):
        seen.append(context.current_utc_datetime)
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))

    OrchestrationExecutor({"o": looks_at_clock}).execute([], start("o"))
    assert seen == [START]
    assert seen[0].tzinfo is UTC


# -- the rest of the context surface --


def test_identity_input_custom_status_and_histories():
    started = execution_started("identity", {"x": 1}, parent_id="the-parent")
    first = execute([], [orchestrator_started(0), started])
    assert first.custom_status == '{"stage": "started"}'
    history = list(first.new_history)
    final = execute(history, [orchestrator_started(1), task_completed(0, None)])
    assert final.custom_status == '"stage two"'
    assert serialization.loads(final.output) == {
        "instance_id": INSTANCE_ID,
        "parent": "the-parent",
        "input": {"x": 1},
        "custom": "stage two",
        "history_kinds": ["OrchestratorStarted", "ExecutionStarted"],
    }


def test_non_serializable_custom_status_fails_with_type_error():
    text = failure_text(execute([], start("bad_custom_status")))
    assert text.startswith("TypeError: custom status is not JSON-serializable")


def test_non_serializable_activity_input_fails_naming_the_activity():
    text = failure_text(execute([], start("bad_activity_input")))
    assert "activity 'Step' input is not JSON-serializable" in text


def test_call_activity_accepts_a_registered_function():
    result = execute([], start("calls_by_function"))
    assert result.actions == (ScheduleTaskAction(id=0, name="RegisteredName", input=activity_input("1")),)


def test_call_activity_with_an_unregistered_function_fails_naming_it():
    text = failure_text(execute([], start("calls_plain_function")))
    assert text.startswith("ValueError: not_registered is not a registered activity function")


def test_task_any_of_nothing_is_a_value_error():
    def any_of_nothing(context):
        yield context.task_any([])

    result = OrchestrationExecutor({"o": any_of_nothing}).execute([], start("o"))
    assert "task_any needs at least one task" in failure_text(result)


@pytest.mark.parametrize("value", [{"a": [1, 2.5, None]}, "text", 3, None, [True, False]])
def test_input_round_trips_through_get_input(value):
    def echo(context):
        return context.get_input()

    result = OrchestrationExecutor({"echo": echo}).execute([], start("echo", value))
    assert serialization.loads(result.output) == value
