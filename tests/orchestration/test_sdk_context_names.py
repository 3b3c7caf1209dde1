"""The context's SDK parameters, through the engine: `activities=`, `expected_type`, `version`,
`function_context` — what a ported orchestrator writes must replay as it did on the original."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from durable_azure import serialization
from durable_azure.history import EventRaised, HistoryEvent, OrchestrationStatus, TaskCompleted
from durable_azure.models.FunctionContext import FunctionContext
from durable_azure.orchestration import CreateSubOrchestrationAction, OrchestrationExecutor
from tests.orchestration.builders import (
    at,
    event_raised,
    execution_started,
    orchestrator_completed,
    orchestrator_started,
    start,
    task_completed,
    task_scheduled,
)


class Money:
    """A class whose payloads were written by an app where it lived in another module (not loaded here)."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def to_json(self) -> dict[str, int]:
        return {"cents": self.cents}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Money:
        return cls(data["cents"])


def foreign_envelope(cents: int) -> str:
    return json.dumps({"__class__": "Money", "__module__": "billing_app_not_loaded", "__data__": {"cents": cents}})


def keyword_composites(context: Any) -> Any:
    first = context.call_activity("A")
    second = context.call_activity("B")
    both = yield context.task_all(activities=[first, second])
    winner = yield context.task_any(activities=[context.call_activity("C"), context.call_activity("D")])
    return {"both": both, "winner": winner.result}


def typed_values(context: Any) -> Any:
    given = context.get_input(expected_type=Money)
    paid = yield context.call_activity("Pay", given.cents, expected_type=Money)
    refund = yield context.wait_for_external_event("Refund", expected_type=Money)
    untyped = context.get_input()
    return [given.cents, paid.cents, refund.cents, sorted(untyped), type(context.function_context).__name__]


def versioned_child(context: Any) -> Any:
    return (yield context.call_sub_orchestrator("child", None, "kid", "3.0"))


def run(name: str, history: list[HistoryEvent], new_events: list[HistoryEvent]) -> Any:
    orchestrator = globals()[name]
    return OrchestrationExecutor({name: orchestrator}).execute(history, new_events)


def test_task_all_and_task_any_take_the_sdks_activities_keyword() -> None:
    history = [*start("keyword_composites"), task_scheduled(0, "A"), task_scheduled(1, "B"), orchestrator_completed()]
    history += [orchestrator_started(1), task_completed(0, 1), task_completed(1, 2)]
    history += [task_scheduled(2, "C", seconds=1), task_scheduled(3, "D", seconds=1), orchestrator_completed(1)]
    result = run("keyword_composites", history, [orchestrator_started(2), task_completed(3, "d first", seconds=2)])
    assert result.status is OrchestrationStatus.Completed, result.output
    assert serialization.loads(result.output) == {"both": [1, 2], "winner": "d first"}


def test_expected_type_decodes_payloads_whose_class_module_is_not_loaded() -> None:
    started = dataclasses.replace(execution_started("typed_values"), input=foreign_envelope(500))
    history = [orchestrator_started(), started, task_scheduled(0, "Pay", 500), orchestrator_completed()]
    new_events = [
        orchestrator_started(1),
        TaskCompleted(timestamp=at(1), task_scheduled_id=0, result=foreign_envelope(499)),
        EventRaised(timestamp=at(1), name="Refund", input=foreign_envelope(1)),
    ]
    result = run("typed_values", history, new_events)
    assert result.status is OrchestrationStatus.Completed, result.output
    assert serialization.loads(result.output) == [
        500,
        499,
        1,
        ["__class__", "__data__", "__module__"],
        "FunctionContext",
    ]
    assert FunctionContext.__name__ == "FunctionContext"


def test_call_sub_orchestrator_records_the_version_positionally_as_the_sdk_orders_it() -> None:
    result = run("versioned_child", [], start("versioned_child"))
    assert result.actions == (
        CreateSubOrchestrationAction(id=0, name="child", instance_id="kid", input=None, version="3.0"),
    )


def introspection(context: Any) -> Any:
    """Reads the SDK's task and context attributes at each step; the custom status shows the latest reading."""
    activity = context.call_activity("A")
    timer = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    approval = context.wait_for_external_event("Approval")
    scheduled = {
        "ids": [activity.id, timer.id, approval.id],
        "states": [task.state.name for task in (activity, timer, approval)],
        "open": sorted(str(key) for key in context.open_tasks),
    }
    yield activity
    context.set_custom_status(
        {
            "played": activity.is_played,
            "state": activity.state.name,
            "open": sorted(str(key) for key in context.open_tasks),
            "waiting": [task.name for task in context.open_tasks["Approval"]],
            "deferred": {name: [event.input for event in events] for name, events in context.deferred_tasks.items()},
            "decision": context.decision_started_event.timestamp.isoformat(),
            "now": context.current_utc_datetime.isoformat(),
        }
    )
    yield approval
    return {"scheduled": scheduled, "played": [activity.is_played, approval.is_played], "open": len(context.open_tasks)}


def test_tasks_and_context_expose_the_sdks_task_attributes() -> None:
    first = run("introspection", [], start("introspection"))
    second = run(
        "introspection",
        list(first.new_history),
        [orchestrator_started(1), event_raised("Early", 5, seconds=1), task_completed(0, "a", seconds=1)],
    )
    assert json.loads(second.custom_status or "null") == {
        "played": False,  # its outcome arrived in this episode
        "state": "SUCCEEDED",
        "open": ["1", "Approval"],  # the timer by id, the event by name
        "waiting": ["Approval"],
        "deferred": {"Early": ["5"]},  # raised before anything waited on it
        "decision": at(0).isoformat(),  # the first OrchestratorStarted, as the SDK's attribute
        "now": at(1).isoformat(),
    }
    third = run(
        "introspection",
        [*first.new_history, *second.new_history],
        [orchestrator_started(2), event_raised("Approval", True, seconds=2)],
    )
    assert third.status is OrchestrationStatus.Completed, third.output
    assert serialization.loads(third.output) == {
        "scheduled": {"ids": [0, 1, "Approval"], "states": ["RUNNING"] * 3, "open": ["0", "1", "Approval"]},
        "played": [True, False],  # the activity's outcome was replayed this time; the approval is new
        "open": 1,  # the timer
    }
