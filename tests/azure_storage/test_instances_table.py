"""Instances rows: DTFx columns, create/replace with ETags, merges, large values, filtered paged queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from durable_azure.azure_storage import InstanceRecord, StorageAccount, TaskHub
from durable_azure.errors import ConcurrencyConflictError, ConfigurationError
from durable_azure.history import OrchestrationStatus
from tests.conftest import SdkClients

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _record(
    instance_id: str, status: OrchestrationStatus = OrchestrationStatus.Pending, **values: object
) -> InstanceRecord:
    return InstanceRecord(
        instance_id=instance_id,
        name="Orchestrator",
        runtime_status=status,
        created_time=T0,
        **values,  # type: ignore[arg-type]
    )


async def test_create_get_and_dtfx_columns(task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients) -> None:
    record = _record(
        "x/1", input='"hi"', execution_id="e1", tags={"a": "b"}, generation=2, task_hub_name=task_hub.hub_name
    )
    etag = await task_hub.instances.create(record, etag=None)
    fetched = await task_hub.instances.get("x/1")
    assert fetched == InstanceRecord(**{**{f: getattr(record, f) for f in record.__slots__}, "etag": etag})
    table = sdk.table_service.get_table_client(task_hub.names.instances_table)
    row = await table.get_entity("x^01", "")
    assert (row["RuntimeStatus"], row["CustomStatus"], row["Generation"]) == ("Pending", "null", 2)
    without_input = await task_hub.instances.get("x/1", include_input=False)
    assert without_input is not None and without_input.input is None and without_input.name == "Orchestrator"
    assert await task_hub.instances.get("missing") is None


async def test_create_replace_needs_the_current_etag(task_hub: TaskHub) -> None:
    etag = await task_hub.instances.create(_record("r"), etag=None)
    with pytest.raises(ConcurrencyConflictError):
        await task_hub.instances.create(_record("r"), etag=None)
    new_etag = await task_hub.instances.create(_record("r", OrchestrationStatus.Running), etag=etag)
    with pytest.raises(ConcurrencyConflictError):
        await task_hub.instances.create(_record("r"), etag=etag)
    fetched = await task_hub.instances.get("r")
    assert fetched is not None and fetched.runtime_status is OrchestrationStatus.Running and fetched.etag == new_etag


async def test_update_merges_columns_and_offloads_large_output(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    await task_hub.instances.create(_record("u", input="in"), etag=None)
    large_output = "o" * 40_000
    storage_account.counter.reset()
    await task_hub.instances.update(
        "u",
        runtime_status=OrchestrationStatus.Completed,
        output=large_output,
        completed_time=T0,
        custom_status='"done"',
    )
    counted = storage_account.counter.snapshot()
    assert counted["table.batch"] + counted["table.merge"] == 1  # one insert-or-merge (a one-operation batch)
    fetched = await task_hub.instances.get("u")
    assert fetched is not None
    assert (fetched.runtime_status, fetched.output, fetched.custom_status) == (
        OrchestrationStatus.Completed,
        large_output,
        '"done"',
    )
    assert (fetched.input, fetched.completed_time) == ("in", T0)
    table = sdk.table_service.get_table_client(task_hub.names.instances_table)
    row = await table.get_entity("u", "")
    assert row["Output"].startswith("http://") and row["Output"].endswith(".json.gz")
    await task_hub.instances.update("new", runtime_status=OrchestrationStatus.Running, name="Sub")  # insert-or-merge
    inserted = await task_hub.instances.get("new")
    assert inserted is not None and inserted.runtime_status is OrchestrationStatus.Running
    with pytest.raises(ConfigurationError):
        await task_hub.instances.update("u", not_a_column=1)


async def test_query_filters_and_prefix(task_hub: TaskHub) -> None:
    await task_hub.instances.create(_record("order-1", OrchestrationStatus.Running), etag=None)
    await task_hub.instances.create(_record("order-2", OrchestrationStatus.Completed), etag=None)
    await task_hub.instances.create(_record("orders", OrchestrationStatus.Failed), etag=None)
    later = InstanceRecord(
        instance_id="other", name="O", runtime_status=OrchestrationStatus.Running, created_time=T0 + timedelta(hours=1)
    )
    await task_hub.instances.create(later, etag=None)

    async def ids(**filters: object) -> list[str]:
        page = await task_hub.instances.query(**filters)  # type: ignore[arg-type]
        return sorted(record.instance_id for record in page.records)

    assert await ids() == ["order-1", "order-2", "orders", "other"]
    assert await ids(instance_id_prefix="order-") == ["order-1", "order-2"]
    assert await ids(statuses=[OrchestrationStatus.Running]) == ["order-1", "other"]
    assert await ids(statuses={OrchestrationStatus.Completed, OrchestrationStatus.Failed}) == ["order-2", "orders"]
    assert await ids(created_from=T0 + timedelta(minutes=30)) == ["other"]
    assert await ids(created_to=T0, instance_id_prefix="order") == ["order-1", "order-2", "orders"]


async def test_query_pages_with_continuation_one_request_each(
    task_hub: TaskHub, storage_account: StorageAccount
) -> None:
    for number in range(7):
        await task_hub.instances.create(_record(f"p{number}"), etag=None)
    seen: list[str] = []
    token = None
    storage_account.counter.reset()
    pages = 0
    while True:
        page = await task_hub.instances.query(page_size=3, continuation_token=token, include_input=False)
        pages += 1
        assert storage_account.counter.snapshot()["table.query"] == pages
        seen += [record.instance_id for record in page.records]
        token = page.continuation_token
        if token is None:
            break
    assert sorted(seen) == [f"p{number}" for number in range(7)]
    assert pages == 3
    with pytest.raises(ConfigurationError):
        await task_hub.instances.query(continuation_token="!!not a token")


async def test_delete_reports_whether_the_row_existed(task_hub: TaskHub) -> None:
    await task_hub.instances.create(_record("d"), etag=None)
    assert await task_hub.instances.delete("d") is True
    assert await task_hub.instances.delete("d") is False
    assert await task_hub.instances.get("d") is None
