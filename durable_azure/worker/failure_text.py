"""The Reason and Details a failed activity or sub-orchestration reports to its orchestration, in the
extension's shapes, so that apps parsing `str(e)` at the `yield` (`f"{Reason} \\n {Details}"`, the
SDK's text) read what they read on the original.

* Activity (the extension's TaskActivityShim): Reason `Activity function 'name' failed: Type: message`;
  Details the failure serialized as a .NET exception in JSON on one line, whose `Message` is
  `Type: message`, as the Python worker words it. Apps do
  `json.loads(str(e).split("\\n")[1])["Message"]`; the Python traceback is its `StackTraceString`.
* Sub-orchestration (the extension's OutOfProcOrchestrationShim, then DTFx's parent notification):
  Reason `Orchestrator function 'name' failed: message` (`str(exception)`, as the SDK reports it);
  Details `Message: message, StackTrace: traceback`.

Imports only the standard library, `history` and `orchestration`.
"""

from __future__ import annotations

import json

from durable_azure.history import FailureDetails
from durable_azure.orchestration import failed_orchestrator_reason

_DOTNET_EXCEPTION_TYPE = "System.Exception, System.Private.CoreLib"
_DOTNET_EXCEPTION_CLASS = "System.Exception"
_DOTNET_EXCEPTION_HRESULT = -2146233088  # COR_E_EXCEPTION, what a System.Exception serializes with


def activity_failure(name: str, error_type: str, message: str, stack_trace: str | None) -> tuple[str, str]:
    """(Reason, Details) of the TaskFailed of activity `name`, which raised `error_type: message`."""
    worded = f"{error_type}: {message}"
    details = {
        "$type": _DOTNET_EXCEPTION_TYPE,
        "ClassName": _DOTNET_EXCEPTION_CLASS,
        "Message": worded,
        "Data": None,
        "InnerException": None,
        "HelpURL": None,
        "StackTraceString": stack_trace,
        "RemoteStackTraceString": None,
        "RemoteStackIndex": 0,
        "ExceptionMethod": None,
        "HResult": _DOTNET_EXCEPTION_HRESULT,
        "Source": None,
        "WatsonBuckets": None,
    }
    return f"Activity function '{name}' failed: {worded}", json.dumps(details)


def sub_orchestration_failure(name: str, failure: FailureDetails) -> tuple[str, str]:
    """(Reason, Details) of the SubOrchestrationInstanceFailed of orchestrator `name` that failed with `failure`.

    The Reason is the child's own output (`failed_orchestrator_reason`), as DTFx passes it on.
    """
    message = failure.error_message or failure.error_type
    return failed_orchestrator_reason(name, failure), f"Message: {message}, StackTrace: {failure.stack_trace or ''}"
