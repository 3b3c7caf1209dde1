"""One contract, both transports: every kind of request the runtime makes, against Azurite, lean and SDK.

Azurite checks every Shared Key signature, so a request that passes here was
signed right. What we write is read back through the official SDKs too
(`sdk` fixture), so our rows and blobs are what they write and read.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from azure.data.tables import EdmType

from durable_azure.azure_storage import StorageAccount, TransportChoice
from durable_azure.azure_storage.batches import BatchOperation
from durable_azure.azure_storage.blob_service import LeaseAction
from durable_azure.azure_storage.table_entities import Int64
from durable_azure.errors import ConcurrencyConflictError, LeaseLostError, MessageGoneError, StorageError
from tests.conftest import SdkClients

TRANSPORTS = [TransportChoice.LEAN, TransportChoice.SDK]


@pytest_asyncio.fixture(params=TRANSPORTS, ids=lambda choice: choice.value)
async def account(request: pytest.FixtureRequest, connection_string: str) -> AsyncIterator[StorageAccount]:
    async with StorageAccount.from_connection_string(connection_string, transport=request.param) as account:
        assert account.transport_name == request.param.value
        yield account


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture
async def queue(account: StorageAccount) -> AsyncIterator[str]:
    name = _name("contract-")
    await account.queues.create_queue(name)
    await account.queues.create_queue(name)  # again: fine
    yield name
    await account.queues.delete_queue(name)


@pytest_asyncio.fixture
async def table(account: StorageAccount) -> AsyncIterator[str]:
    name = _name("Contract")
    await account.tables.create_table(name)
    await account.tables.create_table(name)
    yield name
    await account.tables.delete_table(name)


@pytest_asyncio.fixture
async def container(account: StorageAccount) -> AsyncIterator[str]:
    name = _name("contract-")
    await account.blobs.create_container(name)
    await account.blobs.create_container(name)
    yield name
    await account.blobs.delete_container(name)


async def test_queue_messages_round_trip_exactly_one_request_each(account: StorageAccount, queue: str) -> None:
    text = '{"a": "<tag> & \\"quotes\\" é 🙂"}'
    account.counter.reset()
    sent = await account.queues.send(queue, text, visibility_timeout=0)
    [message] = await account.queues.receive(queue, 32, visibility_timeout=30)
    assert (message.message_id, message.text, message.dequeue_count) == (sent.message_id, text, 1)
    new_receipt = await account.queues.update_visibility(queue, message.message_id, message.pop_receipt, 0)
    with pytest.raises(MessageGoneError) as stale:  # the old pop receipt is stale now
        await account.queues.delete_message(queue, message.message_id, message.pop_receipt)
    assert not stale.value.maybe_applied
    [again] = await account.queues.receive(queue, 32, visibility_timeout=30)
    assert (again.text, again.dequeue_count, again.pop_receipt == new_receipt) == (text, 2, False)
    assert [peeked.text for peeked in await account.queues.peek(queue, 32)] == []  # invisible now
    await account.queues.delete_message(queue, again.message_id, again.pop_receipt)
    assert await account.queues.receive(queue, 32, visibility_timeout=30) == []
    counts = account.counter.snapshot()
    assert (counts["queue.send"], counts["queue.receive"], counts["queue.update"], counts["queue.delete"]) == (
        1,
        3,
        1,
        2,
    )
    assert account.counter.retries() == {}


async def test_a_missing_queue_names_the_operation_and_code(account: StorageAccount) -> None:
    with pytest.raises(StorageError, match=r"send message failed \(HTTP 404 QueueNotFound, queue='no-such-queue'\)"):
        await account.queues.send("no-such-queue", "x", visibility_timeout=0)


async def test_typed_properties_are_what_the_sdk_writes_and_reads(
    account: StorageAccount, table: str, sdk: SdkClients
) -> None:
    when = datetime(2026, 12, 2, 13, 14, 15, 123456, tzinfo=UTC)
    guid = uuid.uuid4()
    entity = {
        "PartitionKey": "it's ü^1",
        "RowKey": "row 'one'",
        "Text": 'é "q" <x>',
        "Flag": True,
        "Small": 7,
        "Big": 2**40,
        "Forced": Int64(5),
        "Ratio": 0.25,
        "When": when,
        "Id": guid,
        "Data": b"\x00\x01binary",
        "Missing": None,
    }
    etag = await account.tables.upsert(table, entity, merge=False)
    row = await account.tables.get(table, entity["PartitionKey"], entity["RowKey"])
    assert row is not None and row.etag == etag
    expected = {key: value for key, value in entity.items() if value is not None}
    expected["Forced"] = 5
    assert row.properties == expected
    stored = await sdk.table_service.get_table_client(table).get_entity(entity["PartitionKey"], entity["RowKey"])
    assert stored["Text"] == entity["Text"] and stored["Flag"] is True and stored["Small"] == 7
    assert stored["Big"].value == 2**40 and stored["Big"].edm_type == EdmType.INT64
    assert stored["Forced"].edm_type == EdmType.INT64 and stored["When"] == when
    assert stored["Id"] == guid and stored["Data"] == entity["Data"] and "Missing" not in stored


async def test_conditional_writes_point_reads_and_deletes(account: StorageAccount, table: str) -> None:
    row = {"PartitionKey": "p", "RowKey": "r", "Value": 1}
    etag = await account.tables.insert(table, row)
    with pytest.raises(ConcurrencyConflictError, match="409") as twice:
        await account.tables.insert(table, row)
    assert twice.value.code == "EntityAlreadyExists" and not twice.value.maybe_applied
    newer = await account.tables.update(table, {**row, "Value": 2}, etag=etag)
    with pytest.raises(ConcurrencyConflictError, match="412"):
        await account.tables.update(table, {**row, "Value": 3}, etag=etag)
    await account.tables.upsert(table, {"PartitionKey": "p", "RowKey": "r", "Other": "x"}, merge=True)
    merged = await account.tables.get(table, "p", "r", select=["Value", "Other"])
    assert merged is not None and merged.properties == {"Value": 2, "Other": "x"} and merged.etag != newer
    assert await account.tables.delete(table, "p", "r") is True
    assert await account.tables.delete(table, "p", "r") is False
    assert await account.tables.get(table, "p", "r") is None


async def test_queries_page_with_continuations(account: StorageAccount, table: str) -> None:
    for start in range(0, 25, 5):
        operations = [
            BatchOperation("upsert", {"PartitionKey": "q", "RowKey": f"{n:03d}", "N": n})
            for n in range(start, start + 5)
        ]
        await account.tables.batch(table, operations, operation="seed")
    account.counter.reset()
    page = await account.tables.query_page(table, "PartitionKey eq 'q' and N ge 3", page_size=10)
    seen = [row["N"] for row in page.rows]
    while page.continuation is not None:
        page = await account.tables.query_page(
            table, "PartitionKey eq 'q' and N ge 3", page_size=10, continuation=page.continuation
        )
        seen += [row["N"] for row in page.rows]
    assert seen == list(range(3, 25))
    assert account.counter.snapshot()["table.query"] == 3
    assert [row["N"] async for row in account.tables.query(table, "N lt 2", select=["N"])] == [0, 1]


async def test_a_batch_is_all_or_nothing_and_reports_each_etag(account: StorageAccount, table: str) -> None:
    first = {"PartitionKey": "b", "RowKey": "r1", "Value": 1}
    [etag] = await account.tables.batch(table, [BatchOperation("create", first)], operation="test batch")
    assert etag and etag.startswith("W/")
    failing = [BatchOperation("upsert", {"PartitionKey": "b", "RowKey": "r2"}), BatchOperation("create", first)]
    with pytest.raises(ConcurrencyConflictError, match="test batch failed \\(HTTP 409"):
        await account.tables.batch(table, failing, operation="test batch")
    assert [row["RowKey"] async for row in account.tables.query(table, "PartitionKey eq 'b'")] == ["r1"]
    etags = await account.tables.batch(
        table,
        [
            BatchOperation("merge", {**first, "Value": 2}, etag),
            BatchOperation("upsert_merge", {"PartitionKey": "b", "RowKey": "r3"}),
        ],
        operation="test batch",
    )
    assert len(etags) == 2 and all(etags)
    await account.tables.batch(
        table,
        [BatchOperation("delete", first), BatchOperation("delete", {"PartitionKey": "b", "RowKey": "r3"})],
        operation="test batch",
    )
    assert [row async for row in account.tables.query(table, "PartitionKey eq 'b'")] == []


async def test_blobs_metadata_create_only_and_listing(account: StorageAccount, container: str, sdk: SdkClients) -> None:
    name = "inst ance/ü^2:é history.json.gz"
    assert await account.blobs.put(container, name, b"one", metadata={"owner": "w1"}, create_only=True) is True
    assert await account.blobs.put(container, name, b"two", create_only=True) is False  # exists: left alone
    blob = await account.blobs.get(container, name)
    assert blob is not None and (blob.data, blob.metadata, blob.is_leased) == (b"one", {"owner": "w1"}, False)
    await account.blobs.put(container, "other", b"x")
    assert await account.blobs.exists(container, name) and not await account.blobs.exists(container, "nope")
    listed = await account.blobs.list_blobs(container, prefix="inst", include_metadata=True)
    assert [(item.name, item.metadata) for item in listed] == [(name, {"owner": "w1"})]
    downloaded = await (await sdk.blob_service.get_container_client(container).download_blob(name)).readall()
    assert downloaded == b"one"
    assert await account.blobs.delete(container, name) is True
    assert await account.blobs.delete(container, name) is False
    assert await account.blobs.get(container, name) is None


async def test_leases_acquire_renew_change_release_and_conflicts(account: StorageAccount, container: str) -> None:
    await account.blobs.put(container, "lease", b"{}")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await account.blobs.lease(container, "lease", LeaseAction.ACQUIRE, lease_id=first, duration=15)
    await account.blobs.lease(container, "lease", LeaseAction.ACQUIRE, lease_id=first, duration=15)  # a repeat renews
    with pytest.raises(LeaseLostError, match="LeaseAlreadyPresent"):
        await account.blobs.lease(container, "lease", LeaseAction.ACQUIRE, lease_id=second, duration=15)
    with pytest.raises(LeaseLostError):  # a write without the lease
        await account.blobs.put(container, "lease", b"x")
    await account.blobs.put(container, "lease", b"held", lease_id=first)
    [item] = await account.blobs.list_blobs(container)
    assert item.is_leased
    await account.blobs.lease(container, "lease", LeaseAction.RENEW, lease_id=first)
    await account.blobs.lease(container, "lease", LeaseAction.CHANGE, lease_id=first, proposed_lease_id=second)
    with pytest.raises(LeaseLostError):
        await account.blobs.lease(container, "lease", LeaseAction.RENEW, lease_id=first)
    await account.blobs.lease(container, "lease", LeaseAction.RELEASE, lease_id=second)
    assert not (await account.blobs.list_blobs(container))[0].is_leased
