"""The client layer's public face: `DurableOrchestrationClient` and the values it returns.

`from durable_azure.client import DurableOrchestrationClient` keeps working; the class is assembled from
`orchestration_client` (start, query, purge, wait), `instance_control` (events, terminate, suspend, resume,
rewind), `entity_client` (signal, read, list, clean entities) and `http_payloads` (check-status responses).
"""

from __future__ import annotations

from durable_azure.client.entity_client import CleanEntityStorageResult, EntityMetadata, EntityPage
from durable_azure.client.instance_ids import MAX_INSTANCE_ID_LENGTH, new_instance_id, validate_instance_id
from durable_azure.client.orchestration_client import MAX_PAGE_SIZE, DurableOrchestrationClient
from durable_azure.status import (
    DurableOrchestrationStatus,
    InstanceStatusPage,
    OrchestrationRuntimeStatus,
    PurgeHistoryResult,
)

__all__ = [
    "MAX_INSTANCE_ID_LENGTH",
    "MAX_PAGE_SIZE",
    "CleanEntityStorageResult",
    "DurableOrchestrationClient",
    "DurableOrchestrationStatus",
    "EntityMetadata",
    "EntityPage",
    "InstanceStatusPage",
    "OrchestrationRuntimeStatus",
    "PurgeHistoryResult",
    "new_instance_id",
    "validate_instance_id",
]
