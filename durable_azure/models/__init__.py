"""`durable_azure.models`: the module paths of `azure.durable_functions.models`, for ported imports.

`from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus` becomes
`from durable_azure.models.DurableOrchestrationStatus import ...`; each module re-exports this project's
class, never a second implementation. As in the SDK, the package's attribute of each name is the class,
also after its same-named module has been imported.

`DurableHttpRequest`, `TokenSource` and `ManagedIdentityTokenSource` live with `call_http`
(`durable_azure.orchestration.http`). The SDK's `DurableOrchestrationBindings` and `OrchestratorState` (its
wire protocol with the .NET extension) and the entity protocol's message classes (`models/entities/`) have no
counterpart here (README, compatibility table). `EntityId` is at `models.utils.entity_utils`, as in the SDK.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from durable_azure.models.DurableEntityContext import DurableEntityContext
from durable_azure.models.DurableHttpRequest import DurableHttpRequest
from durable_azure.models.DurableOrchestrationClient import DurableOrchestrationClient
from durable_azure.models.DurableOrchestrationContext import DurableOrchestrationContext
from durable_azure.models.DurableOrchestrationStatus import DurableOrchestrationStatus
from durable_azure.models.EntityStateResponse import EntityStateResponse
from durable_azure.models.FunctionContext import FunctionContext
from durable_azure.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus
from durable_azure.models.PurgeHistoryResult import PurgeHistoryResult
from durable_azure.models.RetryOptions import RetryOptions
from durable_azure.models.Task import TaskBase
from durable_azure.models.TokenSource import ManagedIdentityTokenSource, TokenSource
from durable_azure.models.utils.entity_utils import EntityId

__all__ = [
    "DurableEntityContext",
    "DurableHttpRequest",
    "DurableOrchestrationClient",
    "DurableOrchestrationContext",
    "DurableOrchestrationStatus",
    "EntityId",
    "EntityStateResponse",
    "FunctionContext",
    "ManagedIdentityTokenSource",
    "OrchestrationRuntimeStatus",
    "PurgeHistoryResult",
    "RetryOptions",
    "TaskBase",
    "TokenSource",
]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _ModelsModule(types.ModuleType):
    """Keeps each name bound to its class when Python binds the same-named submodule on the package.

    Importing `durable_azure.models.X` sets the package's attribute `X` to the module `X`; the SDK's
    package rebinds it to the class (its `__init__` imports the class after the module), and so does this.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}" and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _ModelsModule
