"""Run the worker for an app until SIGINT/SIGTERM, then stop it gracefully.

Each resource's start is paired with its stop (storage account, worker), so a failure at any step releases
what was already opened. Start-up order: task hub resources first (idempotent), then the dispatchers.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.functions.environment import AppEnvironment
from durable_azure.functions.host_storage import create_task_hub
from durable_azure.worker import Registry, Worker

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_worker(environment: AppEnvironment, registry: Registry, *, stop: asyncio.Event | None = None) -> None:
    """Serve `registry` on the app's task hub until `stop` is set (default: until SIGINT or SIGTERM).

    Storage calls: creates the task hub's queues, tables and containers if missing, then polls.
    """
    stop = stop if stop is not None else _stop_on_signals()
    settings = environment.settings
    account = StorageAccount.for_settings(environment.connection, environment.settings)
    try:
        hub = TaskHub(account, settings.hub_name, partition_count=settings.partition_count)
        await create_task_hub(hub, environment.connection)
        worker = Worker(hub, registry, settings)
        await worker.start()
        logger.info(
            "host.started hub=%s app_dir=%s account=%s connection=%s orchestrators=%d activities=%d",
            settings.hub_name,
            environment.app_dir,
            account.account_name,
            environment.connection.source,
            len(registry.orchestrators),
            len(registry.activities),
        )
        try:
            await stop.wait()
        finally:
            logger.info("host.stopping hub=%s", settings.hub_name)
            await worker.stop()
    finally:
        await account.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, stop.set)
    return stop
