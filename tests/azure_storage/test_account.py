"""Connection strings, secrets hygiene, request counting and error translation at the SDK boundary."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage import (
    InstanceRecord,
    MessageData,
    RetrySettings,
    StorageAccount,
    TaskHub,
    TransportChoice,
)
from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY
from durable_azure.errors import ConcurrencyConflictError, ConfigurationError, StorageUnavailableError
from durable_azure.history import EventRaised, OrchestrationInstance, OrchestrationStatus

KEY = DEVELOPMENT_ACCOUNT_KEY


async def test_development_storage_uses_default_azurite_ports() -> None:
    async with StorageAccount.from_connection_string("UseDevelopmentStorage=true") as account:
        assert account.account_name == "devstoreaccount1"
        assert account.connection.queue_endpoint == "http://127.0.0.1:10001/devstoreaccount1"
        assert account.tables.endpoint == "http://127.0.0.1:10002/devstoreaccount1"
        assert account.blobs.endpoint == "http://127.0.0.1:10000/devstoreaccount1"


async def test_full_connection_string_and_repr_hides_the_key() -> None:
    text = f"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={KEY};EndpointSuffix=core.windows.net"
    async with StorageAccount.from_connection_string(text) as account:
        assert account.account_name == "myaccount"
        assert account.queue_endpoint == "https://myaccount.queue.core.windows.net"
        assert KEY not in repr(account)
        assert KEY[:20] not in repr(account)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("AccountName=x;garbage", "part 2"),
        (f"AccountKey={KEY}", "AccountName"),
        ("AccountName=x", "neither AccountKey"),
        ("AccountName=x;AccountKey=not base64!!", "base64"),
        (f"AccountName=x;AccountKey={KEY};QueueEndpoint=ftp://h", "queueendpoint"),
    ],
)
def test_malformed_connection_string_names_the_problem_not_the_key(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as raised:
        StorageAccount.from_connection_string(text)
    assert KEY not in str(raised.value)
    assert "not base64!!" not in str(raised.value)


async def test_receive_of_32_messages_is_one_request(task_hub: TaskHub, storage_account: StorageAccount) -> None:
    queue = task_hub.work_item_queue
    instance = OrchestrationInstance(instance_id="counted", execution_id="e")
    for number in range(32):
        await queue.send(MessageData(event=EventRaised(name="n", input=str(number)), instance=instance))
    storage_account.counter.reset()
    received = await queue.receive(32, 30)
    assert len(received) == 32
    snapshot = storage_account.counter.snapshot()
    assert snapshot["queue.receive"] == 1
    assert storage_account.counter.total == 1
    for message in received:
        await queue.delete(message)
    assert storage_account.counter.snapshot()["queue.delete"] == 32


async def test_counter_classifies_table_and_blob_requests(task_hub: TaskHub, storage_account: StorageAccount) -> None:
    storage_account.counter.reset()
    record = InstanceRecord(instance_id="c1", name="orchestrator", runtime_status=OrchestrationStatus.Pending)
    await task_hub.instances.create(record, etag=None)
    await task_hub.instances.update("c1", runtime_status=OrchestrationStatus.Running)
    await task_hub.instances.get("c1")
    await task_hub.instances.query()
    await task_hub.leases.list()
    snapshot = storage_account.counter.snapshot()
    # the insert and the insert-or-merge go as one-operation entity-group transactions (the cheaper path)
    assert (snapshot["table.batch"], snapshot["table.get"]) == (2, 1)
    assert (snapshot["table.query"], snapshot["blob.list"]) == (1, 1)
    assert storage_account.counter.total == 5


async def test_conflict_is_translated_and_chained(task_hub: TaskHub) -> None:
    record = InstanceRecord(instance_id="dup", name="orchestrator", runtime_status=OrchestrationStatus.Pending)
    await task_hub.instances.create(record, etag=None)
    with pytest.raises(ConcurrencyConflictError) as raised:
        await task_hub.instances.create(record, etag=None)
    assert "create instance" in str(raised.value) and "409" in str(raised.value)


@pytest.mark.parametrize("transport", [TransportChoice.LEAN, TransportChoice.SDK])
async def test_unreachable_service_is_retried_then_unavailable(transport: TransportChoice) -> None:
    text = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
        "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
        "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    )
    retry = RetrySettings(max_attempts=3, initial_delay=0.05, max_delay=0.1)
    async with StorageAccount.from_connection_string(text, transport=transport, retry=retry) as account:
        hub = TaskHub(account, "Unreachable", partition_count=1)
        with pytest.raises(StorageUnavailableError, match=r"get entity failed .* after 3 attempts") as raised:
            await hub.instances.get("x")
        assert account.counter.snapshot()["table.get"] == 3 and account.counter.retries() == {"table.get": 2}
    assert not raised.value.maybe_applied  # the connection was refused: nothing reached storage
    assert KEY not in str(raised.value)
