"""The fault proxy against the session's Azurite, seen through the Azure SDKs with their retries turned off.

Each fault must look to a client as it would from Azure Storage, and must (or must not) reach storage: a reset
before forwarding leaves the queue empty, a response dropped after forwarding leaves the message in it.
Setup and checks talk to Azurite directly, so only the request under test passes through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.data.tables.aio import TableClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue import QueueClient as SyncQueueClient
from azure.storage.queue.aio import QueueClient

from durable_azure.azurite import Azurite
from tests.fault.proxy import FaultPlan, FaultProxy, FaultProxyThread, ServicePorts

CONNECTION_ERRORS = (ServiceRequestError, ServiceResponseError)


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def upstream(azurite: Azurite) -> ServicePorts:
    return ServicePorts.of_azurite(azurite)


@pytest.fixture
async def queue_name(azurite: Azurite) -> AsyncIterator[str]:
    """A queue created directly in Azurite, deleted after the test."""
    name = _name("proxy")
    async with QueueClient.from_connection_string(azurite.connection_string, name) as queue:
        await queue.create_queue()
        yield name
        await queue.delete_queue()


@pytest.fixture
def sync_queue_name(azurite: Azurite) -> Iterator[str]:
    name = _name("proxy")
    with SyncQueueClient.from_connection_string(azurite.connection_string, name) as queue:
        queue.create_queue()
        yield name
        queue.delete_queue()


async def _messages_in_azurite(azurite: Azurite, queue_name: str) -> list[str]:
    async with QueueClient.from_connection_string(azurite.connection_string, queue_name) as queue:
        return [message.content for message in await queue.peek_messages(max_messages=32)]


def _queue_through(proxy: FaultProxy | FaultProxyThread, queue_name: str) -> QueueClient:
    return QueueClient.from_connection_string(proxy.connection_string, queue_name, retry_total=0)


def _is_listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_without_faults_every_service_works_and_each_request_is_counted_by_kind(
    upstream: ServicePorts, queue_name: str
) -> None:
    table_name, container_name = _name("proxy"), _name("proxy")
    large_payload = bytes(range(256)) * 16384  # 4 MiB
    async with FaultProxy(upstream) as proxy:
        async with _queue_through(proxy, queue_name) as queue:
            await queue.send_message("hello")
            received = await queue.receive_message()
            await queue.delete_message(received)
        async with TableClient.from_connection_string(proxy.connection_string, table_name, retry_total=0) as table:
            await table.create_table()
            rows = [{"PartitionKey": "p", "RowKey": str(number), "Value": number} for number in range(3)]
            await table.submit_transaction([("create", row) for row in rows])
            queried = [row async for row in table.query_entities("PartitionKey eq 'p'")]
            await table.delete_table()
        async with BlobServiceClient.from_connection_string(proxy.connection_string, retry_total=0) as service:
            container = await service.create_container(container_name)
            blob = container.get_blob_client("large")
            await blob.upload_blob(large_payload)
            downloaded = await (await blob.download_blob()).readall()
            lease = await blob.acquire_lease(lease_duration=15)
            await lease.release()
            await service.delete_container(container_name)
        statistics = proxy.statistics()

    assert received is not None and received.content == "hello"
    assert sorted(row["Value"] for row in queried) == [0, 1, 2]
    assert downloaded == large_payload
    counted = {kind: count for kind, count in statistics.forwarded.items() if kind != "other"}
    expected_kinds = ("queue.send", "queue.receive", "queue.delete", "table.batch", "table.query")
    assert counted == {**dict.fromkeys(expected_kinds, 1), "blob.upload": 1, "blob.download": 1, "blob.lease": 2}
    assert statistics.forwarded["other"] == 4  # create and delete of the table and of the container
    assert statistics.fault_count() == 0 and not statistics.upstream_errors


async def test_busy_answers_503_server_busy_with_retry_after_and_only_for_the_configured_kind(
    upstream: ServicePorts, queue_name: str, azurite: Azurite
) -> None:
    plan = FaultPlan(kind_rates={"queue.send": {"busy": 1.0}}, retry_after_seconds=3)
    async with FaultProxy(upstream, plan) as proxy, _queue_through(proxy, queue_name) as queue:
        with pytest.raises(HttpResponseError) as raised:
            await queue.send_message("refused")
        received = [message async for message in queue.receive_messages()]
        statistics = proxy.statistics()

    assert raised.value.status_code == 503 and raised.value.error_code == "ServerBusy"
    assert raised.value.response is not None and raised.value.response.headers["Retry-After"] == "3"
    assert received == [] and await _messages_in_azurite(azurite, queue_name) == []
    assert statistics.injected == {("queue.send", "busy"): 1}
    assert statistics.forwarded == {"queue.receive": 1}


async def test_timeout_answers_500_operation_timed_out_in_the_table_service_json_shape(
    upstream: ServicePorts, azurite: Azurite
) -> None:
    table_name = _name("proxy")
    plan = FaultPlan(kind_rates={"table.batch": {"timeout": 1.0}})
    async with TableClient.from_connection_string(azurite.connection_string, table_name) as direct_table:
        await direct_table.create_table()
        async with FaultProxy(upstream, plan) as proxy:
            client = TableClient.from_connection_string(proxy.connection_string, table_name, retry_total=0)
            async with client as table:
                with pytest.raises(HttpResponseError) as raised:
                    await table.submit_transaction([("create", {"PartitionKey": "p", "RowKey": "1"})])
                await table.create_entity({"PartitionKey": "p", "RowKey": "2"})
        rows = [row["RowKey"] async for row in direct_table.list_entities()]
        await direct_table.delete_table()

    assert raised.value.status_code == 500 and raised.value.error_code == "OperationTimedOut"
    assert rows == ["2"]  # the batch never reached storage; the insert (another kind) did
    assert proxy.statistics().injected == {("table.batch", "timeout"): 1}


@pytest.mark.parametrize(("fault", "messages_stored"), [("reset_before", []), ("drop_after", ["lost reply"])])
async def test_a_reset_is_a_connection_error_whether_or_not_the_write_happened(
    upstream: ServicePorts, queue_name: str, azurite: Azurite, fault: str, messages_stored: list[str]
) -> None:
    plan = FaultPlan(kind_rates={"queue.send": {fault: 1.0}})
    async with FaultProxy(upstream, plan) as proxy, _queue_through(proxy, queue_name) as queue:
        with pytest.raises(CONNECTION_ERRORS):
            await queue.send_message("lost reply")
        statistics = proxy.statistics()

    assert await _messages_in_azurite(azurite, queue_name) == messages_stored
    assert statistics.injected == {("queue.send", fault): 1}
    assert statistics.forwarded.get("queue.send", 0) == len(messages_stored)


async def test_delay_holds_the_response_back_for_the_drawn_time(upstream: ServicePorts, queue_name: str) -> None:
    plan = FaultPlan(kind_rates={"queue.receive": {"delay": 1.0}}, delay_seconds=(0.4, 0.4))
    async with FaultProxy(upstream, plan) as proxy, _queue_through(proxy, queue_name) as queue:
        await queue.send_message("slow")
        started = time.monotonic()
        received = await queue.receive_message()
        elapsed = time.monotonic() - started

    assert received is not None and received.content == "slow"
    assert elapsed >= 0.4
    assert proxy.statistics().injected == {("queue.receive", "delay"): 1}


async def test_rates_below_one_follow_the_seed(upstream: ServicePorts, queue_name: str) -> None:
    plan = FaultPlan(rates={"busy": 0.5}, seed=7)
    outcomes: list[list[bool]] = []
    for _ in range(2):
        async with FaultProxy(upstream, plan) as proxy, _queue_through(proxy, queue_name) as queue:
            outcomes.append([await _is_refused(queue) for _ in range(20)])

    assert outcomes[0] == outcomes[1]
    assert 0 < sum(outcomes[0]) < 20


async def _is_refused(queue: QueueClient) -> bool:
    try:
        await queue.get_queue_properties()
    except HttpResponseError:
        return True
    return False


async def test_an_upstream_that_is_down_resets_the_client(queue_name: str) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        nowhere = placeholder.getsockname()[1]  # bound, never listening: connections are refused
        proxy = FaultProxy(ServicePorts(blob=nowhere, queue=nowhere, table=nowhere))
        async with proxy, _queue_through(proxy, queue_name) as queue:
            with pytest.raises(CONNECTION_ERRORS):
                await queue.send_message("nowhere to go")

    assert proxy.statistics().upstream_errors == {"queue.send": 1}


async def test_a_client_that_disconnects_mid_request_leaves_the_proxy_serving(
    upstream: ServicePorts, queue_name: str
) -> None:
    async with FaultProxy(upstream) as proxy:
        _, writer = await asyncio.open_connection("127.0.0.1", proxy.ports.queue)
        writer.write(b"POST /devstoreaccount1/work/messages HTTP/1.1\r\nContent-Length: 100\r\n\r\nhalf a body")
        writer.close()
        await writer.wait_closed()
        async with _queue_through(proxy, queue_name) as queue:
            await queue.send_message("still serving")

    assert proxy.statistics().forwarded == {"queue.send": 1}


async def test_a_kept_alive_upstream_connection_closed_before_answering_is_retried_on_a_fresh_one() -> None:
    """Azurite closes idle keep-alive connections (after 5 s), sometimes just as the next request arrives.

    A plain HTTP peer plays that race at once, no waiting: it answers the first request of each connection (in
    chunks) and closes on the second without a byte. The client must see three answers on one connection.
    """
    connections_opened = 0

    async def answer_once_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections_opened
        connections_opened += 1
        with contextlib.suppress(asyncio.IncompleteReadError), contextlib.closing(writer):
            for request_number in (1, 2):
                await reader.readuntil(b"\r\n\r\n")
                if request_number == 1:
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")

    upstream_server = await asyncio.start_server(answer_once_per_connection, "127.0.0.1", 0)
    port = upstream_server.sockets[0].getsockname()[1]
    async with upstream_server, FaultProxy(ServicePorts(blob=port, queue=port, table=port)) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.ports.queue)
        answers = []
        for _ in range(3):
            writer.write(b"GET /devstoreaccount1/work/messages HTTP/1.1\r\nHost: proxy\r\n\r\n")
            answers.append(await reader.readuntil(b"0\r\n\r\n"))
        writer.close()

    assert answers == [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"] * 3
    assert connections_opened == 3  # the first, then one fresh connection per retried request
    assert proxy.statistics().forwarded == {"queue.receive": 3}


def test_thread_variant_pauses_resumes_simulates_an_outage_and_frees_its_ports_on_stop(
    upstream: ServicePorts, sync_queue_name: str
) -> None:
    plan = FaultPlan(rates={"busy": 1.0})
    with FaultProxyThread(FaultProxy(upstream, plan, is_paused=True)) as proxy:
        with SyncQueueClient.from_connection_string(proxy.connection_string, sync_queue_name, retry_total=0) as queue:
            queue.send_message("paused: relayed faithfully")
            proxy.resume()
            with pytest.raises(HttpResponseError, match="ServerBusy"):
                queue.send_message("resumed: busy")
            proxy.pause()
            proxy.begin_outage()
            with pytest.raises(CONNECTION_ERRORS):
                queue.send_message("storage is down")
            proxy.end_outage()
            queue.send_message("back up")
            stored = [message.content for message in queue.peek_messages(max_messages=32)]
        ports = proxy.ports
        assert all(_is_listening(port) for port in (ports.blob, ports.queue, ports.table))

    assert stored == ["paused: relayed faithfully", "back up"]
    assert proxy.statistics().injected == {("queue.send", "busy"): 1, ("queue.send", "outage"): 1}
    assert not any(_is_listening(port) for port in (ports.blob, ports.queue, ports.table))


async def test_a_restarted_proxy_listens_on_the_same_ports(upstream: ServicePorts, queue_name: str) -> None:
    proxy = FaultProxy(upstream)
    await proxy.start()
    first_ports = proxy.ports
    await proxy.stop()
    await proxy.start()
    try:
        async with _queue_through(proxy, queue_name) as queue:
            await queue.send_message("after restart")
    finally:
        await proxy.stop()

    assert proxy.ports == first_ports
    assert proxy.statistics().forwarded == {"queue.send": 1}


def test_a_plan_rejects_unknown_kinds_and_impossible_rates() -> None:
    with pytest.raises(ValueError, match="unknown request kinds"):
        FaultPlan(kind_rates={"queue.sned": {"busy": 1.0}})
    with pytest.raises(ValueError, match="add up to at most 1"):
        FaultPlan(rates={"busy": 0.6, "timeout": 0.6})
    with pytest.raises(ValueError):
        FaultPlan(rates={"bussy": 0.1})
