"""The module path `azure.durable_functions.models.DurableOrchestrationClient`: the client.

Re-exported from `durable_azure.client`.
"""

from __future__ import annotations

from durable_azure.client import DurableOrchestrationClient

__all__ = ["DurableOrchestrationClient"]
