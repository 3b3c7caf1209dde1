"""Starting an instance: the Pending row first, then the ExecutionStarted message (client layer).

Row first, so a start the worker picks up at once always finds its instance;
if the message cannot be sent, the row is rolled back (deleted, or the
finished instance it replaced is put back), so no Pending row is left that no
message will ever start. A new id costs two requests (insert, send); an id in
use costs a read and an If-Match replace, and is refused while its instance is
still active. When a worker in this process owns the instance's partition, it
claims the message as it is sent (stored invisible, started with no receive);
if that worker dies, the message reappears after its visibility timeout.
"""

from __future__ import annotations

from datetime import UTC, datetime

from durable_azure.azure_storage import InstanceRecord, MessageData, TaskHub
from durable_azure.client.instance_ids import new_instance_id
from durable_azure.errors import ConcurrencyConflictError, InstanceAlreadyExistsError, StorageError
from durable_azure.history import ExecutionStarted, OrchestrationInstance, OrchestrationStatus


def is_active(status: OrchestrationStatus) -> bool:
    """Pending, Running, Suspended or ContinuedAsNew: the instance may still make progress."""
    return status.is_running or status == OrchestrationStatus.ContinuedAsNew


async def start_instance(
    hub: TaskHub, name: str, instance_id: str, input_text: str | None, *, version: str | None = None
) -> str:
    """Write the Pending row, then send the ExecutionStarted message; returns the instance id."""
    existing: InstanceRecord | None = None
    start, record = start_records(name, instance_id, input_text, hub.hub_name, generation=0, version=version)
    try:
        new_etag = await hub.instances.create(record, etag=None)
    except ConcurrencyConflictError:
        existing = await hub.instances.get(instance_id)
        if existing is not None and is_active(existing.runtime_status):
            raise InstanceAlreadyExistsError(
                f"instance '{instance_id}' already exists and is {existing.runtime_status.name}",
                instance_id=instance_id,
            ) from None
        generation = existing.generation + 1 if existing is not None else 0
        start, record = start_records(
            name, instance_id, input_text, hub.hub_name, generation=generation, version=version
        )
        new_etag = await _replace(hub, record, existing)
    try:
        await hub.control_queue_for(instance_id).send_or_offer(
            MessageData(event=start, instance=start.orchestration_instance)
        )
    except StorageError:
        await _undo(hub, existing, instance_id, new_etag)
        raise
    return instance_id


def start_records(
    name: str, instance_id: str, input_text: str | None, hub_name: str, *, generation: int, version: str | None = None
) -> tuple[ExecutionStarted, InstanceRecord]:
    """The start message's event and the Pending row, sharing one execution id and creation time."""
    now = datetime.now(UTC)
    start = ExecutionStarted(
        timestamp=now,
        orchestration_instance=OrchestrationInstance(instance_id=instance_id, execution_id=new_instance_id()),
        name=name,
        version=version,
        input=input_text,
        generation=generation,
    )
    record = InstanceRecord(
        instance_id=instance_id,
        name=name,
        runtime_status=OrchestrationStatus.Pending,
        execution_id=start.orchestration_instance.execution_id,
        input=input_text,
        created_time=now,
        last_updated_time=now,
        generation=generation,
        task_hub_name=hub_name,
        version=version,
    )
    return start, record


async def _replace(hub: TaskHub, record: InstanceRecord, existing: InstanceRecord | None) -> str:
    try:
        return await hub.instances.create(record, etag=existing.etag if existing else None)
    except ConcurrencyConflictError as error:
        raise InstanceAlreadyExistsError(
            f"instance '{record.instance_id}' was created by someone else at the same time",
            instance_id=record.instance_id,
        ) from error


async def _undo(hub: TaskHub, previous: InstanceRecord | None, instance_id: str, etag: str) -> None:
    """No message will ever start the row we wrote: remove it, or put the finished instance back."""
    if previous is None:
        await hub.instances.delete(instance_id)
    else:
        await hub.instances.create(previous, etag=etag)
