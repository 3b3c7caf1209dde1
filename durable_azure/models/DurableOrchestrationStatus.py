"""The module path `azure.durable_functions.models.DurableOrchestrationStatus`: an instance's status.

Re-exported from `durable_azure.status`.
"""

from __future__ import annotations

from durable_azure.status import DurableOrchestrationStatus

__all__ = ["DurableOrchestrationStatus"]
