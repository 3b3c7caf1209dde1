"""The Reason and Details of failed activities and sub-orchestrations, as apps on the extension parse them."""

from __future__ import annotations

import json

from durable_azure.history import FailureDetails
from durable_azure.worker.failure_text import activity_failure, sub_orchestration_failure

TRACE = 'Traceback (most recent call last):\n  File "app.py", line 3, in fail\nValueError: no "stock"\n'


def test_an_activity_failure_has_the_extension_reason_and_a_one_line_json_exception() -> None:
    reason, details = activity_failure("Reserve", "ValueError", 'no "stock"', TRACE)
    assert reason == "Activity function 'Reserve' failed: ValueError: no \"stock\""
    assert "\n" not in details
    text = f"{reason} \n {details}"  # what the SDK raises at the yield
    exception = json.loads(text.split("\n")[1])
    assert exception["$type"] == "System.Exception, System.Private.CoreLib"
    assert exception["ClassName"] == "System.Exception"
    assert exception["Message"] == 'ValueError: no "stock"'
    assert exception["Message"].split(":", 1)[1].lstrip() == 'no "stock"'
    assert exception["StackTraceString"] == TRACE  # the traceback stays with the failure
    assert exception["InnerException"] is None


def test_an_activity_failure_without_a_traceback_still_parses() -> None:
    _, details = activity_failure("A", "TimeoutError", "GET https://x/: no response", None)
    assert json.loads(details)["StackTraceString"] is None


def test_a_sub_orchestration_failure_has_the_orchestrator_prefix_and_the_message_stacktrace_form() -> None:
    failure = FailureDetails(error_type="ValueError", error_message="bad order", stack_trace=TRACE)
    reason, details = sub_orchestration_failure("ProcessOrder", failure)
    assert reason == "Orchestrator function 'ProcessOrder' failed: bad order"
    assert details == f"Message: bad order, StackTrace: {TRACE}"


def test_a_sub_orchestration_failure_with_an_empty_message_names_the_error_type() -> None:
    failure = FailureDetails(error_type="KeyError", error_message="")
    reason, details = sub_orchestration_failure("Child", failure)
    assert reason == "Orchestrator function 'Child' failed: KeyError"
    assert details == "Message: KeyError, StackTrace: "
