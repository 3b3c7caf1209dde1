"""The history JSON of a status with `show_history=True`: the shape the Durable Functions HTTP API returns.

Users read it, so it is the DTFx history with the bookkeeping taken out
(df-python-api.md §9): episode markers dropped, `EventType` as a name, each
completion merged with the event that scheduled it (so one entry says which
function ran, when it was scheduled and what it returned), instance plumbing
removed. Inputs and results are decoded JSON values, as `input_` and `output`
are on the status. Pure: events in, dicts out.
"""

from __future__ import annotations

from typing import Any

from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    HistoryEvent,
    OrchestratorCompleted,
    OrchestratorStarted,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerFired,
    to_json,
)
from durable_azure.orchestration.actions import activity_input_text
from durable_azure.status import decode_json_text

_DROPPED_EVENTS = (OrchestratorStarted, OrchestratorCompleted)
_ALWAYS_REMOVED = ("EventId", "IsPlayed")
_STARTED_REMOVED = ("OrchestrationInstance", "ParentInstance", "Version", "Tags")
_JSON_MEMBERS = ("Input", "Result")
# completion kind -> the scheduling kind it is merged with
_SCHEDULED_BY: dict[type[HistoryEvent], type[HistoryEvent]] = {
    TaskCompleted: TaskScheduled,
    TaskFailed: TaskScheduled,
    SubOrchestrationInstanceCompleted: SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed: SubOrchestrationInstanceCreated,
}
_RESULT_ONLY_WITH_OUTPUT = (TaskCompleted, SubOrchestrationInstanceCompleted, ExecutionCompleted)


def history_json(
    events: list[HistoryEvent], *, show_input: bool = True, show_history_output: bool = False
) -> list[dict[str, Any]]:
    """One dict per user-visible event, oldest first."""
    scheduling = {
        event.event_id: event for event in events if isinstance(event, TaskScheduled | SubOrchestrationInstanceCreated)
    }
    merged_ids = {
        completion_id
        for event in events
        if type(event) in _SCHEDULED_BY
        and (completion_id := getattr(event, "task_scheduled_id", -1)) is not None
        and isinstance(scheduling.get(completion_id), _SCHEDULED_BY[type(event)])
    }
    entries: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, _DROPPED_EVENTS):
            continue
        if isinstance(event, TaskScheduled | SubOrchestrationInstanceCreated) and event.event_id in merged_ids:
            continue  # shown as part of its completion
        partner = scheduling.get(getattr(event, "task_scheduled_id", -1)) if type(event) in _SCHEDULED_BY else None
        entries.append(_entry(event, partner, show_input=show_input, show_history_output=show_history_output))
    return entries


def _entry(
    event: HistoryEvent, partner: HistoryEvent | None, *, show_input: bool, show_history_output: bool
) -> dict[str, Any]:
    entry = to_json(event)
    entry["EventType"] = event.event_type.name
    for member in _ALWAYS_REMOVED:
        entry.pop(member, None)
    if isinstance(event, ExecutionStarted):
        for member in _STARTED_REMOVED:
            entry.pop(member, None)
        entry["FunctionName"] = entry.pop("Name")
    elif isinstance(event, ExecutionCompleted):
        entry["OrchestrationStatus"] = event.orchestration_status.name
    elif isinstance(event, TimerFired):
        entry.pop("TimerId", None)
    if partner is not None:
        _merge_partner(entry, partner)
    if isinstance(event, TaskScheduled) and entry.get("Input") is not None:
        entry["Input"] = _scheduled_input(event, entry["Input"])
    if not show_input:
        entry.pop("Input", None)
    if not show_history_output and isinstance(event, _RESULT_ONLY_WITH_OUTPUT):
        entry.pop("Result", None)
    for member in _JSON_MEMBERS:
        if member in entry:
            entry[member] = decode_json_text(entry[member])
    return {name: value for name, value in entry.items() if value is not None}


def _merge_partner(entry: dict[str, Any], partner: HistoryEvent) -> None:
    """A completion names what ran and when it was scheduled; the ids that linked them are noise."""
    entry.pop("TaskScheduledId", None)
    entry.pop("Version", None)
    partner_json = to_json(partner)
    entry["FunctionName"] = partner_json.get("Name")
    entry["ScheduledTime"] = partner_json.get("Timestamp")
    if partner_json.get("Input") is not None:
        entry["Input"] = _scheduled_input(partner, partner_json["Input"])
    if isinstance(partner, SubOrchestrationInstanceCreated):
        entry["InstanceId"] = partner.instance_id


def _scheduled_input(event: HistoryEvent, stored: str) -> str | None:
    """An activity's input as its JSON text: TaskScheduled stores DTFx's parameter array around it."""
    return activity_input_text(stored) if isinstance(event, TaskScheduled) else stored
