"""What an orchestrator reads from a failed activity or sub-orchestration, as SDK apps read it.

azure.durable_functions raises `Exception(f"{Reason} \\n {Details}")` at the yield (its
TaskOrchestrationExecutor); apps catch `Exception` and parse `str(e)`. Our TaskFailedError must give the
same text and `args`, whatever shape the extension wrote Reason and Details in, and keep its attributes.
"""

from __future__ import annotations

import json
from typing import Any

from durable_azure import serialization
from durable_azure.history import FailureDetails, HistoryEvent, SubOrchestrationInstanceFailed, TaskFailed
from durable_azure.orchestration import OrchestrationExecutor
from tests.orchestration.builders import (
    START,
    at,
    orchestrator_completed,
    orchestrator_started,
    start,
    sub_orchestration_created,
    task_scheduled,
)

# The extension's shapes: a friendly reason, and the .NET exception serialized as JSON in Details.
EXTENSION_REASON = "Activity function 'Flaky' failed:  ValueError: boom"
EXTENSION_DETAILS = json.dumps({"$type": "System.Exception", "Message": "ValueError: boom", "StackTrace": None})


def reads_activity_failure(context: Any) -> Any:
    try:
        yield context.call_activity("Flaky")
    except Exception as error:  # what SDK apps write
        return {"text": str(error), "args": list(error.args), "reason": error.reason, "details": error.details}
    return None


def reads_child_failure(context: Any) -> Any:
    try:
        yield context.task_all([context.call_sub_orchestrator("child", instance_id="kid")])
    except Exception as error:
        return {"text": str(error), "second_line": str(error).split(" \n ", 1)[1]}
    return None


def run(name: str, scheduled: HistoryEvent, outcome: HistoryEvent) -> Any:
    history = [*start(name), scheduled, orchestrator_completed()]
    result = OrchestrationExecutor({name: globals()[name]}).execute(history, [orchestrator_started(1), outcome])
    return serialization.loads(result.output)


def test_a_failed_activity_reads_as_the_sdk_exception_text() -> None:
    failed = TaskFailed(
        timestamp=at(1),
        task_scheduled_id=0,
        reason=EXTENSION_REASON,
        details=EXTENSION_DETAILS,
        failure_details=FailureDetails(error_type="System.Exception", error_message="ValueError: boom"),
    )
    seen = run("reads_activity_failure", task_scheduled(0, "Flaky"), failed)
    sdk_text = f"{EXTENSION_REASON} \n {EXTENSION_DETAILS}"  # azure.durable_functions' formula
    assert seen == {"text": sdk_text, "args": [sdk_text], "reason": EXTENSION_REASON, "details": EXTENSION_DETAILS}


def test_missing_details_read_as_the_sdk_reads_them() -> None:
    failed = TaskFailed(timestamp=at(1), task_scheduled_id=0, reason="ValueError: boom", details=None)
    seen = run("reads_activity_failure", task_scheduled(0, "Flaky"), failed)
    assert seen["text"] == "ValueError: boom \n None"
    assert seen["details"] is None


def test_a_failed_sub_orchestration_reads_as_the_sdk_exception_text_through_task_all() -> None:
    reason = "Orchestrator function 'child' failed: nope"
    failed = SubOrchestrationInstanceFailed(timestamp=START, task_scheduled_id=0, reason=reason, details='{"x": 1}')
    seen = run("reads_child_failure", sub_orchestration_created(0, "child", "kid"), failed)
    assert seen == {"text": f'{reason} \n {{"x": 1}}', "second_line": '{"x": 1}'}
