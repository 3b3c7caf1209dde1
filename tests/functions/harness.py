"""Run an app folder in-process as the host would: index it, run a worker, invoke its HTTP functions.

Used by the bindings, v1 and samples tests. Storage is the session's real Azurite; only the HTTP server
is left out (the host's own tests cover it against a subprocess).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.functions.http_invocation import invoke_http_function
from durable_azure.functions.indexing import AppIndex, HttpFunction, InvocationServices, index_app
from durable_azure.functions.urls import ManagementUrls
from durable_azure.worker import Worker
from tests.worker.conftest import TEST_SETTINGS

BASE_URL = "http://127.0.0.1:7071"


@dataclass
class RunningApp:
    index: AppIndex
    services: InvocationServices
    client: DurableOrchestrationClient
    hubs: dict[str, TaskHub]

    def function(self, name: str) -> HttpFunction:
        return next(function for function in self.index.http_functions if function.name == name)

    async def call(
        self,
        name: str,
        *,
        method: str = "POST",
        route_params: dict[str, str] | None = None,
        body: Any = None,
        params: dict[str, str] | None = None,
        origin: str = "http://localhost:7071",
    ) -> func.HttpResponse:
        function = self.function(name)
        route = function.route
        for key, value in (route_params or {}).items():
            route = route.replace("{" + key + "}", value)
        request = func.HttpRequest(
            method=method,
            url=f"{origin}/api/{route}",
            headers={"Content-Type": "application/json"},
            params=params or {},
            route_params=route_params or {},
            body=b"" if body is None else json.dumps(body).encode(),
        )
        return await invoke_http_function(function, request, self.services)


@asynccontextmanager
async def running_app(app_dir: Path, task_hub: TaskHub, *, with_worker: bool = True) -> AsyncIterator[RunningApp]:
    """`app_dir` indexed and served on `task_hub`; `client_for(hub_name, None)` opens other hubs of the account."""
    index = index_app(app_dir)
    client = DurableOrchestrationClient(task_hub)
    hubs: dict[str, TaskHub] = {}

    async def client_for(hub_name: str | None, connection_name: str | None) -> DurableOrchestrationClient:
        hub = TaskHub(task_hub.account, hub_name or task_hub.hub_name, partition_count=task_hub.partition_count)
        hubs[hub.hub_name] = hub
        return DurableOrchestrationClient(hub)

    management = ManagementUrls(base_url=BASE_URL, task_hub=task_hub.hub_name, connection_name="Storage")
    services = InvocationServices(
        client=client,
        client_for=client_for,
        management=management,
        account_for=lambda connection_name: task_hub.account,
        host_id=f"testhost-{task_hub.hub_name.lower()}"[:32],
    )
    # Activities with bindings run wrapped, as under the host (functions/bound_activities.py).
    worker = Worker(task_hub, registry_with_bindings(index, services), TEST_SETTINGS) if with_worker else None
    if worker is not None:
        await worker.start()
    try:
        yield RunningApp(index=index, services=services, client=client, hubs=hubs)
    finally:
        await client.close()
        if worker is not None:
            await worker.stop(timeout=5)
        for hub in hubs.values():
            if hub.hub_name != task_hub.hub_name:
                await hub.delete()


def body_json(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())
