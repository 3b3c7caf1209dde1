"""OrchestrationState: status and fields derived from events; the worker's out-of-order and duplicate checks."""

from __future__ import annotations

from durable_azure.history import (
    ContinueAsNew,
    ExecutionCompleted,
    FailureDetails,
    OrchestrationStatus,
)
from durable_azure.orchestration import OrchestrationState
from tests.orchestration.builders import (
    INSTANCE_ID,
    START,
    at,
    execution_started,
    orchestrator_completed,
    orchestrator_started,
    resumed,
    start,
    sub_orchestration_completed,
    sub_orchestration_created,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
    timer_created,
    timer_fired,
)


def test_empty_state_is_pending():
    state = OrchestrationState()
    assert state.status is OrchestrationStatus.Pending
    assert state.name is None
    assert state.output is None
    assert state.episode == 0


def test_fields_come_from_execution_started():
    state = OrchestrationState([orchestrator_started(), execution_started("hello", {"a": 1}, parent_id="p")])
    assert state.status is OrchestrationStatus.Running
    assert state.name == "hello"
    assert state.instance_id == INSTANCE_ID
    assert state.execution_id == "execution-1"
    assert state.input == '{"a": 1}'
    assert state.parent_instance.orchestration_instance.instance_id == "p"
    assert state.created_time == START
    assert state.episode == 1


def test_status_follows_suspend_resume_and_completion():
    state = OrchestrationState(start("hello"))
    state.append(suspended())
    assert state.status is OrchestrationStatus.Suspended
    state.append(resumed())
    assert state.status is OrchestrationStatus.Running
    failure = FailureDetails(error_type="ValueError", error_message="bad")
    state.append(
        ExecutionCompleted(
            orchestration_status=OrchestrationStatus.Failed, result='"ValueError: bad"', failure_details=failure
        )
    )
    assert state.status is OrchestrationStatus.Failed
    assert state.output == '"ValueError: bad"'
    assert state.failure_details == failure
    assert len(state) == 5


def test_continue_as_new_status_and_output():
    state = OrchestrationState([*start("counter", 1), ContinueAsNew(result="2")])
    assert state.status is OrchestrationStatus.ContinuedAsNew
    assert state.output == "2"


def test_out_of_order_and_duplicate_detection():
    state = OrchestrationState(
        [*start("o"), task_scheduled(0, "A"), timer_created(1, at(5)), sub_orchestration_created(2, "c", "x:2")]
    )
    state.append(orchestrator_completed())
    assert state.is_scheduled(0)
    assert state.is_scheduled(2)
    assert not state.is_scheduled(1)
    assert state.is_timer_created(1)
    assert not state.is_timer_created(0)

    assert not state.is_out_of_order(task_completed(0, "r"))
    assert state.is_out_of_order(task_completed(7, "r"))
    assert state.is_out_of_order(timer_fired(0, at(5)))  # id 0 is an activity, not a timer
    assert not state.is_out_of_order(timer_fired(1, at(5)))
    assert not state.is_out_of_order(sub_orchestration_completed(2, "r"))
    assert not state.is_out_of_order(orchestrator_started(3))

    assert not state.is_duplicate(task_completed(0, "r"))
    state.append(task_completed(0, "r"))
    assert state.has_completed_task(0)
    assert state.is_duplicate(task_failed(0))
    assert not state.is_duplicate(timer_fired(1, at(5)))
    state.append(timer_fired(1, at(5)))
    assert state.is_duplicate(timer_fired(1, at(5)))
