"""durable-azure: Durable Functions for Python on Azure Storage, without the .NET host.

Users write `import durable_azure as df` where they wrote `import azure.durable_functions as df`.

Public names load on first use (PEP 562 `__getattr__`), so `import durable_azure` stays cheap for the
command line and does not drag the storage SDKs into a process that only needs the decorators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durable_azure.client import (
        DurableOrchestrationClient,
        DurableOrchestrationStatus,
        OrchestrationRuntimeStatus,
        PurgeHistoryResult,
    )
    from durable_azure.entities import DurableEntityContext, Entity, EntityId, EntityStateResponse
    from durable_azure.errors import (
        ConcurrencyConflictError,
        ConfigurationError,
        CredentialError,
        DurableAzureError,
        DurableFunctionsCompatibilityWarning,
        FunctionInvocationError,
        InstanceAlreadyExistsError,
        InstanceCompletedError,
        InstanceError,
        InstanceNotFailedError,
        InstanceNotFoundError,
        InstanceRunningError,
        LeaseLostError,
        MessageFormatError,
        MessageGoneError,
        NonDeterminismError,
        OrchestrationError,
        OrchestratorNotFoundError,
        StorageError,
        StorageUnavailableError,
        TaskFailedError,
        WaitTimeoutError,
    )
    from durable_azure.functions import Blueprint, DFApp, Orchestrator
    from durable_azure.orchestration import DurableOrchestrationContext, RetryOptions
    from durable_azure.orchestration.entity_calls import EntityOperationFailedError
    from durable_azure.orchestration.http import DurableHttpRequest, ManagedIdentityTokenSource, TokenSource
    from durable_azure.settings import DurableTaskSettings

__version__ = "0.1.0"

__all__ = [
    "Blueprint",
    "ConcurrencyConflictError",
    "ConfigurationError",
    "CredentialError",
    "DFApp",
    "DurableAzureError",
    "DurableEntityContext",
    "DurableFunctionsCompatibilityWarning",
    "DurableHttpRequest",
    "DurableOrchestrationClient",
    "DurableOrchestrationContext",
    "DurableOrchestrationStatus",
    "DurableTaskSettings",
    "Entity",
    "EntityId",
    "EntityOperationFailedError",
    "EntityStateResponse",
    "FunctionInvocationError",
    "InstanceAlreadyExistsError",
    "InstanceCompletedError",
    "InstanceError",
    "InstanceNotFailedError",
    "InstanceNotFoundError",
    "InstanceRunningError",
    "LeaseLostError",
    "ManagedIdentityTokenSource",
    "MessageFormatError",
    "MessageGoneError",
    "NonDeterminismError",
    "OrchestrationError",
    "OrchestrationRuntimeStatus",
    "Orchestrator",
    "OrchestratorNotFoundError",
    "PurgeHistoryResult",
    "RetryOptions",
    "StorageError",
    "StorageUnavailableError",
    "TaskFailedError",
    "TokenSource",
    "WaitTimeoutError",
]

_MODULE_OF: dict[str, str] = {
    "DFApp": "durable_azure.functions",
    "Blueprint": "durable_azure.functions",
    "Orchestrator": "durable_azure.functions",
    "DurableOrchestrationContext": "durable_azure.orchestration",
    "RetryOptions": "durable_azure.orchestration",
    "DurableHttpRequest": "durable_azure.orchestration.http",
    "ManagedIdentityTokenSource": "durable_azure.orchestration.http",
    "TokenSource": "durable_azure.orchestration.http",
    "DurableOrchestrationClient": "durable_azure.client",
    "DurableOrchestrationStatus": "durable_azure.client",
    "OrchestrationRuntimeStatus": "durable_azure.client",
    "PurgeHistoryResult": "durable_azure.client",
    "DurableTaskSettings": "durable_azure.settings",
    "DurableEntityContext": "durable_azure.entities",
    "Entity": "durable_azure.entities",
    "EntityId": "durable_azure.entities",
    "EntityStateResponse": "durable_azure.entities",
    "EntityOperationFailedError": "durable_azure.orchestration.entity_calls",
}
"""Where each public name lives; every other name in `__all__` is a class from durable_azure.errors."""


def __getattr__(name: str) -> Any:
    if name == "models":  # `df.models.X`, as `azure.durable_functions.models.X`
        return importlib.import_module("durable_azure.models")
    module_name = _MODULE_OF.get(name, "durable_azure.errors" if name in __all__ else None)
    if module_name is None:
        raise AttributeError(f"module 'durable_azure' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
