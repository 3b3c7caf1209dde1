"""`durable-azure worker`: the worker and the timer, queue and blob listeners of an app, without the HTTP site.

Each resource's start is paired with its stop (storage, worker, listeners), so a failure at any step releases
what was already opened; SIGINT/SIGTERM stops the listeners first (invocations in progress finish), then the
worker. Start-up order: task hub resources first (idempotent), then the worker, then the listeners.
Clients handed to functions here carry management links (with the app's system key, shared through
storage) for the default local host address, since this process serves no HTTP itself.
"""

from __future__ import annotations

import asyncio
import logging

from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.functions.environment import AppEnvironment
from durable_azure.functions.host import DEFAULT_HOST, DEFAULT_PORT, invocation_services, stop_on_signals
from durable_azure.functions.host_storage import open_host_storage
from durable_azure.functions.indexing import AppIndex
from durable_azure.functions.keys import host_id, load_or_create_host_keys
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
    async with open_host_storage(environment) as storage:
        keys = await load_or_create_host_keys(storage.account, host_id(environment.app_dir))
        urls = ManagementUrls(
            base_url=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
            task_hub=settings.hub_name,
            system_key=keys.keys.system_keys.get("durabletask_extension"),
        )
        services = invocation_services(storage, urls)
        registry = registry_with_bindings(index, services)
        worker = Worker(storage.hub, registry, settings)
        await worker.start()
        try:
            async with run_listeners(index.triggered, services) as listeners:
                logger.info(
                    "host.started hub=%s app_dir=%s account=%s connection=%s orchestrators=%d activities=%d "
                    "triggers=%s",
                    settings.hub_name,
                    environment.app_dir,
                    storage.account.account_name,
                    environment.connection.source,
                    len(registry.orchestrators),
                    len(registry.activities),
                    ",".join(f"{function.name}({listener.describe()})" for function, listener in listeners) or "-",
                )
                await stop.wait()
                logger.info("host.stopping hub=%s", settings.hub_name)
        finally:
            await worker.stop()
