"""get_status, get_status_all, get_status_by and the paged list_instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from durable_azure.azure_storage import InstanceRecord, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError
from durable_azure.history import OrchestrationStatus
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import Running

Completed = OrchestrationRuntimeStatus.Completed
Failed = OrchestrationRuntimeStatus.Failed
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


async def seed(hub: TaskHub, count: int, *, prefix: str = "i", statuses=(OrchestrationStatus.Completed,)) -> list[str]:
    """Instances rows written straight to the table (no worker): instance n created n minutes after BASE_TIME."""
    ids = [f"{prefix}{number:05d}" for number in range(count)]
    limit = asyncio.Semaphore(32)

    async def create(number: int, instance_id: str) -> None:
        created = BASE_TIME + timedelta(minutes=number)
        record = InstanceRecord(
            instance_id=instance_id,
            name="seeded",
            runtime_status=statuses[number % len(statuses)],
            input=f'"input {number}"',
            created_time=created,
            last_updated_time=created,
        )
        async with limit:
            await hub.instances.create(record, etag=None)

    await asyncio.gather(*(create(number, instance_id) for number, instance_id in enumerate(ids)))
    return ids


async def test_an_unknown_instance_has_no_status(client: DurableOrchestrationClient) -> None:
    assert await client.get_status("nobody") is None


async def test_a_completed_status_carries_every_field(running: Running) -> None:
    instance_id = await running.client.start_new("hello_activity", client_input="Ana")
    await running.client.wait_for_completion(instance_id, 60)
    status = await running.client.get_status(instance_id, show_input=True)
    assert status.name == "hello_activity"
    assert status.instance_id == instance_id
    assert status.runtime_status == Completed
    assert status.input_ == "Ana"
    assert status.output == "Hello Ana!"
    assert status.custom_status is None
    assert status.history is None
    assert status.created_time <= status.last_updated_time
    assert (await running.client.get_status(instance_id)).input_ is None  # show_input defaults to False, as in the SDK


async def test_show_history_returns_the_http_api_history(running: Running) -> None:
    instance_id = await running.client.start_new("hello_activity", client_input="Ana")
    await running.client.wait_for_completion(instance_id, 60)
    history = (await running.client.get_status(instance_id, show_history=True, show_input=True)).history
    assert [entry["EventType"] for entry in history] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    started, task, completed = history
    assert started["FunctionName"] == "hello_activity"
    assert started["Input"] == "Ana"
    assert task["FunctionName"] == "say_hello"
    assert task["ScheduledTime"] <= task["Timestamp"]
    assert "Result" not in task
    assert completed["OrchestrationStatus"] == "Completed"
    assert "Result" not in completed
    with_output = (await running.client.get_status(instance_id, show_history=True, show_history_output=True)).history
    assert with_output[1]["Result"] == "Hello Ana!"
    assert with_output[2]["Result"] == "Hello Ana!"


async def test_the_output_of_a_failed_instance_holds_the_error(running: Running) -> None:
    instance_id = await running.client.start_new("failing_step")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Failed
    assert f"{instance_id} is not allowed yet" in str(status.output)


async def test_get_status_all_returns_every_instance_beyond_the_first_page(
    client: DurableOrchestrationClient, task_hub: TaskHub
) -> None:
    ids = await seed(task_hub, 1050)
    statuses = await client.get_status_all()
    assert sorted(status.instance_id for status in statuses) == ids


async def test_get_status_by_filters_by_creation_time_and_status(
    client: DurableOrchestrationClient, task_hub: TaskHub
) -> None:
    statuses = (OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Running)
    ids = await seed(task_hub, 30, statuses=statuses)
    window = await client.get_status_by(BASE_TIME + timedelta(minutes=10), BASE_TIME + timedelta(minutes=19))
    assert sorted(status.instance_id for status in window) == ids[10:20]
    failed_or_running = await client.get_status_by(runtime_status=[Failed, OrchestrationRuntimeStatus.Running])
    assert sorted(status.instance_id for status in failed_or_running) == [i for n, i in enumerate(ids) if n % 3]
    both = await client.get_status_by(created_time_from=BASE_TIME + timedelta(minutes=20), runtime_status=[Failed])
    assert sorted(status.instance_id for status in both) == [ids[22], ids[25], ids[28]]


async def test_paging_1000_instances_by_50_has_no_duplicates_and_misses_none(
    client: DurableOrchestrationClient, task_hub: TaskHub
) -> None:
    ids = await seed(task_hub, 1000)
    await client.get_status("warm-up")  # the client's one-time task hub check is not part of a page
    seen: list[str] = []
    token = None
    pages = 0
    counter = task_hub.account.counter
    while True:
        before = counter.total
        page = await client.list_instances(page_size=50, continuation_token=token)
        assert counter.total - before == 1, "one storage request per page"
        assert len(page.instances) <= 50
        seen += [status.instance_id for status in page.instances]
        pages += 1
        token = page.continuation_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 1000
    assert sorted(seen) == ids
    assert pages in (20, 21)  # the service may end with an empty page


async def test_a_page_can_be_limited_to_an_id_prefix(client: DurableOrchestrationClient, task_hub: TaskHub) -> None:
    await seed(task_hub, 10, prefix="order-")
    wanted = await seed(task_hub, 7, prefix="invoice-")
    page = await client.list_instances(instance_id_prefix="invoice-", page_size=5)
    rest = await client.list_instances(
        instance_id_prefix="invoice-", page_size=5, continuation_token=page.continuation_token
    )
    assert [s.instance_id for s in page.instances + rest.instances] == wanted
    assert rest.continuation_token is None
    assert all(status.input_ is None for status in page.instances)
    with_input = await client.list_instances(instance_id_prefix="invoice-00001", show_input=True)
    assert [status.input_ for status in with_input.instances] == ["input 1"]
    by = await client.get_status_by(instance_id_prefix="order-")
    assert len(by) == 10


async def test_a_bad_page_request_is_refused(client: DurableOrchestrationClient) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await client.list_instances(page_size=0)
    with pytest.raises(ConfigurationError, match="continuation token"):
        await client.list_instances(continuation_token="not a token!")
