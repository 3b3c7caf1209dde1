"""resolve_connection: which setting a connection name means, and identity-based sections as the host reads them."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage.connection import IdentityCredential, IdentityKind
from durable_azure.azure_storage.connection_sections import resolve_connection
from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY

KEY = DEVELOPMENT_ACCOUNT_KEY
SECRET = "client-secret-value-1234"
AZURITE_URIS = {
    "AzureWebJobsStorage__blobServiceUri": "https://127.0.0.1:5001/devstoreaccount1",
    "AzureWebJobsStorage__queueServiceUri": "https://127.0.0.1:5002/devstoreaccount1/",
    "AzureWebJobsStorage__tableServiceUri": "https://127.0.0.1:5003/devstoreaccount1",
}


def identity(environ: dict[str, str], name: str = "AzureWebJobsStorage") -> IdentityCredential:
    connection = resolve_connection(name, environ)
    assert connection is not None
    assert isinstance(connection.credential, IdentityCredential)
    return connection.credential


def test_nothing_set_is_none() -> None:
    assert resolve_connection("AzureWebJobsStorage", {}) is None
    assert resolve_connection("Storage", {"AzureWebJobsStorage": "  ", "Other__accountName": "x"}) is None


def test_prefixed_name_is_tried_first() -> None:
    environ = {
        "AzureWebJobsMine": f"AccountName=first;AccountKey={KEY}",
        "Mine": f"AccountName=second;AccountKey={KEY}",
    }
    connection = resolve_connection("Mine", environ)
    assert connection is not None
    assert (connection.account_name, connection.source) == ("first", "app setting AzureWebJobsMine")
    fallback = resolve_connection("Mine", {"Mine": f"AccountName=second;AccountKey={KEY}"})
    assert fallback is not None and fallback.source == "app setting Mine"


def test_plain_setting_name_is_case_insensitive() -> None:
    connection = resolve_connection("Storage", {"azurewebjobsstorage": f"AccountName=acct;AccountKey={KEY}"})
    assert connection is not None and connection.account_name == "acct"


def test_account_name_derives_public_endpoints() -> None:
    connection = resolve_connection("AzureWebJobsStorage", {"AzureWebJobsStorage__accountName": "acct"})
    assert connection is not None
    assert connection.account_name == "acct"
    assert connection.endpoints == (
        "https://acct.blob.core.windows.net",
        "https://acct.queue.core.windows.net",
        "https://acct.table.core.windows.net",
    )
    assert connection.source == "app settings AzureWebJobsStorage__*"
    assert connection.credential == IdentityCredential(setting="AzureWebJobsStorage", kind=IdentityKind.DEFAULT)


def test_service_uris_and_keys_in_any_case() -> None:
    environ = {key.upper(): value for key, value in AZURITE_URIS.items()}
    environ["azurewebjobsstorage__CREDENTIAL"] = "ManagedIdentity"
    connection = resolve_connection("AzureWebJobsStorage", environ)
    assert connection is not None
    assert connection.account_name == "devstoreaccount1"
    assert connection.queue_endpoint == "https://127.0.0.1:5002/devstoreaccount1"
    assert connection.credential.kind is IdentityKind.MANAGED_IDENTITY


def test_explicit_uris_win_over_account_name() -> None:
    environ = {
        "AzureWebJobsStorage__accountName": "named",
        "AzureWebJobsStorage__queueServiceUri": "https://q.example/named",
    }
    connection = resolve_connection("AzureWebJobsStorage", environ)
    assert connection is not None
    assert connection.account_name == "named"
    assert connection.queue_endpoint == "https://q.example/named"
    assert connection.blob_endpoint == "https://named.blob.core.windows.net"


def test_a_binding_connection_name_resolves_a_section_too() -> None:
    environ = {"AzureWebJobsOther__accountName": "other", "AzureWebJobsOther__credential": "managedidentity"}
    assert identity(environ, "Other").setting == "AzureWebJobsOther"
    assert identity({"Other__accountName": "other"}, "Other").setting == "Other"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"credential": "managedidentity"}, {"kind": IdentityKind.MANAGED_IDENTITY}),
        (
            {"credential": "managedidentity", "clientId": "c1"},
            {"kind": IdentityKind.MANAGED_IDENTITY, "client_id": "c1"},
        ),
        (
            {"credential": "managedidentity", "managedIdentityClientId": "c2"},
            {"kind": IdentityKind.MANAGED_IDENTITY, "client_id": "c2"},
        ),
        (
            {"credential": "managedidentity", "managedIdentityResourceId": "/subscriptions/s/r"},
            {"kind": IdentityKind.MANAGED_IDENTITY, "managed_identity_resource_id": "/subscriptions/s/r"},
        ),
        (
            {"credential": "managedidentity", "managedIdentityObjectId": "o1"},
            {"kind": IdentityKind.MANAGED_IDENTITY, "managed_identity_object_id": "o1"},
        ),
        (
            {"credential": "workloadidentity", "tenantId": "t", "clientId": "c", "tokenFilePath": "/var/token"},
            {
                "kind": IdentityKind.WORKLOAD_IDENTITY,
                "tenant_id": "t",
                "client_id": "c",
                "token_file_path": "/var/token",
            },
        ),
        (
            {"tenantId": "t", "clientId": "c", "clientSecret": SECRET, "additionallyAllowedTenants": "a; b;"},
            {
                "kind": IdentityKind.CLIENT_SECRET,
                "tenant_id": "t",
                "client_id": "c",
                "client_secret": SECRET,
                "additionally_allowed_tenants": ("a", "b"),
            },
        ),
        (
            {"tenantId": "t", "clientId": "c", "clientCertificatePath": "/c.pem", "clientCertificatePassword": "pw"},
            {
                "kind": IdentityKind.CLIENT_CERTIFICATE,
                "tenant_id": "t",
                "client_id": "c",
                "certificate_path": "/c.pem",
                "certificate_password": "pw",
            },
        ),
        (
            {
                "credential": "azurepipelines",
                "tenantId": "t",
                "clientId": "c",
                "serviceConnectionId": "s",
                "systemAccessToken": SECRET,
            },
            {
                "kind": IdentityKind.AZURE_PIPELINES,
                "service_connection_id": "s",
                "system_access_token": SECRET,
                "tenant_id": "t",
                "client_id": "c",
            },
        ),
        ({}, {"kind": IdentityKind.DEFAULT}),
        ({"clientId": "c", "tenantId": "t"}, {"kind": IdentityKind.DEFAULT, "client_id": "c", "tenant_id": "t"}),
    ],
)
def test_credential_mapping(settings: dict[str, str], expected: dict[str, object]) -> None:
    environ = {"AzureWebJobsStorage__accountName": "acct"}
    environ.update({f"AzureWebJobsStorage__{key}": value for key, value in settings.items()})
    assert identity(environ) == IdentityCredential(setting="AzureWebJobsStorage", **expected)


def test_workload_identity_takes_missing_values_from_the_webhook_variables() -> None:
    environ = {
        "AzureWebJobsStorage__accountName": "acct",
        "AzureWebJobsStorage__credential": "workloadidentity",
        "AzureWebJobsStorage__clientId": "from-section",
        "AZURE_CLIENT_ID": "from-environment",
        "AZURE_TENANT_ID": "tenant",
        "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token",
    }
    credential = identity(environ)
    assert (credential.client_id, credential.tenant_id, credential.token_file_path) == (
        "from-section",
        "tenant",
        "/var/run/token",
    )


def test_reprs_hide_every_secret() -> None:
    environ = {
        "AzureWebJobsStorage__accountName": "acct",
        "AzureWebJobsStorage__tenantId": "t",
        "AzureWebJobsStorage__clientId": "c",
        "AzureWebJobsStorage__clientCertificatePath": "/c.pfx",
        "AzureWebJobsStorage__clientCertificatePassword": SECRET,
    }
    connection = resolve_connection("AzureWebJobsStorage", environ)
    assert SECRET not in repr(connection)
    assert SECRET not in repr(connection.credential)
    assert "/c.pfx" in repr(connection.credential)
