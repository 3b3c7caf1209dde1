"""End to end on an Azurite in OAuth mode: an identity-based connection, as a user configures it, runs a task hub.

The settings are the ones a user writes (`AzureWebJobsStorage__blobServiceUri/__queueServiceUri/
__tableServiceUri`, `__credential=managedidentity`, `__clientId`); azure-identity's ManagedIdentityCredential
gets its tokens from the loopback App Service endpoint (token_endpoint.py), Azurite checks them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from durable_azure.azure_storage import (
    IdentityCredential,
    StorageAccount,
    TaskHub,
    TransportChoice,
    resolve_connection,
)
from durable_azure.azurite import Azurite
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError, CredentialError
from durable_azure.functions.environment import load_app_environment
from durable_azure.functions.keys import load_or_create_host_keys
from durable_azure.status import OrchestrationRuntimeStatus
from durable_azure.worker import Worker
from tests.client import apps
from tests.conftest import unique_hub_name
from tests.identity.certificates import TlsFiles
from tests.identity.conftest import USER_ASSIGNED_CLIENT_ID
from tests.identity.token_endpoint import TokenEndpoint
from tests.worker.conftest import TEST_SETTINGS

STORAGE_RESOURCE = "https://storage.azure.com"


@pytest.mark.parametrize("transport", [TransportChoice.LEAN, TransportChoice.SDK])
async def test_an_orchestration_completes_and_keys_are_kept_over_an_identity_connection(
    tmp_path: Path, identity_settings: dict[str, str], token_endpoint: TokenEndpoint, transport: TransportChoice
) -> None:
    environment = load_app_environment(tmp_path, dict(identity_settings))
    assert isinstance(environment.connection.credential, IdentityCredential)
    assert not environment.is_development_storage
    async with StorageAccount.from_connection(environment.connection, transport=transport) as account:
        assert account.transport_name == transport.value  # bearer tokens sign either transport's requests
        hub = TaskHub(account, unique_hub_name("Identity"), partition_count=2)
        await hub.create_if_not_exists()
        try:
            worker = Worker(hub, apps.registry(), TEST_SETTINGS)
            await worker.start()
            try:
                async with DurableOrchestrationClient(hub) as client:
                    instance_id = await client.start_new("hello_activity", None, "identity")
                    status = await client.wait_for_completion(instance_id, 60)
                    large = "x" * 100_000  # beyond a queue message and a table column: blobs, by token too
                    large_id = await client.start_new("hello_activity", None, large)
                    large_status = await client.wait_for_completion(large_id, 60)
            finally:
                await worker.stop(timeout=5)
            assert status.runtime_status == OrchestrationRuntimeStatus.Completed
            assert status.output == "Hello identity!"
            assert large_status.output == f"Hello {large}!"
            host = unique_hub_name("identity-host-").lower()
            created = await load_or_create_host_keys(account, host)
            loaded = await load_or_create_host_keys(account, host)
            assert created.is_new and not loaded.is_new
            assert loaded.keys.master_key == created.keys.master_key
        finally:
            await hub.delete()
    assert token_endpoint.requests, "the managed identity endpoint was never asked"
    for request in token_endpoint.requests:
        assert (request.resource, request.client_id) == (STORAGE_RESOURCE, USER_ASSIGNED_CLIENT_ID)
        assert request.api_version == "2019-08-01" and request.has_identity_header
    # one token serves every request until it is due: the credential is not asked per storage call
    assert len(token_endpoint.requests) <= 2


async def test_system_assigned_identity_sends_no_client_id(
    identity_settings: dict[str, str], token_endpoint: TokenEndpoint
) -> None:
    del identity_settings["AzureWebJobsStorage__clientId"]
    hub_exists = await _hub_exists(identity_settings)
    assert not hub_exists
    assert [request.client_id for request in token_endpoint.requests] == [None]


async def test_short_lived_tokens_are_renewed(identity_settings: dict[str, str], token_endpoint: TokenEndpoint) -> None:
    token_endpoint.lifetime = 2
    connection = resolve_connection("AzureWebJobsStorage", identity_settings)
    assert connection is not None
    async with StorageAccount.from_connection(connection) as account:
        hub = TaskHub(account, unique_hub_name("Renew"), partition_count=1)
        await hub.create_if_not_exists()
        first_tokens = len(token_endpoint.requests)
        await asyncio.sleep(3)  # past the first token's expiry
        assert await hub.exists()
        await hub.delete()
    assert first_tokens >= 1
    assert len(token_endpoint.requests) > first_tokens


async def test_a_failing_identity_is_a_credential_error_naming_the_setting(
    identity_settings: dict[str, str], token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.failing = True
    with pytest.raises(CredentialError) as raised:
        await _hub_exists(identity_settings)
    message = str(raised.value)
    assert message.startswith(
        "app settings AzureWebJobsStorage__*: ManagedIdentityCredential could not get a token for Azure Storage: "
    )
    assert "the test endpoint is failing" in message or "500" in message
    assert token_endpoint.requests


def test_an_identity_connection_over_http_is_refused_naming_the_settings(identity_settings: dict[str, str]) -> None:
    plain = {key: value.replace("https://", "http://") for key, value in identity_settings.items()}
    connection = resolve_connection("AzureWebJobsStorage", plain)
    assert connection is not None
    with pytest.raises(ConfigurationError, match=r"^app settings AzureWebJobsStorage__\*: .* needs https endpoints"):
        StorageAccount.from_connection(connection)


async def test_shared_key_keeps_working_on_the_oauth_azurite(
    oauth_azurite: Azurite, trust_test_certificate: TlsFiles
) -> None:
    async with StorageAccount.from_connection_string(oauth_azurite.connection_string) as account:
        assert account.transport_name == "lean"
        hub = TaskHub(account, unique_hub_name("Keyed"), partition_count=1)
        await hub.create_if_not_exists()
        assert await hub.exists()
        await hub.delete()


async def _hub_exists(settings: dict[str, str]) -> bool:
    connection = resolve_connection("AzureWebJobsStorage", settings)
    assert connection is not None
    async with StorageAccount.from_connection(connection) as account:
        return await TaskHub(account, unique_hub_name("Probe"), partition_count=1).exists()
