"""`durableClient` / `orchestrationClient`: a client as input, or instances to start as output, on any trigger.

Input: v2 functions receive a DurableOrchestrationClient; v1 functions the binding's JSON string (they write
`DurableOrchestrationClient(starter)`), valid for the length of the invocation, and so do v2 functions declared
with azure.durable_functions' `durable_client_input`, whose middleware builds the official client from it. `taskHub` and
`connectionName` (`%Setting%` allowed) select another task hub or storage account.

Output: the value (one start request, or a list) is validated whole (start_requests.py), explicit instance
ids are checked not to be running, and only then one instance per entry is started.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from durable_azure.client import binding as client_binding
from durable_azure.errors import FunctionInvocationError
from durable_azure.functions import official_sdk
from durable_azure.functions.bindings import Write, register
from durable_azure.functions.bindings.expressions import app_setting
from durable_azure.functions.indexing import BindingSpec, ProgrammingModel
from durable_azure.functions.start_requests import StartRequest, parse_start_requests
from durable_azure.functions.urls import ManagementUrls

if TYPE_CHECKING:
    from durable_azure.client import DurableOrchestrationClient
    from durable_azure.functions.invocation import Invocation

CLIENT_BINDING_TYPES = ("durableClient", "orchestrationClient")


class DurableClientBinding:
    def check(self, function_name: str, binding: BindingSpec) -> None:
        return None

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        client = await client_for(invocation, binding)
        if invocation.function.model is ProgrammingModel.V2 and not official_sdk.is_sdk_code(
            invocation.function.function
        ):
            return client
        urls = client.management
        assert isinstance(urls, ManagementUrls)  # the host gives every client it binds its management URLs
        fields = urls.client_binding_fields(connection_attribute=app_setting(binding.connection_name))
        binding_id, binding_json = client_binding.register(client.bound_hub(), fields)
        invocation.cleanups.append(lambda: client_binding.release(binding_id))
        return binding_json

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        if value is None:
            return None
        is_own_hub = binding.task_hub is None and binding.connection_name is None
        known = invocation.function.orchestrator_names if is_own_hub else None
        requests = parse_start_requests(value, binding_name=binding.name, known_orchestrators=known)
        client = await client_for(invocation, binding)
        await _check_not_running(client, requests, binding.name)

        async def start() -> None:
            for request in requests:
                await client.start_new(request.function_name, request.instance_id, request.input_)

        return start


async def client_for(invocation: Invocation, binding: BindingSpec) -> DurableOrchestrationClient:
    """The client a binding asks for, with management links for its own task hub and connection."""
    services = invocation.services
    task_hub = app_setting(binding.task_hub)
    connection_name = app_setting(binding.connection_name)
    if task_hub is None and connection_name is None:
        return services.client.with_management(services.management)
    client = await services.client_for(task_hub, connection_name)
    management = dataclasses.replace(
        services.management,
        task_hub=client.task_hub_name,
        connection_name=connection_name or services.management.connection_name,
    )
    return client.with_management(management)


async def _check_not_running(
    client: DurableOrchestrationClient, requests: list[StartRequest], binding_name: str
) -> None:
    """An explicit id whose instance is still active would fail mid-way; refuse the payload before starting."""
    for index, request in enumerate(requests):
        if request.is_new_id:
            continue
        status = await client.get_status(request.instance_id, show_input=False)
        if status and status.runtime_status and not status.runtime_status.to_status().is_terminal:
            raise FunctionInvocationError(
                f"output binding {binding_name!r}, entry {index}: InstanceId {request.instance_id!r} is already "
                f"{status.runtime_status.value}"
            )


for _type in CLIENT_BINDING_TYPES:
    register(_type, "in", DurableClientBinding())
    register(_type, "out", DurableClientBinding())
