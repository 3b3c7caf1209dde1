"""What the client returns: `DurableOrchestrationStatus` and `OrchestrationRuntimeStatus`.

Same names and shapes as `azure.durable_functions.models`, so code written
against the official SDK reads them unchanged. Part of the client layer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from durable_azure import serialization
from durable_azure.history import OrchestrationStatus


class OrchestrationRuntimeStatus(enum.Enum):
    """The value is the name, as in azure.durable_functions."""

    Running = "Running"
    Completed = "Completed"
    ContinuedAsNew = "ContinuedAsNew"
    Failed = "Failed"
    Canceled = "Canceled"
    Terminated = "Terminated"
    Pending = "Pending"
    Suspended = "Suspended"

    @classmethod
    def from_status(cls, status: OrchestrationStatus) -> OrchestrationRuntimeStatus:
        return cls(status.name)

    def to_status(self) -> OrchestrationStatus:
        return OrchestrationStatus[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class DurableOrchestrationStatus:
    """One instance's status. `input_`, `output` and `custom_status` are decoded JSON values.

    `output` is the return value when Completed, the error text when Failed
    and the reason when Terminated.
    """

    name: str | None
    instance_id: str
    created_time: datetime | None
    last_updated_time: datetime | None
    runtime_status: OrchestrationRuntimeStatus | None
    input_: Any = None
    output: Any = None
    custom_status: Any = None
    history: list[dict[str, Any]] | None = None

    def __bool__(self) -> bool:
        """azure.durable_functions treats a status without `created_time` as "no such instance"."""
        return self.created_time is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "instanceId": self.instance_id,
            "createdTime": _format(self.created_time),
            "lastUpdatedTime": _format(self.last_updated_time),
            "input": self.input_,
            "output": self.output,
            "runtimeStatus": self.runtime_status.value if self.runtime_status else None,
            "customStatus": self.custom_status,
            "history": self.history,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceStatusPage:
    """One page of a query; pass `continuation_token` back for the next page (None: this was the last)."""

    instances: list[DurableOrchestrationStatus]
    continuation_token: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeHistoryResult:
    """How many instances a purge removed (name and field as in azure.durable_functions.models)."""

    instances_deleted: int


def decode_json_text(text: str | None) -> Any:
    """Stored inputs/outputs are JSON text; a value that is not JSON is returned as the text itself."""
    if text is None or text == "":
        return None
    try:
        return serialization.loads(text)
    except ValueError:
        return text


def _format(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
