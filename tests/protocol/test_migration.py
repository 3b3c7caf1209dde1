"""Migrating a live task hub: in-flight instances of an unmodified app, written by the original host, finish here.

The hub is built row by row and message by message from the provider's
published layout (../shared/reference/dtfx-azure-storage.md §1-§4 and the
out-of-process protocol reference §5, §7.3), with the official storage SDKs,
not with this project's storage code: History rows with enum names and
`_Timestamp`, the sentinel, the Instances row, queue messages in the
extension's `$type` envelope, an activity work item whose input is DTFx's
parameter array, an orchestration input and an event payload encoded twice by
the official client. Then `durable-azure`'s worker, on the same unmodified
orchestrators, takes over and completes both instances.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueServiceClient

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.protocol import apps
from tests.worker.conftest import Running, worker_and_client

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
PARTITIONS = 4


def dotnet_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class OriginalHost:
    """Writes what the Durable Functions extension on the Azure Storage provider leaves behind when stopped."""

    def __init__(self, connection_string: str, hub_name: str, control_queue_of: Any) -> None:
        self.hub = hub_name
        self.tables = TableServiceClient.from_connection_string(connection_string)
        self.queues = QueueServiceClient.from_connection_string(connection_string)
        self.control_queue_of = control_queue_of
        self.sequence = 0
        for table in ("History", "Instances"):
            self.tables.create_table_if_not_exists(f"{hub_name}{table}")
        for index in range(PARTITIONS):
            self.queues.create_queue(f"{hub_name.lower()}-control-{index:02d}")
        self.queues.create_queue(f"{hub_name.lower()}-workitems")

    def history(self, instance_id: str, execution_id: str, events: list[dict[str, Any]]) -> None:
        table = self.tables.get_table_client(f"{self.hub}History")
        for index, event in enumerate(events):
            row = {"PartitionKey": instance_id, "RowKey": f"{index:016X}", "ExecutionId": execution_id, **event}
            row.setdefault("EventId", -1)
            row.setdefault("IsPlayed", True)
            row["_Timestamp"] = row.pop("Timestamp", NOW)
            table.upsert_entity(row)
        table.upsert_entity(
            {
                "PartitionKey": instance_id,
                "RowKey": "sentinel",
                "ExecutionId": execution_id,
                "IsCheckpointComplete": True,
                "CheckpointCompletedTimestamp": NOW,
            }
        )

    def instance_row(self, instance_id: str, execution_id: str, name: str, stored_input: str) -> None:
        self.tables.get_table_client(f"{self.hub}Instances").upsert_entity(
            {
                "PartitionKey": instance_id,
                "RowKey": "",
                "Name": name,
                "Version": "",
                "ExecutionId": execution_id,
                "RuntimeStatus": "Running",
                "CreatedTime": NOW,
                "LastUpdatedTime": NOW,
                "Input": stored_input,
                "CustomStatus": "null",
                "TaskHubName": self.hub,
                "Generation": 0,
                "Tags": "null",
            }
        )

    def message(self, queue: str, instance_id: str, execution_id: str, event: dict[str, Any], **delay: Any) -> None:
        self.sequence += 1
        instance = {"InstanceId": instance_id, "ExecutionId": execution_id}
        envelope = {
            "$type": "DurableTask.AzureStorage.MessageData",
            "ActivityId": str(uuid.uuid4()),
            "TaskMessage": {
                "$type": "DurableTask.Core.TaskMessage",
                "Event": {"EventId": -1, "IsPlayed": False, "Timestamp": dotnet_time(NOW), **event},
                "SequenceNumber": 0,
                "OrchestrationInstance": {"$type": "DurableTask.Core.OrchestrationInstance", **instance},
            },
            "CompressedBlobName": None,
            "SequenceNumber": self.sequence,
            "Episode": 1,
            "Sender": instance,
            "SerializableTraceContext": None,
        }
        self.queues.get_queue_client(queue).send_message(json.dumps(envelope), **delay)

    def close(self) -> None:
        self.tables.close()
        self.queues.close()


def started(instance_id: str, execution_id: str, name: str, stored_input: str) -> dict[str, Any]:
    return {
        "EventType": "ExecutionStarted",
        "OrchestrationInstance": json.dumps({"InstanceId": instance_id, "ExecutionId": execution_id}),
        "ParentInstance": "null",
        "Name": name,
        "Version": "",
        "Input": stored_input,
        "Tags": "null",
        "Generation": 0,
    }


@pytest_asyncio.fixture
async def migrated(connection_string: str) -> AsyncIterator[tuple[OriginalHost, TaskHub]]:
    hub_name = unique_hub_name("Migrated")
    account = StorageAccount.from_connection_string(connection_string)
    hub = TaskHub(account, hub_name, partition_count=PARTITIONS)
    original = OriginalHost(connection_string, hub_name, lambda instance_id: hub.control_queue_for(instance_id).name)
    try:
        yield original, hub
    finally:
        original.close()
        await hub.delete()
        await account.close()


async def test_in_flight_instances_of_the_original_host_complete_on_our_worker(
    migrated: tuple[OriginalHost, TaskHub],
) -> None:
    original, hub = migrated
    # 1. A chain waiting for its first activity, whose work item is in the queue (input: DTFx's parameter array).
    chain_input = json.dumps(json.dumps(["Tokyo", "London"]))  # the official client's start_new, as stored
    original.history(
        "chain-1",
        "exec-chain",
        [
            {"EventType": "OrchestratorStarted"},
            started("chain-1", "exec-chain", "chaining", chain_input),
            {"EventType": "TaskScheduled", "EventId": 0, "Name": "say_hello", "Version": ""},
            {"EventType": "OrchestratorCompleted"},
        ],
    )
    original.instance_row("chain-1", "exec-chain", "chaining", chain_input)
    work_item = {
        "$type": "DurableTask.Core.History.TaskScheduledEvent",
        "EventType": 4,
        "EventId": 0,
        "Name": "say_hello",
        "Version": "",
        "Input": json.dumps([json.dumps("Tokyo")]),
    }
    original.message(f"{original.hub.lower()}-workitems", "chain-1", "exec-chain", work_item)
    # 2. An approval waiting on its timer and an event; the event, raised by the official client, is queued.
    approval_input = json.dumps(json.dumps(600))
    fire_at = NOW + timedelta(minutes=15)
    original.history(
        "approval-1",
        "exec-approval",
        [
            {"EventType": "OrchestratorStarted"},
            started("approval-1", "exec-approval", "approval", approval_input),
            {"EventType": "TimerCreated", "EventId": 0, "FireAt": fire_at},
            {"EventType": "OrchestratorCompleted"},
        ],
    )
    original.instance_row("approval-1", "exec-approval", "approval", approval_input)
    timer = {
        "$type": "DurableTask.Core.History.TimerFiredEvent",
        "EventType": 11,
        "TimerId": 0,
        "FireAt": dotnet_time(fire_at),
    }
    control = original.control_queue_of("approval-1")
    original.message(control, "approval-1", "exec-approval", timer, visibility_timeout=15 * 60)
    raised = {
        "$type": "DurableTask.Core.History.EventRaisedEvent",
        "EventType": 15,
        "Name": "Approval",
        "Input": json.dumps(json.dumps({"ok": True})),  # the official client's raise_event, as stored
    }
    original.message(control, "approval-1", "exec-approval", raised)

    async with worker_and_client(hub, apps.registry()) as running:
        chain = await running.client.wait_for_completion("chain-1", timeout=60)
        approval = await running.client.wait_for_completion("approval-1", timeout=60)
        await _check_history(running)
    assert chain.runtime_status == OrchestrationRuntimeStatus.Completed, chain.output
    assert chain.output == ["Hello Tokyo", "Hello London"]
    assert approval.runtime_status == OrchestrationRuntimeStatus.Completed, approval.output
    # The event payload reaches the orchestrator as the JSON text the official client sent (PY#295), as there.
    assert approval.output == {"approved": '{"ok": true}'}


async def _check_history(running: Running) -> None:
    """The original's rows and ours form one history (the extension's view: a result stands for its schedule)."""
    history = await running.client.get_status("chain-1", show_history=True)
    assert history is not None and history.history is not None
    kinds = [event["EventType"] for event in history.history]
    assert kinds == ["ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]
