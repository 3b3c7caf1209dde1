"""The host's storage: the app's account and task hub, and clients for other hubs or connections on demand.

Bindings and the management API may name another task hub (`taskHub`) or another connection
(`connection` / `connectionName`: a connection name, resolved as the Functions host does, with the
`AzureWebJobs` prefix first, to a connection string or an identity-based section `{name}__*`; "Storage" is
AzureWebJobsStorage). Each (hub, connection) pair gets one client, kept for the host's lifetime and closed
with it. Messages name the setting, never its value.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from durable_azure.azure_storage import StorageAccount, StorageConnection, TaskHub, resolve_connection
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError, CredentialError, StorageError
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
        # The host's clients answer its management API, which refuses work on a finished instance (HTTP 410)
        # as the extension does; the views handed to functions (`with_management`) act as the official client.
        self.client = DurableOrchestrationClient(hub, other_hubs=self.client_for, refuse_finished=True)
        self._accounts: dict[str, StorageAccount] = {}
        self._clients: dict[tuple[str, str], DurableOrchestrationClient] = {}

    @property
    def settings(self) -> DurableTaskSettings:
        return self.environment.settings

    async def client_for(self, task_hub: str | None, connection_name: str | None) -> DurableOrchestrationClient:
        """A client for (task_hub or the app's hub, connection or the app's connection)."""
        other_connection = self._other_connection(connection_name)
        hub_name = task_hub or self.settings.hub_name
        if other_connection is None and hub_name == self.settings.hub_name:
            return self.client
        key = (hub_name.lower(), other_connection.lower() if other_connection else "")
        client = self._clients.get(key)
        if client is None:
            account = self.account if other_connection is None else self._account_for(other_connection)
            hub = TaskHub(account, hub_name, partition_count=self.settings.partition_count)
            client = DurableOrchestrationClient(hub, other_hubs=self.client_for, refuse_finished=True)
            self._clients[key] = client
        return client

    def account_for(self, connection_name: str | None) -> StorageAccount:
        """The account a trigger or binding's `connection` names; empty or "Storage" is AzureWebJobsStorage.

        The app's own account when the name resolves to the app's connection setting, or when it names
        AzureWebJobsStorage and that is not configured while the app runs on development storage (as `func
        start` does). Anything else unresolvable is a ConfigurationError naming the setting.
        """
        name = connection_name or CONNECTION_SETTING_PREFIX + DEFAULT_CONNECTION_NAME
        own = self.settings.connection_name.lower()
        candidates = {name.lower(), (CONNECTION_SETTING_PREFIX + name).lower()}
        if own in candidates:
            return self.account
        is_host_storage = (CONNECTION_SETTING_PREFIX + DEFAULT_CONNECTION_NAME).lower() in candidates
        unset = is_host_storage and resolve_connection(name, os.environ) is None
        if unset and self.environment.is_development_storage:
            return self.account
        return self._account_for(name)

    def _other_connection(self, connection_name: str | None) -> str | None:
        """`connection_name` when it names a connection other than the app's own, else None."""
        default_names = {DEFAULT_CONNECTION_NAME.lower(), self.settings.connection_name.lower()}
        default_names.add((CONNECTION_SETTING_PREFIX + DEFAULT_CONNECTION_NAME).lower())
        if not connection_name or connection_name.lower() in default_names:
            return None
        return connection_name

    def _account_for(self, connection_name: str) -> StorageAccount:
        account = self._accounts.get(connection_name.lower())
        if account is None:
            connection = resolve_connection(connection_name, os.environ)
            if connection is None:
                raise ConfigurationError(
                    f"connection {connection_name!r}: no app setting {CONNECTION_SETTING_PREFIX}{connection_name} or "
                    f"{connection_name} holds a connection string, and no {CONNECTION_SETTING_PREFIX}"
                    f"{connection_name}__* or {connection_name}__* settings configure an identity-based connection"
                )
            account = self._accounts[connection_name.lower()] = StorageAccount.for_settings(connection, self.settings)
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
    account = StorageAccount.for_settings(environment.connection, environment.settings)
    storage = HostStorage(
        environment, account, TaskHub(account, settings.hub_name, partition_count=settings.partition_count)
    )
    try:
        await create_task_hub(storage.hub, environment.connection)
        logger.info(
            "host.storage account=%s hub=%s connection=%s",
            account.account_name,
            settings.hub_name,
            environment.connection.source,
        )
        yield storage
    finally:
        await storage.close()


async def create_task_hub(hub: TaskHub, connection: StorageConnection) -> None:
    """Create the hub's queues, tables and containers if missing; a failure names the account and its settings.

    A CredentialError (no token for an identity) already names the settings and is raised as it is.
    """
    try:
        await hub.create_if_not_exists()
    except CredentialError:
        raise
    except StorageError as error:
        raise ConfigurationError(
            f"cannot use storage account {connection.account_name} at {connection.queue_endpoint} "
            f"(from {connection.source}): {error}; check that it is reachable and that the settings are right"
        ) from error
