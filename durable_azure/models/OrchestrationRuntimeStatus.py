"""The module path `azure.durable_functions.models.OrchestrationRuntimeStatus`: the runtime status enum.

Re-exported from `durable_azure.status`.
"""

from __future__ import annotations

from durable_azure.status import OrchestrationRuntimeStatus

__all__ = ["OrchestrationRuntimeStatus"]
