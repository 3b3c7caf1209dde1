"""Bindings and the management API may name another connection; an identity section serves there too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConfigurationError
from durable_azure.functions.environment import load_app_environment
from durable_azure.functions.host_storage import HostStorage
from tests.conftest import unique_hub_name
from tests.identity.token_endpoint import TokenEndpoint


@pytest_asyncio.fixture
async def host_storage(tmp_path: Path, connection_string: str) -> AsyncIterator[HostStorage]:
    """The host's storage for an app on the session's (Shared Key) Azurite."""
    environment = load_app_environment(tmp_path, {"AzureWebJobsStorage": connection_string})
    account = StorageAccount.from_connection(environment.connection)
    storage = HostStorage(environment, account, TaskHub(account, environment.settings.hub_name, partition_count=1))
    yield storage
    await storage.close()


async def test_another_connection_named_by_a_binding_may_be_an_identity_section(
    host_storage: HostStorage,
    identity_settings: dict[str, str],
    token_endpoint: TokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in identity_settings.items():
        monkeypatch.setenv(name.replace("AzureWebJobsStorage", "AzureWebJobsOther"), value)
    client = await host_storage.client_for(unique_hub_name("Other"), "Other")
    assert await client.get_status("nobody") is None
    assert token_endpoint.requests, "the other connection did not use its identity"
    assert await host_storage.client_for(client.task_hub_name, "Other") is client


async def test_an_unknown_connection_names_every_setting_it_looked_for(host_storage: HostStorage) -> None:
    with pytest.raises(ConfigurationError) as raised:
        await host_storage.client_for(None, "Missing")
    message = str(raised.value)
    for setting in ("AzureWebJobsMissing", "Missing", "AzureWebJobsMissing__*", "Missing__*"):
        assert setting in message


async def test_an_unusable_section_for_another_connection_names_it(
    host_storage: HostStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("Broken__blobServiceUri", "https://broken.blob.core.windows.net")
    with pytest.raises(ConfigurationError, match="Broken__queueServiceUri"):
        await host_storage.client_for(None, "Broken")


async def test_the_apps_own_connection_names_mean_the_apps_client(host_storage: HostStorage) -> None:
    for name in (None, "", "Storage", "AzureWebJobsStorage", "azurewebjobsstorage"):
        assert await host_storage.client_for(None, name) is host_storage.client
