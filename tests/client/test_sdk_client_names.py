"""The SDK's client parameters that act: `version`, `task_hub_name` / `connection_name`, response links."""

from __future__ import annotations

import azure.functions as func
import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError
from durable_azure.functions.urls import ManagementUrls
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client import apps
from tests.client.conftest import Running, queues_are_empty, wait_for_status

Completed = OrchestrationRuntimeStatus.Completed
Failed = OrchestrationRuntimeStatus.Failed


async def test_start_new_version_is_the_orchestrators_context_version(running: Running) -> None:
    instance_id = await running.client.start_new("reports_version", version="2.1")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.output == {"version": "2.1", "child": "7"}  # call_sub_orchestrator(version=...) too


async def test_raise_event_and_rewind_act_on_the_task_hub_they_name(running: Running) -> None:
    asked: list[tuple[str | None, str | None]] = []

    async def other_hubs(task_hub: str | None, connection: str | None) -> DurableOrchestrationClient:
        asked.append((task_hub, connection))
        return running.client

    here = TaskHub(running.hub.account, "SomeOtherAppsHub")
    async with DurableOrchestrationClient(here, other_hubs=other_hubs) as elsewhere:
        waiting = await running.client.start_new("approval")
        await wait_for_status(running.client, waiting, OrchestrationRuntimeStatus.Running)
        await elsewhere.raise_event(waiting, "Approval", 5, task_hub_name=running.hub.hub_name)
        assert (await running.client.wait_for_completion(waiting, 60)).output == {"approved": 5}

        failing = await running.client.start_new("failing_step")
        assert (await running.client.wait_for_completion(failing, 60)).runtime_status == Failed
        apps.allowed.add(failing)
        await elsewhere.rewind(failing, "fixed", running.hub.hub_name, "OtherStorage")
        assert (await running.client.wait_for_completion(failing, 60)).runtime_status == Completed
    assert asked == [(running.hub.hub_name, None), (running.hub.hub_name, "OtherStorage")]


@pytest.mark.parametrize("operation", ["raise_event", "rewind"])
async def test_a_hub_this_client_cannot_reach_is_an_error_not_ignored(running: Running, operation: str) -> None:
    instance_id = await running.client.start_new("approval")
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    arguments = ("Approval", 1) if operation == "raise_event" else ("why",)
    with pytest.raises(ConfigurationError, match="cannot reach task hub 'Elsewhere'"):
        await getattr(running.client, operation)(instance_id, *arguments, task_hub_name="Elsewhere")
    with pytest.raises(ConfigurationError, match="connection 'OtherStorage'"):
        await getattr(running.client, operation)(instance_id, *arguments, connection_name="OtherStorage")
    assert await queues_are_empty(running.hub)
    # Its own hub, named in any case, is no other hub.
    await running.client.raise_event(instance_id, "Approval", 2, task_hub_name=running.hub.hub_name.upper())
    assert (await running.client.wait_for_completion(instance_id, 60)).output == {"approved": 2}


async def test_get_client_response_links_use_the_requests_host(task_hub: TaskHub) -> None:
    links = ManagementUrls(base_url="http://127.0.0.1:7071", task_hub=task_hub.hub_name, system_key="k")
    client = DurableOrchestrationClient(task_hub, management=links)
    request = func.HttpRequest("GET", "https://example.test:8443/api/start", body=b"")
    payload = client.get_client_response_links(request, "abc")
    assert payload["id"] == "abc"
    assert payload["statusQueryGetUri"].startswith(
        "https://example.test:8443/runtime/webhooks/durabletask/instances/abc?"
    )
    assert client.get_client_response_links(None, "abc") == client.create_http_management_payload("abc")
    assert client.create_http_management_payload("abc")["statusQueryGetUri"].startswith("http://127.0.0.1:7071/")
