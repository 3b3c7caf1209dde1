"""How an execution ends and what one episode returns: `ExecutionResult`, and the end's event and action.

Kept apart from the executor so the rules for recording an end (Completed,
Failed with details, Terminated with the reason, ContinuedAsNew with the new
input and carried-over events) read in one place.

Imports only the standard library, `history`, `serialization` and `actions`.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime

from durable_azure import serialization
from durable_azure.history import (
    ContinueAsNew,
    ExecutionCompleted,
    FailureDetails,
    HistoryEvent,
    OrchestrationStatus,
)
from durable_azure.orchestration.actions import Action, CompleteOrchestrationAction


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResult:
    """One episode's outcome: what to do, what to append to history, and the instance's status.

    `actions` are this episode's new actions in task-id order, then a
    CompleteOrchestrationAction if the execution ended. `new_history` is the
    given new events, then the scheduling events of `actions`, then
    OrchestratorCompleted, then ExecutionCompleted / ContinueAsNew if the
    execution ended in this episode, all stamped with the episode's time.
    `output` and `custom_status` are JSON text; for Failed, `output` is the JSON
    string "Orchestrator function 'name' failed: message" and `failure_details`
    holds the rest (error type, message, traceback).
    """

    actions: tuple[Action, ...]
    new_history: tuple[HistoryEvent, ...]
    status: OrchestrationStatus
    output: str | None = None
    failure_details: FailureDetails | None = None
    custom_status: str | None = None
    is_done: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How the execution ended; `is_recorded` once its ExecutionCompleted / ContinueAsNew is in history."""

    status: OrchestrationStatus
    output: str | None = None
    failure_details: FailureDetails | None = None
    carryover_events: tuple[HistoryEvent, ...] = ()
    is_recorded: bool = False


def failed_outcome(error: BaseException, orchestrator_name: str) -> Outcome:
    """Failed, as Durable Functions reports it: output "Orchestrator function 'name' failed: message".

    That is the extension's reason for a failed out-of-process orchestrator, with the message as the Python
    SDK reports it (`str(error)`, or the error's type when that is empty). The type and the traceback are
    in the failure details (ExecutionCompleted's FailureDetails).
    """
    error_type = type(error).__name__
    details = FailureDetails(
        error_type=error_type,
        error_message=str(error),
        stack_trace="".join(traceback.format_exception(error)),
    )
    output = serialization.dumps(failed_orchestrator_reason(orchestrator_name, details))
    return Outcome(status=OrchestrationStatus.Failed, output=output, failure_details=details)


def failed_orchestrator_reason(orchestrator_name: str, failure: FailureDetails) -> str:
    """The extension's reason for a failed orchestrator: the instance's output and its parent's Reason."""
    return f"Orchestrator function '{orchestrator_name}' failed: {failure.error_message or failure.error_type}"


def completion_event(outcome: Outcome, timestamp: datetime) -> HistoryEvent:
    if outcome.status is OrchestrationStatus.ContinuedAsNew:
        return ContinueAsNew(timestamp=timestamp, result=outcome.output)
    return ExecutionCompleted(
        timestamp=timestamp,
        orchestration_status=outcome.status,
        result=outcome.output,
        failure_details=outcome.failure_details,
    )


def completion_action(outcome: Outcome) -> CompleteOrchestrationAction:
    is_continued = outcome.status is OrchestrationStatus.ContinuedAsNew
    return CompleteOrchestrationAction(
        status=outcome.status,
        result=None if is_continued else outcome.output,
        failure_details=outcome.failure_details,
        new_input=outcome.output if is_continued else None,
        carryover_events=outcome.carryover_events,
    )
