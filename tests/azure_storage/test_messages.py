"""The MessageData envelope: DTFx `$type` names, enums as ints, base64 bodies, large-message offload."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from durable_azure.azure_storage import MessageData, StorageAccount, TaskHub
from durable_azure.azure_storage.messages import envelope_from_json, envelope_to_json
from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    FailureDetails,
    OrchestrationInstance,
    OrchestrationStatus,
    ParentInstance,
    TaskFailed,
    TaskScheduled,
)
from tests.conftest import SdkClients

INSTANCE = OrchestrationInstance(instance_id="order-1", execution_id="exec-1")


def _started() -> ExecutionStarted:
    parent = ParentInstance(
        name="parent",
        orchestration_instance=OrchestrationInstance(instance_id="p", execution_id="pe"),
        task_schedule_id=3,
    )
    return ExecutionStarted(
        orchestration_instance=INSTANCE,
        parent_instance=parent,
        name="Hello",
        input='"world"',
        tags={"team": "a"},
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    )


def test_envelope_has_dtfx_type_names_and_int_enums() -> None:
    data = MessageData(event=_started(), instance=INSTANCE, episode=2, sequence_number=7)
    envelope = envelope_to_json(data)
    assert envelope["$type"] == "DurableTask.AzureStorage.MessageData"
    assert envelope["TaskMessage"]["$type"] == "DurableTask.Core.TaskMessage"
    event = envelope["TaskMessage"]["Event"]
    assert event["$type"] == "DurableTask.Core.History.ExecutionStartedEvent"
    assert event["EventType"] == 0
    assert event["OrchestrationInstance"]["$type"] == "DurableTask.Core.OrchestrationInstance"
    assert event["ParentInstance"]["$type"] == "DurableTask.Core.ParentInstance"
    assert event["ParentInstance"]["OrchestrationInstance"]["$type"] == "DurableTask.Core.OrchestrationInstance"
    assert event["Tags"]["$type"].startswith("System.Collections.Generic.Dictionary`2")
    assert event["Timestamp"] == "2026-01-02T03:04:05.1234560Z"
    assert envelope["TaskMessage"]["OrchestrationInstance"] == {
        "$type": "DurableTask.Core.OrchestrationInstance",
        "InstanceId": "order-1",
        "ExecutionId": "exec-1",
    }
    assert (envelope["Episode"], envelope["SequenceNumber"]) == (2, 7)
    assert "$type" not in envelope["Sender"]


def test_envelope_round_trip_for_several_kinds() -> None:
    completed = ExecutionCompleted(
        orchestration_status=OrchestrationStatus.Failed,
        failure_details=FailureDetails(error_type="ValueError", error_message="bad"),
    )
    events = [
        _started(),
        TaskScheduled(event_id=0, name="act", input="1"),
        completed,
        TaskFailed(task_scheduled_id=0, reason="r", details="d"),
    ]
    sender = OrchestrationInstance(instance_id="s", execution_id="se")
    for event in events:
        data = MessageData(event=event, instance=INSTANCE, episode=1, sender=sender, sequence_number=3)
        parsed = envelope_from_json(json.loads(json.dumps(envelope_to_json(data))))
        assert parsed == data
    assert (
        envelope_to_json(MessageData(event=completed, instance=INSTANCE))["TaskMessage"]["Event"]["OrchestrationStatus"]
        == 3
    )


async def test_base64_and_raw_json_bodies_decode_alike(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    """DTFx 1.x wrote base64 bodies, 2.x raw JSON: both must be readable; garbage is reported, not raised."""
    data = MessageData(event=_started(), instance=INSTANCE, sequence_number=5)
    body = json.dumps(envelope_to_json(data))
    raw_queue = sdk.queue_service.get_queue_client(task_hub.work_item_queue.name)
    await raw_queue.send_message(body)
    await raw_queue.send_message(base64.b64encode(body.encode()).decode())
    await raw_queue.send_message("not a message")
    received = await task_hub.work_item_queue.receive(32, 30)
    decoded = sorted(received, key=lambda message: message.data is None)
    assert [message.data for message in decoded[:2]] == [data, data]
    assert decoded[2].data is None and decoded[2].decode_error
    assert decoded[2].raw_body == "not a message"


async def test_large_message_goes_through_a_blob(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    big_input = json.dumps("x" * 50_000)
    data = MessageData(event=TaskScheduled(event_id=1, name="big", input=big_input), instance=INSTANCE)
    queue = task_hub.work_item_queue
    await queue.send(data)
    [received] = await queue.receive(1, 30)
    assert received.data is not None
    assert received.data.event == data.event
    expected_blob = f"order-1/message-{data.activity_id.replace('-', '')}-TaskScheduled.json.gz"
    assert received.data.compressed_blob_name == expected_blob
    wrapper = json.loads(received.raw_body)
    assert wrapper["CompressedBlobName"] == expected_blob
    assert len(received.raw_body) < 1000
    container = sdk.blob_service.get_container_client(task_hub.names.large_messages_container)
    assert [blob.name async for blob in container.list_blobs()] == [expected_blob]
