"""Every exception durable-azure raises, under one root.

This module imports nothing from the project, so any layer may import it.

    DurableAzureError
    ├── OrchestrationError            the replay engine or user orchestration code
    │   ├── TaskFailedError           an activity / sub-orchestration failed (raised at the `yield`)
    │   ├── NonDeterminismError       replay produced different actions than history recorded
    │   └── OrchestratorNotFoundError no orchestrator of that name is registered
    ├── StorageError                  Azure Storage said no, after retries
    │   ├── ConcurrencyConflictError  an ETag / sentinel check failed (another writer won)
    │   ├── LeaseLostError            a partition lease is no longer ours
    │   ├── MessageGoneError          a queue message was deleted or its pop receipt changed
    │   ├── MessageFormatError        a queue message body is not a DTFx envelope (never will be)
    │   ├── StorageUnavailableError   no answer, or only busy answers, through every retry
    │   └── CredentialError           no token could be had, or storage refused the credential
    ├── InstanceError                 the instance-management contract refused an operation
    │   ├── InstanceNotFoundError
    │   ├── InstanceAlreadyExistsError
    │   ├── InstanceCompletedError    the instance has finished (HTTP 410 later)
    │   ├── InstanceRunningError      the instance is still active (e.g. purge refused)
    │   └── InstanceNotFailedError    rewind of an instance that is not Failed
    ├── WaitTimeoutError              wait_for_completion gave up (also a TimeoutError)
    ├── FunctionInvocationError       a function's invocation failed (bad output binding value, ...)
    └── ConfigurationError            bad host.json, task hub name, settings or input

`DurableFunctionsCompatibilityWarning` (a UserWarning, not an error) is the SDK's warning category, here
so that apps filtering it by name keep working.

Interrupts that user code must not swallow derive from `BaseException` (see
`orchestration/`), as in temporal.
"""

from __future__ import annotations


class DurableAzureError(Exception):
    """Root of every error durable-azure raises on purpose."""


class OrchestrationError(DurableAzureError):
    """A problem in orchestration code or in its replay."""


class TaskFailedError(OrchestrationError):
    """An activity or sub-orchestration failed; raised at the orchestrator's `yield`.

    `reason` is the short message, `details` the longer text (a traceback, or the extension's JSON of the
    error), as DTFx's TaskFailed / SubOrchestrationInstanceFailed event carries them. `str(e)` and
    `e.args[0]` are exactly what azure.durable_functions raises there, `f"{Reason} \n {Details}"` (a plain
    Exception in the SDK, so apps that parse that text or catch Exception keep working).
    """

    def __init__(self, reason: str, details: str | None = None, *, error_type: str | None = None):
        super().__init__(f"{reason} \n {details}")
        self.reason = reason
        self.details = details
        self.error_type = error_type


class NonDeterminismError(OrchestrationError):
    """Replay diverged from the recorded history; the instance fails rather than guessing."""


class OrchestratorNotFoundError(OrchestrationError):
    """The worker has no orchestrator (or activity) registered under that name."""


class StorageError(DurableAzureError):
    """Azure Storage refused or failed an operation, after the retry policy (azure_storage/transport/).

    `status` and `code` are the service's HTTP status and error code when it
    answered. `maybe_applied` is true when an earlier attempt of the same
    request may have been applied although it failed (the connection broke
    after sending, the reply timed out): a conflict then may be our own write,
    and the caller compares before it concludes anything.
    """

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, maybe_applied: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.maybe_applied = maybe_applied


class ConcurrencyConflictError(StorageError):
    """An optimistic-concurrency check failed: another writer changed the row or blob first."""


class LeaseLostError(StorageError):
    """A partition lease we believed we held belongs to someone else now."""


class MessageGoneError(StorageError):
    """The queue message was already deleted, or its pop receipt is stale."""


class MessageFormatError(StorageError):
    """A queue message body is not a valid envelope; retrying cannot help, so it is poison."""


class StorageUnavailableError(StorageError):
    """Storage could not be reached, or kept answering busy or timed out, through every retry."""


class CredentialError(StorageError):
    """No token could be obtained for the connection's identity, or storage refused its credential.

    The message names the setting and the credential type, never a key, secret or token.
    """


class InstanceError(DurableAzureError):
    """The instance-management contract refused an operation; nothing was written."""

    def __init__(self, message: str, *, instance_id: str | None = None):
        super().__init__(message)
        self.instance_id = instance_id


class InstanceNotFoundError(InstanceError):
    """No instance with that id exists in the task hub."""


class InstanceAlreadyExistsError(InstanceError):
    """An instance with that id is still Pending, Running or Suspended."""


class InstanceCompletedError(InstanceError):
    """The instance has already finished, so the operation no longer applies."""


class InstanceRunningError(InstanceError):
    """The instance is still Pending, Running or Suspended, so it cannot be purged."""


class InstanceNotFailedError(InstanceError):
    """Only a Failed instance can be rewound."""


class WaitTimeoutError(DurableAzureError, TimeoutError):
    """`wait_for_completion` gave up before the instance finished."""


class ConfigurationError(DurableAzureError, ValueError):
    """Invalid configuration or argument, detected before anything was written."""


class FunctionInvocationError(DurableAzureError):
    """One invocation of a user function failed in a way its caller should see (HTTP 500 with this message).

    Raised for a bad output-binding value (e.g. an orchestration-client payload missing `FunctionName`) or a
    return value that is not an HTTP response; nothing the invocation asked for has been started.
    """


class DurableFunctionsCompatibilityWarning(UserWarning):
    """azure.durable_functions' warning category for app set-ups its next major version drops.

    The SDK warns with it about function.json (v1 model) apps; this host runs those apps and has no such
    plan, so it never warns with it. It exists for `warnings.filterwarnings(..., category=...)` lines.
    """
