"""Deciding what to do with each message of a batch before an episode runs.

Queues deliver at least once and not strictly in order, and DTFx's commit
order (send, then append history) means a reply can overtake the history
write that scheduled it. So each message is one of:

* **accept**: apply it in this episode;
* **delete**: a duplicate, or addressed to an execution that is gone or
  finished (one log line says which);
* **defer**: it may become valid soon (a reply whose TaskScheduled is not in
  history yet); abandoned with backoff, and moved aside as poison once it has
  been dequeued too often;
* **not started**: the instance has no execution yet; deferred if the
  instance exists (its ExecutionStarted is on its way), deleted if it does not.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from durable_azure.history import EventRaised, ExecutionStarted, HistoryEvent, OrchestrationStatus, TimerFired
from durable_azure.orchestration import OrchestrationState
from durable_azure.worker.deliveries import Delivery
from durable_azure.worker.recent_events import NO_ACTIVITY_ID

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Triage:
    start: Delivery | None = None
    accepted: list[Delivery] = field(default_factory=list)
    delete: list[Delivery] = field(default_factory=list)
    defer: list[Delivery] = field(default_factory=list)
    not_started: list[Delivery] = field(default_factory=list)
    completions: set[tuple[str, int]] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)  # ActivityIds of the external events accepted
    is_suspect: bool = False  # deferred or stale-looking messages: a cached history may be out of date
    reasons: dict[str, str] = field(default_factory=dict)  # message id -> why it is deleted

    def log_discards(self, instance_id: str) -> None:
        """One log line per discarded message, once the decision is final."""
        for message in self.delete:
            event_name = type(message.data.event).__name__ if message.data else "undecodable message"
            reason = self.reasons.get(message.message_id, "discarded")
            logger.info("message.discarded instance=%s event=%s reason=%s", instance_id, event_name, reason)

    @property
    def all_accepted(self) -> list[Delivery]:
        return ([self.start] if self.start else []) + self.accepted

    @property
    def has_work(self) -> bool:
        return self.start is not None or bool(self.accepted)


def sort_batch(messages: list[Delivery]) -> list[Delivery]:
    """ExecutionStarted first, then by enqueue time and sender sequence (DTFx's order)."""

    def key(message: Delivery) -> tuple[int, datetime, int]:
        is_start = isinstance(message.data.event, ExecutionStarted) if message.data else False
        sequence = message.data.sequence_number if message.data else 0
        return (0 if is_start else 1, message.insertion_time, sequence)

    return sorted(messages, key=key)


def triage(
    instance_id: str, state: OrchestrationState, messages: list[Delivery], applied_events: Collection[str] = ()
) -> Triage:
    """Sort a batch; `applied_events` are ActivityIds of external events the instance applied lately."""
    result = Triage()
    has_started = state.status != OrchestrationStatus.Pending
    current_execution = state.execution_id if has_started else None
    status = state.status if has_started else None
    can_restart = status is None or status.is_terminal or status == OrchestrationStatus.ContinuedAsNew
    for message in sort_batch(messages):
        assert message.data is not None  # undecodable messages never reach a session
        event = message.data.event
        if isinstance(event, ExecutionStarted):
            _triage_start(instance_id, message, event, current_execution, can_restart, result)
        else:
            _triage_other(instance_id, state, message, event, status, result, applied_events)
    return result


def _triage_start(
    instance_id: str,
    message: Delivery,
    event: ExecutionStarted,
    current_execution: str | None,
    can_restart: bool,
    result: Triage,
) -> None:
    execution_id = event.orchestration_instance.execution_id
    if execution_id == current_execution or result.start is not None:
        _drop(result, message, instance_id, "duplicate ExecutionStarted")
    elif can_restart:
        result.start = message
    else:
        _drop(result, message, instance_id, "ExecutionStarted for an instance that is still running")


def _triage_other(
    instance_id: str,
    state: OrchestrationState,
    message: Delivery,
    event: HistoryEvent,
    status: OrchestrationStatus | None,
    result: Triage,
    applied_events: Collection[str],
) -> None:
    assert message.data is not None
    if isinstance(event, EventRaised) and _is_copy(message.data.activity_id, applied_events, result):
        _drop(result, message, instance_id, "duplicate EventRaised (one send, stored twice)")
        return
    target_execution = message.data.instance.execution_id
    if result.start is not None:
        assert result.start.data is not None
        start_execution = result.start.data.instance.execution_id
        if not target_execution or target_execution == start_execution:
            result.accepted.append(message)  # e.g. an event raised right after start
        else:
            result.is_suspect = True
            _drop(result, message, instance_id, "message for an older execution")
        return
    if status is None or status == OrchestrationStatus.ContinuedAsNew:
        result.not_started.append(message)  # unknown instance, or its ExecutionStarted is still on its way
        result.is_suspect = True
        return
    if target_execution and target_execution != state.execution_id:
        result.is_suspect = True
        _drop(result, message, instance_id, "message for an older execution")
    elif status.is_terminal:
        _drop(result, message, instance_id, f"instance is {status.name}")
    elif state.is_duplicate(event) or _completion_key(event) in result.completions:
        _drop(result, message, instance_id, f"duplicate {type(event).__name__}")
    elif state.is_out_of_order(event):
        result.is_suspect = True
        result.defer.append(message)
    else:
        result.accepted.append(message)
        key = _completion_key(event)
        if key is not None:
            result.completions.add(key)


def _is_copy(activity_id: str, applied_events: Collection[str], result: Triage) -> bool:
    """The same send stored twice (a retried send whose first answer was lost): its ActivityId repeats."""
    if activity_id == NO_ACTIVITY_ID:
        return False
    if activity_id in applied_events or activity_id in result.event_ids:
        return True
    result.event_ids.add(activity_id)
    return False


def _completion_key(event: HistoryEvent) -> tuple[str, int] | None:
    """Identifies a reply, so the same reply twice in one batch is applied once."""
    if isinstance(event, TimerFired):
        return ("timer", event.timer_id)
    task_id = getattr(event, "task_scheduled_id", None)
    return ("task", task_id) if task_id is not None else None


def _drop(result: Triage, message: Delivery, instance_id: str, reason: str) -> None:
    result.reasons[message.message_id] = reason
    result.delete.append(message)
