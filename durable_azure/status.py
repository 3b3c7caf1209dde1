"""What the client returns: `DurableOrchestrationStatus` and `OrchestrationRuntimeStatus`.

Same names and shapes as `azure.durable_functions.models`, so code written
against the official SDK reads them unchanged. Part of the client layer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from durable_azure import serialization
from durable_azure.history import OrchestrationStatus

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""azure.durable_functions' DATETIME_STRING_FORMAT."""


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


class DurableOrchestrationStatus:
    """One instance's status. `input_`, `output` and `custom_status` are decoded JSON values.

    `output` is the return value when Completed, the error text when Failed and the reason when
    Terminated. The constructor takes the extension's JSON field names (`instanceId`, `createdTime`, ...)
    as azure.durable_functions' does, so `DurableOrchestrationStatus.from_json(body)` reads a status
    document of the HTTP API; times may be ISO 8601 text or datetimes. Read-only properties.
    """

    def __init__(  # parameters: the HTTP API's JSON names, as in the SDK
        self,
        name: str | None = None,
        instanceId: str | None = None,
        createdTime: str | datetime | None = None,
        lastUpdatedTime: str | datetime | None = None,
        input: Any = None,
        output: Any = None,
        runtimeStatus: OrchestrationRuntimeStatus | str | None = None,
        customStatus: Any = None,
        history: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._name = name
        self._instance_id = instanceId
        self._created_time = _parse_time(createdTime)
        self._last_updated_time = _parse_time(lastUpdatedTime)
        self._input = input
        self._output = output
        self._runtime_status = None if runtimeStatus is None else OrchestrationRuntimeStatus(runtimeStatus)
        self._custom_status = customStatus
        self._history = history
        for key, value in kwargs.items():  # extra fields of the document stay readable, as in the SDK
            setattr(self, key, value)

    @classmethod
    def from_json(cls, json_obj: Any) -> DurableOrchestrationStatus:
        """A status from the HTTP API's status document; a plain string becomes its `message` attribute."""
        if isinstance(json_obj, str):
            return cls(message=json_obj)
        return cls(**json_obj)

    def to_json(self) -> dict[str, Any]:
        """The HTTP API's field names; times as azure.durable_functions formats them (UTC, microseconds)."""
        return {
            "name": self.name,
            "instanceId": self.instance_id,
            "createdTime": _format(self.created_time),
            "lastUpdatedTime": _format(self.last_updated_time),
            "output": self.output,
            "input": self.input_,
            "runtimeStatus": self.runtime_status.name if self.runtime_status is not None else None,
            "customStatus": self.custom_status,
            "history": self.history,
        }

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def instance_id(self) -> str | None:
        return self._instance_id

    @property
    def created_time(self) -> datetime | None:
        return self._created_time

    @property
    def last_updated_time(self) -> datetime | None:
        return self._last_updated_time

    @property
    def input_(self) -> Any:
        return self._input

    @property
    def output(self) -> Any:
        return self._output

    @property
    def runtime_status(self) -> OrchestrationRuntimeStatus | None:
        return self._runtime_status

    @property
    def custom_status(self) -> Any:
        return self._custom_status

    @property
    def history(self) -> list[Any] | None:
        return self._history

    def __bool__(self) -> bool:
        """azure.durable_functions treats a status without `created_time` as "no such instance"."""
        return self.created_time is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DurableOrchestrationStatus):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self._instance_id, self._created_time, self._runtime_status))

    def __repr__(self) -> str:
        status = self.runtime_status.name if self.runtime_status is not None else None
        return (
            f"DurableOrchestrationStatus(name={self.name!r}, instance_id={self.instance_id!r}, runtime_status={status})"
        )

    def _fields(self) -> tuple[Any, ...]:
        return (
            self._name,
            self._instance_id,
            self._created_time,
            self._last_updated_time,
            self._input,
            self._output,
            self._runtime_status,
            self._custom_status,
            self._history,
        )

    def with_history(self, history: list[Any] | None) -> DurableOrchestrationStatus:
        """A copy carrying `history` (the client adds it when asked to show history)."""
        copy = DurableOrchestrationStatus.__new__(DurableOrchestrationStatus)
        copy.__dict__.update(self.__dict__)
        copy._history = history
        return copy


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceStatusPage:
    """One page of a query; pass `continuation_token` back for the next page (None: this was the last)."""

    instances: list[DurableOrchestrationStatus]
    continuation_token: str | None


class PurgeHistoryResult:
    """How many instances a purge removed; constructor and `from_json` take the HTTP API's `instancesDeleted`."""

    def __init__(self, instancesDeleted: int, **kwargs: Any) -> None:
        self._instances_deleted = instancesDeleted
        for key, value in kwargs.items():
            setattr(self, key, value)

    @classmethod
    def from_json(cls, json_obj: dict[Any, Any]) -> PurgeHistoryResult:
        return cls(**json_obj)

    @property
    def instances_deleted(self) -> int:
        return self._instances_deleted

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PurgeHistoryResult):
            return NotImplemented
        return self._instances_deleted == other._instances_deleted

    def __hash__(self) -> int:
        return hash(self._instances_deleted)

    def __repr__(self) -> str:
        return f"PurgeHistoryResult(instances_deleted={self._instances_deleted})"


def decode_json_text(text: str | None) -> Any:
    """Stored inputs/outputs are JSON text; a value that is not JSON is returned as the text itself."""
    if text is None or text == "":
        return None
    try:
        return serialization.loads(text)
    except ValueError:
        return text


def _format(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(_TIME_FORMAT) if value else None


def _parse_time(value: str | datetime | None) -> datetime | None:
    """A datetime from ISO 8601 text (the HTTP API's `2024-01-31T10:00:00.123Z`); naive values are UTC."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
