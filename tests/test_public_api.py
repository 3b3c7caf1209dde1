"""`durable_azure.__all__` is the public surface: every name resolves, and the expected names are there.

Users port an Azure Durable Functions app by changing `import azure.durable_functions as df` to
`import durable_azure as df`, so the names they use must be importable from the top-level package.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import durable_azure
from durable_azure import errors

EXPECTED_PUBLIC_NAMES = {
    "DFApp",
    "Blueprint",
    "DurableOrchestrationContext",
    "DurableOrchestrationClient",
    "DurableOrchestrationStatus",
    "OrchestrationRuntimeStatus",
    "RetryOptions",
    "DurableHttpRequest",
    "TokenSource",
    "ManagedIdentityTokenSource",
    "DurableTaskSettings",
    "DurableAzureError",
    "OrchestrationError",
    "TaskFailedError",
    "NonDeterminismError",
    "OrchestratorNotFoundError",
    "StorageError",
    "StorageUnavailableError",
    "CredentialError",
    "ConcurrencyConflictError",
    "LeaseLostError",
    "MessageGoneError",
    "MessageFormatError",
    "InstanceError",
    "InstanceNotFoundError",
    "InstanceAlreadyExistsError",
    "InstanceCompletedError",
    "InstanceRunningError",
    "InstanceNotFailedError",
    "WaitTimeoutError",
    "ConfigurationError",
    "FunctionInvocationError",
    "Orchestrator",
    "PurgeHistoryResult",
    "DurableEntityContext",
    "Entity",
    "EntityId",
    "EntityStateResponse",
    "EntityOperationFailedError",
    "DurableFunctionsCompatibilityWarning",
}


def test_all_is_exactly_the_expected_surface() -> None:
    assert set(durable_azure.__all__) == EXPECTED_PUBLIC_NAMES
    assert len(durable_azure.__all__) == len(set(durable_azure.__all__))


@pytest.mark.parametrize("name", sorted(EXPECTED_PUBLIC_NAMES))
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(durable_azure, name)
    assert value is not None
    assert name in dir(durable_azure)


def test_every_error_class_is_exported_and_shares_the_root() -> None:
    error_classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.DurableAzureError)
    }
    assert error_classes <= set(durable_azure.__all__)
    for name in error_classes:
        assert getattr(durable_azure, name) is getattr(errors, name)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = durable_azure.no_such_name


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from durable_azure import *", namespace)
    assert set(namespace) >= EXPECTED_PUBLIC_NAMES


def test_importing_the_package_loads_no_storage_sdk() -> None:
    """`import durable_azure` stays light: the CLI's --help and user modules do not pay for the SDKs."""
    code = "import sys, durable_azure; print(any(name.startswith('azure.storage') for name in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.strip() == "False"
