"""The host's storage: the app's account and task hub, and clients for other hubs or connections on demand.

Bindings and the management API may name another task hub (`taskHub`) or another connection
(`connection` / `connectionName`: the name of an app setting holding a connection string, looked up as given
and with the `AzureWebJobs` prefix, as the Functions host does; "Storage" is AzureWebJobsStorage). Each
(hub, connection) pair gets one client, kept for the host's lifetime and closed with it. Messages name the
setting, never its value.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError, StorageError
from durable_azure.functions.environment import AppEnvironment
from durable_azure.functions.urls import DEFAULT_CONNECTION_NAME
from durable_azure.settings import DurableTaskSettings

logger = logging.getLogger(__name__)

CONNECTION_SETTING_PREFIX = "AzureWebJobs"


class HostStorage:
    """The app's account, hub and client, plus a cache of clients for other hubs and connections."""

    def __init__(self, environment: AppEnvironment, account: StorageAccount, hub: TaskHub) -> None:
        self.environment = environment
        self.account = account
        self.hub = hub
        self.client = DurableOrchestrationClient(hub)
        self._accounts: dict[str, StorageAccount] = {}
        self._clients: dict[tuple[str, str], DurableOrchestrationClient] = {}

    @property
    def settings(self) -> DurableTaskSettings:
        return self.environment.settings

    async def client_for(self, task_hub: str | None, connection_name: str | None) -> DurableOrchestrationClient:
        """A client for (task_hub or the app's hub, connection or the app's connection)."""
        setting = self._connection_setting(connection_name)
        hub_name = task_hub or self.settings.hub_name
        if setting is None and hub_name == self.settings.hub_name:
            return self.client
        key = (hub_name.lower(), setting or "")
        client = self._clients.get(key)
        if client is None:
            account = self.account if setting is None else self._account_for(setting)
            hub = TaskHub(account, hub_name, partition_count=self.settings.partition_count)
            client = self._clients[key] = DurableOrchestrationClient(hub)
        return client

    def _connection_setting(self, connection_name: str | None) -> str | None:
        """The app setting to read for `connection_name`; None means the app's own connection."""
        default_names = {DEFAULT_CONNECTION_NAME.lower(), self.settings.connection_name.lower()}
        default_names.add((CONNECTION_SETTING_PREFIX + DEFAULT_CONNECTION_NAME).lower())
        if not connection_name or connection_name.lower() in default_names:
            return None
        for setting in (connection_name, CONNECTION_SETTING_PREFIX + connection_name):
            if os.environ.get(setting):
                return setting
        raise ConfigurationError(
            f"connection {connection_name!r}: no app setting named {connection_name} or "
            f"{CONNECTION_SETTING_PREFIX}{connection_name} holds a connection string"
        )

    def _account_for(self, setting: str) -> StorageAccount:
        account = self._accounts.get(setting)
        if account is None:
            account = self._accounts[setting] = StorageAccount.from_connection_string(os.environ[setting])
        return account

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        await self.client.close()
        for account in self._accounts.values():
            await account.close()
        await self.account.close()


@contextlib.asynccontextmanager
async def open_host_storage(environment: AppEnvironment) -> AsyncIterator[HostStorage]:
    """Connect, and create the task hub if missing; ConfigurationError naming the account when that fails."""
    settings = environment.settings
    account = StorageAccount.from_connection_string(environment.connection_string)
    storage = HostStorage(
        environment, account, TaskHub(account, settings.hub_name, partition_count=settings.partition_count)
    )
    try:
        try:
            await storage.hub.create_if_not_exists()
        except StorageError as error:
            raise ConfigurationError(
                f"cannot use storage account {account.account_name} at {account.queue_endpoint} "
                f"(from app setting {settings.connection_name}): {error}; check that it is reachable and the "
                "connection string is right"
            ) from error
        logger.info("host.storage account=%s hub=%s", account.account_name, settings.hub_name)
        yield storage
    finally:
        await storage.close()
