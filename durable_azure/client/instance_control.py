"""The client's requests to one live instance: raise_event, terminate, suspend, resume, rewind.

They travel as control-queue messages, as in the original, so only the worker that owns the instance
writes its history (rewind excepted: a Failed instance has no owner at work). Per method, what an unknown
or finished instance gets follows the official client's reading of the extension's 404 and 410 (README).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from durable_azure import serialization
from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.client.http_payloads import ManagementLinks
from durable_azure.client.instance_ids import validate_instance_id
from durable_azure.client.maintenance import rewind_instance
from durable_azure.client.values import json_text
from durable_azure.errors import (
    ConfigurationError,
    InstanceCompletedError,
    InstanceNotFailedError,
    InstanceNotFoundError,
)
from durable_azure.history import (
    EventRaised,
    ExecutionResumed,
    ExecutionSuspended,
    ExecutionTerminated,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
)

if TYPE_CHECKING:
    from durable_azure.client.orchestration_client import DurableOrchestrationClient

OtherHubs = Callable[[str | None, str | None], Awaitable["DurableOrchestrationClient"]]
"""(task hub name, connection name) -> a client for that hub; the host's `client_for`."""


class InstanceControlMixin:
    """Part of DurableOrchestrationClient; needs its hub, management links and open/ensure checks."""

    _hub: TaskHub
    _other_hubs: OtherHubs | None
    _refuse_finished: bool
    management: ManagementLinks | None
    _check_open: Callable[[], None]
    _ensure_hub: Callable[[], Awaitable[None]]

    @property
    def task_hub_name(self) -> str:
        return self._hub.hub_name

    async def raise_event(
        self,
        instance_id: str,
        event_name: str,
        event_data: Any = None,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
    ) -> None:
        """Send an external event; it is buffered, in order, until the orchestrator waits for that name.

        Raises InstanceNotFoundError for an unknown instance and InstanceCompletedError for a finished one
        (the official client raises for the extension's 404 and 410 alike). `task_hub_name` and
        `connection_name` address an instance of another task hub or storage connection.
        """
        self._check_open()
        if not isinstance(event_name, str) or not event_name:
            raise ValueError("event_name must be a non-empty string")
        data = json_text(event_data, f"data of event '{event_name}'")
        target = await self._client_for(task_hub_name, connection_name)
        if target is not self:
            return await target.raise_event(instance_id, event_name, event_data)
        await self._require_active(instance_id, "raise an event on", refuse_finished=True)
        event = EventRaised(timestamp=datetime.now(UTC), name=event_name, input=data)
        await self._send_to_instance(instance_id, event)

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        """Ask the instance to stop; it ends as Terminated with `reason` as its output (None: null).

        An unknown instance raises InstanceNotFoundError; a finished one is left as it is (see `__init__`).
        """
        self._check_open()
        if not await self._require_active(instance_id, "terminate"):
            return
        event = ExecutionTerminated(timestamp=datetime.now(UTC), input=serialization.dumps(reason))
        await self._send_to_instance(instance_id, event)

    async def suspend(self, instance_id: str, reason: str) -> None:
        """Pause the instance: it makes no progress, and events that arrive wait for `resume`."""
        self._check_open()
        if not await self._require_active(instance_id, "suspend"):
            return
        await self._send_to_instance(instance_id, ExecutionSuspended(timestamp=datetime.now(UTC), reason=reason))

    async def resume(self, instance_id: str, reason: str) -> None:
        """Let a Suspended instance go on; resuming one that is not suspended changes nothing (as in the original)."""
        self._check_open()
        if not await self._require_active(instance_id, "resume"):
            return
        await self._send_to_instance(instance_id, ExecutionResumed(timestamp=datetime.now(UTC), reason=reason))

    async def _require_active(self, instance_id: str, operation: str, *, refuse_finished: bool = False) -> bool:
        """True when the instance is active; False for a finished one, unless this client refuses those.

        Raises InstanceNotFoundError for an unknown id (the official client raises for the extension's 404).
        """
        await self._ensure_hub()
        record = await self._hub.instances.get(validate_instance_id(instance_id), include_input=False)
        if record is None:
            raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
        if not record.runtime_status.is_terminal:
            return True
        if refuse_finished or self._refuse_finished:
            raise InstanceCompletedError(
                f"cannot {operation} instance '{instance_id}': it is {record.runtime_status.name}",
                instance_id=instance_id,
            )
        return False

    async def _client_for(self, task_hub_name: str | None, connection_name: str | None) -> InstanceControlMixin:
        """This client, or one for another task hub / connection; ConfigurationError when none can be had."""
        if task_hub_name is None and connection_name is None:
            return self
        if self._other_hubs is not None:
            return await self._other_hubs(task_hub_name, connection_name)
        own_connection = self.management.connection_name if self.management is not None else None
        same_hub = task_hub_name is None or task_hub_name.lower() == self.task_hub_name.lower()
        same_connection = connection_name is None or (
            own_connection is not None and connection_name.lower() == own_connection.lower()
        )
        if same_hub and same_connection:
            return self
        raise ConfigurationError(
            f"this client cannot reach task hub {task_hub_name or self.task_hub_name!r} on connection "
            f"{connection_name or own_connection or '(its own)'!r}: it was made for task hub {self.task_hub_name!r} "
            "only. Use a client the host gives a function (durableClient binding), which reaches other hubs and "
            "connections, or create one for that hub with DurableOrchestrationClient.from_connection(...)"
        )

    async def _send_to_instance(self, instance_id: str, event: HistoryEvent) -> None:
        # No execution id: the message is for whichever execution is current when it arrives.
        message = MessageData(event=event, instance=OrchestrationInstance(instance_id=instance_id))
        await self._hub.control_queue_for(instance_id).send(message)

    async def rewind(
        self,
        instance_id: str,
        reason: str,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
    ) -> None:
        """Retry the failed work of a Failed instance (and of its failed sub-orchestrations), then go on.

        Raises InstanceNotFoundError, or InstanceNotFailedError when the
        instance is not Failed. Histories are rewritten (sentinel-guarded)
        before any instance is woken, so a rewound child cannot report to a
        parent that still looks Failed. `task_hub_name` and `connection_name`
        address an instance of another task hub or storage connection.
        """
        self._check_open()
        target = await self._client_for(task_hub_name, connection_name)
        if target is not self:
            return await target.rewind(instance_id, reason)
        await self._ensure_hub()
        record = await self._hub.instances.get(validate_instance_id(instance_id), include_input=False)
        if record is None:
            raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
        if record.runtime_status != OrchestrationStatus.Failed:
            raise InstanceNotFailedError(
                f"cannot rewind instance '{instance_id}': it is {record.runtime_status.name}, not Failed",
                instance_id=instance_id,
            )
        await rewind_instance(self._hub, instance_id, reason)
