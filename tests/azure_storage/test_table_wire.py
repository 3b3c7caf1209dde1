"""The lean `$batch` path (table_wire.py) against Azurite, which checks each Shared Key signature."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.data.tables import TableServiceClient

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azure_storage.table_wire import BatchOperation
from durable_azure.errors import ConcurrencyConflictError
from durable_azure.history import TaskCompleted


async def test_history_appends_use_one_lean_batch_and_keys_with_quotes_round_trip(
    task_hub: TaskHub, storage_account: StorageAccount
) -> None:
    assert storage_account.table_wire is not None
    instance_id = "it's/über#1"[:7] + "-ü'x"  # a quote and non-ASCII in the PartitionKey
    before = storage_account.counter.snapshot()["table.batch"]
    events = [TaskCompleted(timestamp=datetime.now(UTC), task_scheduled_id=i, result='"é \\"q\\""') for i in range(99)]
    etag = await task_hub.history.append(instance_id, execution_id="e", start_index=0, events=events, etag=None)
    assert storage_account.counter.snapshot()["table.batch"] - before == 1  # 99 rows + the sentinel
    loaded = await task_hub.history.load(instance_id)
    assert loaded.events == events and loaded.etag == etag


async def test_a_failed_operation_fails_the_whole_batch(
    task_hub: TaskHub, storage_account: StorageAccount, connection_string: str
) -> None:
    wire = storage_account.table_wire
    table = task_hub.names.history_table
    row = {"PartitionKey": "p", "RowKey": "r1", "Value": 1}
    await wire.submit(table, [BatchOperation("create", row)], operation="test batch")
    batch = [BatchOperation("upsert", {"PartitionKey": "p", "RowKey": "r2", "Value": 2}), BatchOperation("create", row)]
    with pytest.raises(ConcurrencyConflictError, match="HTTP 409"):
        await wire.submit(table, batch, operation="test batch")
    table_client = TableServiceClient.from_connection_string(connection_string).get_table_client(table)
    rows = list(table_client.query_entities("PartitionKey eq 'p'"))
    assert [entity["RowKey"] for entity in rows] == ["r1"]  # r2 was not written: all or nothing
