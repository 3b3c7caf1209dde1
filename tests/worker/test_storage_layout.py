"""After a run, the task hub looks like one written by the original DTFx provider.

Inspected with the Azure SDKs directly, the way an operator's Storage Explorer sees it.
"""

from __future__ import annotations

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from tests.worker.conftest import Running


async def test_names_keys_and_columns_mirror_the_original_provider(running: Running, connection_string: str) -> None:
    hub_name = running.hub.hub_name
    lower = hub_name.lower()
    instance_id = await running.client.start_new("hello_sequence", "layout-check-1", {"why": "layout"})
    await running.client.wait_for_completion(instance_id, timeout=60)

    queues = {queue.name for queue in QueueServiceClient.from_connection_string(connection_string).list_queues()}
    assert {f"{lower}-control-0{i}" for i in range(4)} | {f"{lower}-workitems"} <= queues
    tables = TableServiceClient.from_connection_string(connection_string)
    assert {f"{hub_name}History", f"{hub_name}Instances"} <= {table.name for table in tables.list_tables()}
    blobs = BlobServiceClient.from_connection_string(connection_string)
    containers = {container.name for container in blobs.list_containers()}
    assert {f"{lower}-leases", f"{lower}-largemessages"} <= containers
    lease_blobs = {blob.name for blob in blobs.get_container_client(f"{lower}-leases").list_blobs()}
    assert {f"default/{lower}-control-0{i}" for i in range(4)} | {"taskhub.json"} <= lease_blobs

    rows = list(tables.get_table_client(f"{hub_name}History").query_entities(f"PartitionKey eq '{instance_id}'"))
    event_rows = [row for row in rows if row["RowKey"] != "sentinel"]
    assert [row["RowKey"] for row in event_rows] == [f"{i:016X}" for i in range(len(event_rows))]
    assert event_rows[1]["EventType"] == "ExecutionStarted" and event_rows[1]["Name"] == "hello_sequence"
    assert event_rows[-1]["EventType"] == "ExecutionCompleted"
    assert event_rows[-1]["OrchestrationStatus"] == "Completed"
    sentinel = next(row for row in rows if row["RowKey"] == "sentinel")
    assert all(row["ExecutionId"] == sentinel["ExecutionId"] for row in event_rows)
    assert {"EventId", "IsPlayed", "_Timestamp"} <= set(event_rows[0])
    scheduled = [row for row in event_rows if row["EventType"] == "TaskScheduled"]
    assert [row["Name"] for row in scheduled] == ["say_hello"] * 3
    assert [row["EventId"] for row in scheduled] == [0, 1, 2]

    instance = tables.get_table_client(f"{hub_name}Instances").get_entity(instance_id, "")
    assert instance["RuntimeStatus"] == "Completed"
    assert instance["Name"] == "hello_sequence"
    assert instance["ExecutionId"] == sentinel["ExecutionId"]
    assert '"Hello Tokyo!"' in instance["Output"]
    assert {"CreatedTime", "LastUpdatedTime", "CompletedTime", "CustomStatus"} <= set(instance)
    assert instance["Input"] == '{"why": "layout"}'
    assert instance["TaskHubName"] == hub_name
