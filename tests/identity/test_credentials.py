"""build_token_credential: the azure-identity credential each section kind asks for (reference §2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity import aio

from durable_azure.azure_storage.connection import IdentityCredential, IdentityKind
from durable_azure.azure_storage.credentials import build_token_credential
from durable_azure.errors import ConfigurationError
from tests.identity.certificates import TlsFiles

SECRET = "the-client-secret"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def identity(kind: IdentityKind, **fields: object) -> IdentityCredential:
    return IdentityCredential(setting="AzureWebJobsStorage", kind=kind, **fields)


@pytest.mark.parametrize(
    ("identity_credential", "expected_type"),
    [
        (identity(IdentityKind.MANAGED_IDENTITY), aio.ManagedIdentityCredential),
        (identity(IdentityKind.MANAGED_IDENTITY, client_id="c"), aio.ManagedIdentityCredential),
        (identity(IdentityKind.MANAGED_IDENTITY, managed_identity_resource_id="/r"), aio.ManagedIdentityCredential),
        (identity(IdentityKind.MANAGED_IDENTITY, managed_identity_object_id="o"), aio.ManagedIdentityCredential),
        (
            identity(IdentityKind.WORKLOAD_IDENTITY, tenant_id=TENANT, client_id="c", token_file_path="/var/token"),
            aio.WorkloadIdentityCredential,
        ),
        (
            identity(IdentityKind.CLIENT_SECRET, tenant_id=TENANT, client_id="c", client_secret=SECRET),
            aio.ClientSecretCredential,
        ),
        (
            identity(
                IdentityKind.AZURE_PIPELINES,
                tenant_id=TENANT,
                client_id="c",
                service_connection_id="s",
                system_access_token=SECRET,
            ),
            aio.AzurePipelinesCredential,
        ),
        (identity(IdentityKind.DEFAULT), aio.DefaultAzureCredential),
        (
            identity(IdentityKind.DEFAULT, client_id="c", tenant_id=TENANT, additionally_allowed_tenants=("*",)),
            aio.DefaultAzureCredential,
        ),
    ],
)
async def test_each_kind_builds_its_credential(identity_credential: IdentityCredential, expected_type: type) -> None:
    credential = build_token_credential(identity_credential)
    try:
        assert type(credential) is expected_type
    finally:
        await credential.close()


async def test_certificate_credential_reads_the_file(tls_certificate: TlsFiles) -> None:
    certificate = identity(
        IdentityKind.CLIENT_CERTIFICATE,
        tenant_id=TENANT,
        client_id="c",
        certificate_path=str(tls_certificate.client_pem),
    )
    credential = build_token_credential(certificate)
    assert type(credential) is aio.CertificateCredential
    await credential.close()


def test_unreadable_certificate_names_the_settings_not_the_password(tmp_path: Path) -> None:
    missing = identity(
        IdentityKind.CLIENT_CERTIFICATE,
        tenant_id=TENANT,
        client_id="c",
        certificate_path=str(tmp_path / "missing.pem"),
        certificate_password=SECRET,
    )
    with pytest.raises(ConfigurationError) as raised:
        build_token_credential(missing)
    message = str(raised.value)
    assert message.startswith("app settings AzureWebJobsStorage__*: cannot set up the clientcertificate credential")
    assert SECRET not in message
