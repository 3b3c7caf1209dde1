"""A SAS connection string against the session's Azurite; the Azurite launcher's HTTPS and OAuth options."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import generate_account_sas

from durable_azure.azure_storage import SharedAccessSignature, StorageAccount, TaskHub, parse_connection_string
from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY, DEVELOPMENT_ACCOUNT_NAME, Azurite
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.identity.certificates import TlsFiles


def account_sas() -> str:
    return generate_account_sas(
        DEVELOPMENT_ACCOUNT_NAME,
        DEVELOPMENT_ACCOUNT_KEY,
        resource_types="sco",
        permission="rwdlacup",
        expiry=datetime.now(UTC) + timedelta(hours=1),
        services="bqt",
    )


async def test_a_sas_connection_string_runs_a_task_hub(azurite: Azurite) -> None:
    text = (
        f"BlobEndpoint={azurite.blob_endpoint};QueueEndpoint={azurite.queue_endpoint};"
        f"TableEndpoint={azurite.table_endpoint};SharedAccessSignature={account_sas()}"
    )
    connection = parse_connection_string(text)
    assert isinstance(connection.credential, SharedAccessSignature)
    assert connection.account_name == DEVELOPMENT_ACCOUNT_NAME
    async with StorageAccount.from_connection(connection) as account:
        assert account.transport_name == "lean"  # a SAS signs the lean transport's requests as well
        hub = TaskHub(account, unique_hub_name("Sas"), partition_count=1)
        await hub.create_if_not_exists()
        try:
            async with DurableOrchestrationClient(hub) as client:
                await client.start_new("hello", "sas-instance", "SAS")
                status = await client.get_status("sas-instance")
        finally:
            await hub.delete()
    assert status is not None and status.runtime_status == OrchestrationRuntimeStatus.Pending


def test_https_endpoints_and_connection_string(oauth_azurite: Azurite) -> None:
    """The OAuth Azurite itself (started with --cert, --key and --oauth) is proven by test_identity_storage.py."""
    assert oauth_azurite.scheme == "https"
    assert oauth_azurite.queue_endpoint == f"https://127.0.0.1:{oauth_azurite.queue_port}/devstoreaccount1"
    assert f"QueueEndpoint={oauth_azurite.queue_endpoint};" in oauth_azurite.connection_string
    assert oauth_azurite.connection_string.startswith("DefaultEndpointsProtocol=https;")


def test_oauth_needs_https(tmp_path: Path, tls_certificate: TlsFiles) -> None:
    with pytest.raises(ConfigurationError, match="over HTTPS only"):
        Azurite(tmp_path, oauth="basic")
    with pytest.raises(ConfigurationError, match="both a certificate and its key"):
        Azurite(tmp_path, cert=tls_certificate.cert_file)
