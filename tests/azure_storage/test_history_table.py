"""History rows: DTFx layout, multi-batch appends, sentinel ETag conflicts, generations, large columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConcurrencyConflictError
from durable_azure.history import (
    ExecutionStarted,
    FailureDetails,
    HistoryEvent,
    OrchestrationInstance,
    OrchestratorStarted,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
)
from tests.conftest import SdkClients

NOW = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def _history(instance_id: str, execution_id: str, activities: int) -> list[HistoryEvent]:
    events: list[HistoryEvent] = [
        ExecutionStarted(
            orchestration_instance=OrchestrationInstance(instance_id=instance_id, execution_id=execution_id),
            name="Orchestrator",
            input='"in"',
            tags={"k": "v"},
            timestamp=NOW,
        ),
        OrchestratorStarted(timestamp=NOW),
    ]
    events += [TaskScheduled(event_id=n, name="Activity", timestamp=NOW) for n in range(activities)]
    return events


async def _rows(storage_account: StorageAccount, task_hub: TaskHub, partition_key: str, sdk: SdkClients) -> list[dict]:
    table = sdk.table_service.get_table_client(task_hub.names.history_table)
    entities = table.query_entities("PartitionKey eq @pk", parameters={"pk": partition_key})
    return [entity async for entity in entities]


async def test_append_and_load_over_several_batches(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    events = _history("a/1", "exec1", 150)  # 152 events: two batches of <= 99 + sentinel
    storage_account.counter.reset()
    etag = await task_hub.history.append("a/1", execution_id="exec1", start_index=0, events=events, etag=None)
    assert storage_account.counter.snapshot()["table.batch"] == 2
    loaded = await task_hub.history.load("a/1")
    assert loaded.events == events
    assert (loaded.etag, loaded.execution_id) == (etag, "exec1")
    rows = await _rows(storage_account, task_hub, "a^01", sdk)
    by_key = {row["RowKey"]: row for row in rows}
    assert len(rows) == 153
    assert by_key["0000000000000000"]["EventType"] == "ExecutionStarted"
    assert by_key["0000000000000000"]["ParentInstance"] == "null"
    assert json.loads(by_key["0000000000000000"]["OrchestrationInstance"])["InstanceId"] == "a/1"
    assert by_key["0000000000000097"]["EventType"] == "TaskScheduled"
    assert by_key["0000000000000097"]["_Timestamp"] == NOW
    assert all(row["ExecutionId"] == "exec1" for row in rows)
    assert by_key["sentinel"]["IsCheckpointComplete"] is True
    assert "CheckpointCompletedTimestamp" in by_key["sentinel"]


async def test_appending_the_next_episode_chains_the_etag(task_hub: TaskHub) -> None:
    first = _history("i2", "e", 1)
    etag = await task_hub.history.append("i2", execution_id="e", start_index=0, events=first, etag=None)
    more = [TaskCompleted(task_scheduled_id=0, result="42", timestamp=NOW)]
    new_etag = await task_hub.history.append("i2", execution_id="e", start_index=len(first), events=more, etag=etag)
    assert new_etag != etag
    loaded = await task_hub.history.load("i2", expected_execution_id="e")
    assert loaded.events == first + more and loaded.etag == new_etag


async def test_stale_etag_or_second_creator_conflicts(task_hub: TaskHub) -> None:
    events = _history("i3", "e", 1)
    etag = await task_hub.history.append("i3", execution_id="e", start_index=0, events=events, etag=None)
    with pytest.raises(ConcurrencyConflictError):
        await task_hub.history.append("i3", execution_id="e", start_index=0, events=events, etag=None)
    await task_hub.history.append("i3", execution_id="e", start_index=3, events=[OrchestratorStarted()], etag=etag)
    with pytest.raises(ConcurrencyConflictError):
        await task_hub.history.append("i3", execution_id="e", start_index=3, events=[OrchestratorStarted()], etag=etag)
    assert len((await task_hub.history.load("i3")).events) == 4  # the losing write left nothing


async def test_new_generation_hides_rows_of_the_older_longer_one(task_hub: TaskHub) -> None:
    old = _history("i4", "old", 5)
    etag = await task_hub.history.append("i4", execution_id="old", start_index=0, events=old, etag=None)
    new = _history("i4", "new", 1)
    await task_hub.history.append("i4", execution_id="new", start_index=0, events=new, etag=etag)
    loaded = await task_hub.history.load("i4")
    assert loaded.events == new and loaded.execution_id == "new"
    assert (await task_hub.history.load("i4", expected_execution_id="new")).events == new
    stale = await task_hub.history.load("i4", expected_execution_id="old")
    assert stale.events == [] and stale.execution_id == "new"


async def test_large_columns_round_trip_through_blobs(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    big = json.dumps("é" * 40_000)  # > 60 KiB as UTF-16
    failure = FailureDetails(error_type="E", error_message="m" * 40_000)
    events = [
        *_history("big", "e", 0),
        TaskFailed(task_scheduled_id=0, reason="r", details=big, failure_details=failure),
    ]
    events[0] = ExecutionStarted(
        orchestration_instance=OrchestrationInstance(instance_id="big", execution_id="e"), name="O", input=big
    )
    await task_hub.history.append("big", execution_id="e", start_index=0, events=events, etag=None)
    assert (await task_hub.history.load("big")).events == events
    rows = {row["RowKey"]: row for row in await _rows(storage_account, task_hub, "big", sdk)}
    started = rows["0000000000000000"]
    assert started["Input"] == "" and started["InputBlobName"].startswith(
        "big/history-0000000000000000-ExecutionStarted-"
    )
    assert rows["0000000000000002"]["DetailsBlobName"].endswith("-Details.json.gz")
    assert rows["0000000000000002"]["FailureDetailsBlobName"].endswith("-FailureDetails.json.gz")


async def test_delete_removes_rows_and_blobs(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    events = _history("gone", "e", 120)
    events[0] = ExecutionStarted(
        orchestration_instance=OrchestrationInstance(instance_id="gone", execution_id="e"), input="x" * 40_000
    )
    await task_hub.history.append("gone", execution_id="e", start_index=0, events=events, etag=None)
    assert await task_hub.history.delete("gone") == 123
    loaded = await task_hub.history.load("gone")
    assert (loaded.events, loaded.etag, loaded.execution_id) == ([], None, None)
    container = sdk.blob_service.get_container_client(task_hub.names.large_messages_container)
    assert [blob.name async for blob in container.list_blobs()] == []


async def test_a_new_generation_deletes_the_blobs_only_the_old_one_used(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    def generation(execution_id: str, size: int) -> list[HistoryEvent]:
        events = _history("cycle", execution_id, 1)
        events[0] = ExecutionStarted(
            orchestration_instance=OrchestrationInstance(instance_id="cycle", execution_id=execution_id),
            input=json.dumps("x" * size),
        )
        return events

    container = sdk.blob_service.get_container_client(task_hub.names.large_messages_container)
    etag = await task_hub.history.append(
        "cycle", execution_id="g1", start_index=0, events=generation("g1", 40_000), etag=None
    )
    first_blobs = [blob.name async for blob in container.list_blobs()]
    assert len(first_blobs) == 1
    await task_hub.history.append("cycle", execution_id="g2", start_index=0, events=generation("g2", 50_000), etag=etag)
    second_blobs = [blob.name async for blob in container.list_blobs()]
    assert len(second_blobs) == 1 and second_blobs != first_blobs  # the first generation's blob is gone
    assert (await task_hub.history.load("cycle")).events[0].input == json.dumps("x" * 50_000)


async def test_a_new_generation_leaves_the_instances_rows_own_blobs_alone(task_hub: TaskHub) -> None:
    """The Instances row still names its offloaded input after history is replaced (until the checkpoint's next
    step, or for good if the worker dies in between): replacing history must not delete that blob."""

    def generation(execution_id: str) -> list[HistoryEvent]:
        events = _history("entity-like", execution_id, 0)
        events[0] = ExecutionStarted(
            orchestration_instance=OrchestrationInstance(instance_id="entity-like", execution_id=execution_id),
            input=json.dumps("y" * 50_000),
        )
        return events

    etag = await task_hub.history.append(
        "entity-like", execution_id="g1", start_index=0, events=generation("g1"), etag=None
    )
    big = json.dumps("z" * 70_000)
    await task_hub.instances.update("entity-like", input=big)
    await task_hub.history.append("entity-like", execution_id="g2", start_index=0, events=generation("g2"), etag=etag)
    record = await task_hub.instances.get("entity-like")
    assert record is not None and record.input == big
    await task_hub.instances.update("entity-like", input=json.dumps("w" * 70_000))  # its old blob goes now
    assert (await task_hub.instances.get("entity-like")).input == json.dumps("w" * 70_000)  # type: ignore[union-attr]
