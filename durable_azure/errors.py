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
    │   └── CredentialError           no token could be had for the connection's identity
    ├── InstanceError                 the instance-management contract refused an operation
    │   ├── InstanceNotFoundError
    │   ├── InstanceAlreadyExistsError
    │   ├── InstanceCompletedError    the instance has finished (HTTP 410 later)
    │   ├── InstanceRunningError      the instance is still active (e.g. purge refused)
    │   └── InstanceNotFailedError    rewind of an instance that is not Failed
    ├── WaitTimeoutError              wait_for_completion gave up (also a TimeoutError)
    ├── FunctionInvocationError       a function's invocation failed (bad output binding value, ...)
    └── ConfigurationError            bad host.json, task hub name, settings or input

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

    `reason` is the short message (usually "ExceptionType: message"), `details`
    the longer text (usually a traceback), as DTFx's TaskFailed event carries them.
    """

    def __init__(self, reason: str, details: str | None = None, *, error_type: str | None = None):
        message = reason if not details else f"{reason}\n{details}"
        super().__init__(message)
        self.reason = reason
        self.details = details
        self.error_type = error_type


class NonDeterminismError(OrchestrationError):
    """Replay diverged from the recorded history; the instance fails rather than guessing."""


class OrchestratorNotFoundError(OrchestrationError):
    """The worker has no orchestrator (or activity) registered under that name."""


class StorageError(DurableAzureError):
    """Azure Storage refused or failed an operation after the SDK's retries."""


class ConcurrencyConflictError(StorageError):
    """An optimistic-concurrency check failed: another writer changed the row or blob first."""


class LeaseLostError(StorageError):
    """A partition lease we believed we held belongs to someone else now."""


class MessageGoneError(StorageError):
    """The queue message was already deleted, or its pop receipt is stale."""


class MessageFormatError(StorageError):
    """A queue message body is not a valid envelope; retrying cannot help, so it is poison."""


class CredentialError(StorageError):
    """No token could be obtained for an identity-based connection.

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
