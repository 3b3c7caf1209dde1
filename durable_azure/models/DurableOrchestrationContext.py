"""The module path `azure.durable_functions.models.DurableOrchestrationContext`: the orchestrator context.

Re-exported from `durable_azure.orchestration.context`.
"""

from __future__ import annotations

from durable_azure.orchestration.context import DurableOrchestrationContext

__all__ = ["DurableOrchestrationContext"]
