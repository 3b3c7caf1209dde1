"""Small value helpers of the client: user values to JSON text, Instances rows to statuses."""

from __future__ import annotations

from typing import Any

from durable_azure import serialization
from durable_azure.azure_storage import InstanceRecord
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus, decode_json_text


def json_text(value: Any, what: str) -> str:
    """JSON text of a user value, or TypeError("<what> is not JSON-serializable: ...") before any write."""
    try:
        return serialization.dumps(value)
    except TypeError as error:
        raise TypeError(f"{what} is not JSON-serializable: {error}") from error


def status_from_record(record: InstanceRecord, *, show_input: bool) -> DurableOrchestrationStatus:
    return DurableOrchestrationStatus(
        name=record.name,
        instanceId=record.instance_id,
        createdTime=record.created_time,
        lastUpdatedTime=record.last_updated_time,
        runtimeStatus=OrchestrationRuntimeStatus.from_status(record.runtime_status),
        input=decode_json_text(record.input) if show_input else None,
        output=decode_json_text(record.output),
        customStatus=decode_json_text(record.custom_status),
    )


def status_name(status: DurableOrchestrationStatus) -> str:
    return status.runtime_status.value if status.runtime_status is not None else "unknown"
