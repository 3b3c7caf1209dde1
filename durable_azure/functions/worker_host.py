"""`durable-azure worker`: the worker and the timer, queue and blob listeners of an app, without the HTTP site.

Each resource's start is paired with its stop (storage, worker, listeners), so a failure at any step releases
what was already opened; SIGINT/SIGTERM stops the listeners first (invocations in progress finish), then the
worker. Start-up order: task hub resources first (idempotent), then the worker, then the listeners.
Clients handed to functions here carry management links (with the app's system key, shared through
storage) for the default local host address, since this process serves no HTTP triggers itself. When a
function here has a client binding (a timer, queue or blob trigger, or an activity, that starts or
queries orchestrations), the process opens its own local RPC endpoint (rpc_listener.py), as every
extension host does, so binding strings handed to those functions carry a working `rpcBaseUrl`.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from durable_azure.functions.bindings.client import CLIENT_BINDING_TYPES
from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.functions.environment import AppEnvironment
from durable_azure.functions.host import DEFAULT_HOST, DEFAULT_PORT, invocation_services, stop_on_signals
from durable_azure.functions.host_storage import open_host_storage
from durable_azure.functions.indexing import AppIndex
from durable_azure.functions.keys import host_id, load_or_create_host_keys
from durable_azure.functions.management_api import ManagementServices
from durable_azure.functions.rpc_listener import bind_rpc_socket, rpc_base_url, serving_rpc_if
from durable_azure.functions.triggers import run_listeners
from durable_azure.functions.urls import ManagementUrls
from durable_azure.worker import Worker

logger = logging.getLogger(__name__)


async def run_worker(environment: AppEnvironment, index: AppIndex, *, stop: asyncio.Event | None = None) -> None:
    """Serve the app's orchestrators, activities and non-HTTP triggers until `stop` is set (default: a signal).

    Storage calls: creates the task hub's queues, tables and containers if missing, then polls.
    """
    stop = stop if stop is not None else stop_on_signals()
    settings = environment.settings
    needs_rpc = settings.local_rpc_endpoint_enabled and uses_client_bindings(index)
    rpc_socket = bind_rpc_socket() if needs_rpc else None
    try:
        await _run(environment, index, stop, rpc_socket)
    finally:
        if rpc_socket is not None:
            rpc_socket.close()


def uses_client_bindings(index: AppIndex) -> bool:
    """Whether any function this process runs (triggered or bound activity) has a durable client binding."""
    functions = [*index.triggered, *index.bound_activities.values()]
    return any(binding.type in CLIENT_BINDING_TYPES for function in functions for binding in function.bindings)


async def _run(
    environment: AppEnvironment, index: AppIndex, stop: asyncio.Event, rpc_socket: socket.socket | None
) -> None:
    settings = environment.settings
    async with open_host_storage(environment) as storage:
        keys = await load_or_create_host_keys(storage.account, host_id(environment.app_dir))
        urls = ManagementUrls(
            base_url=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
            task_hub=settings.hub_name,
            system_key=keys.keys.system_keys.get("durabletask_extension"),
            rpc_base_url=rpc_base_url(rpc_socket) if rpc_socket is not None else None,
        )
        services = invocation_services(storage, urls)
        registry = registry_with_bindings(index, services)
        management = ManagementServices(
            client_for=storage.client_for,
            urls=urls,
            keys=keys.keys,
            orchestrator_names=index.orchestrator_names,
            entity_names=frozenset(index.registry.entities),
            unmodified_app=index.unmodified,
        )
        worker = Worker(storage.hub, registry, settings)
        await worker.start()
        try:
            async with (
                serving_rpc_if(rpc_socket, management),
                run_listeners(index.triggered, services) as listeners,
            ):
                logger.info(
                    "host.started hub=%s app_dir=%s account=%s connection=%s orchestrators=%d activities=%d "
                    "rpc=%s triggers=%s",
                    settings.hub_name,
                    environment.app_dir,
                    storage.account.account_name,
                    environment.connection.source,
                    len(index.orchestrator_names),
                    len(registry.activities),
                    urls.rpc_base_url or "-",
                    ",".join(f"{function.name}({listener.describe()})" for function, listener in listeners) or "-",
                )
                await stop.wait()
                logger.info("host.stopping hub=%s", settings.hub_name)
        finally:
            await worker.stop()
