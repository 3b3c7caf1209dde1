"""`DurableOrchestrationClient`: start, query and wait for orchestration instances.

Method names and parameters are those of `azure.durable_functions`'
DurableOrchestrationClient, so porting is an import change; but this client
talks to the task hub's storage directly instead of to a .NET host's HTTP API.

Every refusal (bad id, bad input, an instance that is still running) is raised
before anything is written.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from durable_azure import serialization
from durable_azure.azure_storage import InstanceRecord, MessageData, StorageAccount, TaskHub
from durable_azure.errors import (
    ConcurrencyConflictError,
    DurableAzureError,
    InstanceAlreadyExistsError,
    InstanceCompletedError,
    InstanceNotFoundError,
    StorageError,
    WaitTimeoutError,
)
from durable_azure.history import (
    EventRaised,
    ExecutionStarted,
    ExecutionTerminated,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
)
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus, decode_json_text

MAX_INSTANCE_ID_LENGTH = 256
_FORBIDDEN_ID_CHARACTERS = frozenset("/\\#?")


def validate_instance_id(instance_id: str) -> str:
    """The original's rules (DF DurableClient): they keep ids usable as table keys and URL segments."""
    if not isinstance(instance_id, str) or not instance_id:
        raise ValueError("instance_id must be a non-empty string")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise ValueError(f"instance_id is {len(instance_id)} characters long; at most {MAX_INSTANCE_ID_LENGTH}")
    if instance_id.startswith("@"):
        raise ValueError(f"instance_id {instance_id!r} starts with '@', which is reserved for entities")
    for character in instance_id:
        if character in _FORBIDDEN_ID_CHARACTERS or ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F:
            raise ValueError(f"instance_id {instance_id!r} contains the forbidden character {character!r}")
    return instance_id


def new_instance_id() -> str:
    """32 lowercase hex characters, as `Guid.ToString("N")` gives."""
    return uuid.uuid4().hex


class ClientState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class DurableOrchestrationClient:
    """Async client of one task hub. Use `async with` (or `close()`) to release its connections."""

    def __init__(self, task_hub: TaskHub, *, owns_account: bool = False):
        self._hub = task_hub
        self._owns_account = owns_account
        self._state = ClientState.OPEN
        self._hub_ready = False

    @classmethod
    def from_connection_string(
        cls, connection_string: str, task_hub: str = "TestHubName", *, partition_count: int = 4
    ) -> DurableOrchestrationClient:
        """A client with its own storage connections, closed with the client."""
        account = StorageAccount.from_connection_string(connection_string)
        return cls(TaskHub(account, task_hub, partition_count=partition_count), owns_account=True)

    @property
    def task_hub_name(self) -> str:
        return self._hub.hub_name

    async def start_new(
        self, orchestration_function_name: str, instance_id: str | None = None, client_input: Any = None
    ) -> str:
        """Create a Pending instance and enqueue its ExecutionStarted; returns the instance id.

        Storage calls: read the Instances row, write it (insert, or replace
        with If-Match when a finished instance is replaced), send one message.
        """
        self._check_open()
        if not isinstance(orchestration_function_name, str) or not orchestration_function_name:
            raise ValueError("orchestration_function_name must be a non-empty string")
        instance_id = new_instance_id() if instance_id is None else validate_instance_id(instance_id)
        input_text = serialization.dumps(client_input) if client_input is not None else None
        await self._ensure_hub()
        existing = await self._hub.instances.get(instance_id, include_input=False)
        if existing is not None and _is_active(existing.runtime_status):
            raise InstanceAlreadyExistsError(
                f"instance '{instance_id}' already exists and is {existing.runtime_status.name}",
                instance_id=instance_id,
            )
        now = datetime.now(UTC)
        execution_id = uuid.uuid4().hex
        generation = existing.generation + 1 if existing is not None else 0
        record = InstanceRecord(
            instance_id=instance_id,
            name=orchestration_function_name,
            runtime_status=OrchestrationStatus.Pending,
            execution_id=execution_id,
            input=input_text,
            created_time=now,
            last_updated_time=now,
            generation=generation,
            task_hub_name=self._hub.hub_name,
        )
        try:
            await self._hub.instances.create(record, etag=existing.etag if existing else None)
        except ConcurrencyConflictError as error:
            raise InstanceAlreadyExistsError(
                f"instance '{instance_id}' was created by someone else at the same time", instance_id=instance_id
            ) from error
        start = ExecutionStarted(
            timestamp=now,
            orchestration_instance=OrchestrationInstance(instance_id=instance_id, execution_id=execution_id),
            name=orchestration_function_name,
            input=input_text,
            generation=generation,
        )
        message = MessageData(event=start, instance=start.orchestration_instance)
        try:
            await self._hub.control_queue_for(instance_id).send(message)
        except StorageError:
            if existing is None:  # do not leave a Pending row that no message will ever start
                await self._hub.instances.delete(instance_id)
            raise
        return instance_id

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> DurableOrchestrationStatus | None:
        """The instance's status, or None when no such instance exists."""
        self._check_open()
        await self._ensure_hub()
        record = await self._hub.instances.get(instance_id, include_input=show_input)
        if record is None:
            return None
        return _status_from_record(record, show_input=show_input)

    async def raise_event(self, instance_id: str, event_name: str, event_data: Any = None) -> None:
        """Send an external event; it is buffered until the orchestrator waits for that name.

        Raises InstanceNotFoundError for an unknown instance and
        InstanceCompletedError for a finished one, instead of dropping the event.
        """
        self._check_open()
        if not isinstance(event_name, str) or not event_name:
            raise ValueError("event_name must be a non-empty string")
        data = serialization.dumps(event_data)
        await self._require_running(instance_id, "raise an event on")
        event = EventRaised(timestamp=datetime.now(UTC), name=event_name, input=data)
        await self._send_to_instance(instance_id, event)

    async def terminate(self, instance_id: str, reason: str) -> None:
        """Ask the instance to stop; it ends as Terminated with `reason` as its output."""
        self._check_open()
        await self._require_running(instance_id, "terminate")
        event = ExecutionTerminated(timestamp=datetime.now(UTC), input=serialization.dumps(reason))
        await self._send_to_instance(instance_id, event)

    async def _require_running(self, instance_id: str, operation: str) -> InstanceRecord:
        await self._ensure_hub()
        record = await self._hub.instances.get(validate_instance_id(instance_id), include_input=False)
        if record is None:
            raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
        if record.runtime_status.is_terminal:
            raise InstanceCompletedError(
                f"cannot {operation} instance '{instance_id}': it is {record.runtime_status.name}",
                instance_id=instance_id,
            )
        return record

    async def _send_to_instance(self, instance_id: str, event: HistoryEvent) -> None:
        # No execution id: the message is for whichever execution is current when it arrives.
        message = MessageData(event=event, instance=OrchestrationInstance(instance_id=instance_id))
        await self._hub.control_queue_for(instance_id).send(message)

    async def wait_for_completion(
        self, instance_id: str, timeout: float | timedelta = 60.0
    ) -> DurableOrchestrationStatus:
        """Poll until the instance is Completed, Failed, Canceled or Terminated.

        Raises InstanceNotFoundError for an unknown instance and WaitTimeoutError
        when `timeout` passes first. Polls quickly at first (50 ms) and backs
        off to 1 s, so short orchestrations return promptly.
        """
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        deadline = time.monotonic() + seconds
        delay = 0.05
        while True:
            status = await self.get_status(instance_id, show_input=False)
            if status is None:
                raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
            if status.runtime_status and status.runtime_status.to_status().is_terminal:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"instance '{instance_id}' is still {status.runtime_status.value} after {seconds:g} s"
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(1.0, delay * 2)

    async def close(self) -> None:
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        if self._owns_account:
            await self._hub.account.close()

    async def __aenter__(self) -> DurableOrchestrationClient:
        self._check_open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._state is ClientState.CLOSED:
            raise DurableAzureError("this DurableOrchestrationClient is closed; create a new one")

    async def _ensure_hub(self) -> None:
        if not self._hub_ready:
            await self._hub.create_if_not_exists()
            self._hub_ready = True


def _is_active(status: OrchestrationStatus) -> bool:
    return status.is_running or status == OrchestrationStatus.ContinuedAsNew


def _status_from_record(record: InstanceRecord, *, show_input: bool) -> DurableOrchestrationStatus:
    return DurableOrchestrationStatus(
        name=record.name,
        instance_id=record.instance_id,
        created_time=record.created_time,
        last_updated_time=record.last_updated_time,
        runtime_status=OrchestrationRuntimeStatus.from_status(record.runtime_status),
        input_=decode_json_text(record.input) if show_input else None,
        output=decode_json_text(record.output),
        custom_status=decode_json_text(record.custom_status),
    )
