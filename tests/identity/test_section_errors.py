"""Identity sections the runtime cannot use: each is a ConfigurationError naming the setting, never a secret."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage.connection_sections import resolve_connection
from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY
from durable_azure.errors import ConfigurationError

SECRET = "client-secret-value-1234"
PREFIX = "AzureWebJobsStorage__"


def error_for(settings: dict[str, str], *, plain: str | None = None) -> str:
    environ = {PREFIX + key: value for key, value in settings.items()}
    if plain is not None:
        environ["AzureWebJobsStorage"] = plain
    with pytest.raises(ConfigurationError) as raised:
        resolve_connection("AzureWebJobsStorage", environ)
    message = str(raised.value)
    assert SECRET not in message
    assert DEVELOPMENT_ACCOUNT_KEY not in message
    return message


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"blobServiceUri": "https://a.blob.core.windows.net", "credential": "managedidentity"},
            ["AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri", "accountName"],
        ),
        ({"accountName": "a", "credential": "secretsauce"}, ["AzureWebJobsStorage__credential", "unsupported"]),
        (
            {"accountName": "a", "credential": "managedidentityasfederatedidentity"},
            ["AzureWebJobsStorage__credential", "unsupported"],
        ),
        ({"accountName": "a", "clientId": "c", "clientSecret": SECRET}, ["AzureWebJobsStorage__tenantId"]),
        ({"accountName": "a", "tenantId": "t", "clientSecret": SECRET}, ["AzureWebJobsStorage__clientId"]),
        (
            {"accountName": "a", "tenantId": "t", "clientId": "c", "clientCertificate": "ABCDEF0123"},
            ["AzureWebJobsStorage__clientCertificate", "clientCertificatePath"],
        ),
        ({"serviceUri": "https://a.queue.core.windows.net"}, ["AzureWebJobsStorage__serviceUri", "queueServiceUri"]),
        ({"accountName": "a", "clientSecrt": SECRET}, ["AzureWebJobsStorage__clientSecrt", "unknown setting"]),
        ({"queueServiceUri": "not a url", "accountName": "a"}, ["AzureWebJobsStorage__queueServiceUri", "http(s) URL"]),
        (
            {"blobServiceUri": "https://h:port/x", "accountName": "a"},
            ["AzureWebJobsStorage__blobServiceUri", "valid URL"],
        ),
        (
            {"tableServiceUri": f"https://a.table.core.windows.net/?sig={SECRET}", "accountName": "a"},
            ["AzureWebJobsStorage__tableServiceUri", "query string"],
        ),
        (
            {"accountName": "a", "credential": "managedidentity", "clientId": "c", "managedIdentityResourceId": "/r"},
            ["AzureWebJobsStorage__managedIdentityResourceId", "AzureWebJobsStorage__clientId", "only one"],
        ),
        (
            {"accountName": "a", "credential": "managedidentity", "clientSecret": SECRET},
            ["AzureWebJobsStorage__clientSecret", "not used by AzureWebJobsStorage__credential=managedidentity"],
        ),
        ({"accountName": "a", "tokenFilePath": "/t"}, ["AzureWebJobsStorage__tokenFilePath", "DefaultAzureCredential"]),
        ({"accountName": "a", "credential": "workloadidentity"}, ["AzureWebJobsStorage__tenantId", "AZURE_"]),
        (
            {"accountName": "a", "managedIdentityResourceId": "/r"},
            ["AzureWebJobsStorage__managedIdentityResourceId", "not used by"],
        ),
        (
            {
                "blobServiceUri": "https://one.blob.core.windows.net",
                "queueServiceUri": "https://two.queue.core.windows.net",
                "tableServiceUri": "https://one.table.core.windows.net",
            },
            ["different account names", "one, two"],
        ),
    ],
)
def test_unusable_sections_name_the_setting(settings: dict[str, str], expected: list[str]) -> None:
    message = error_for(settings)
    for text in expected:
        assert text in message


def test_a_connection_string_and_a_section_under_one_name_is_an_error() -> None:
    message = error_for({"accountName": "a"}, plain=f"AccountName=a;AccountKey={DEVELOPMENT_ACCOUNT_KEY}")
    assert "app setting AzureWebJobsStorage holds a connection string" in message
    assert "AzureWebJobsStorage__accountName" in message


def test_a_setting_given_twice_in_different_case_with_different_values() -> None:
    environ = {"AzureWebJobsStorage__accountName": "one", "AZUREWEBJOBSSTORAGE__ACCOUNTNAME": "two"}
    with pytest.raises(ConfigurationError, match="are both set, differently"):
        resolve_connection("AzureWebJobsStorage", environ)


def test_a_bad_connection_string_names_its_setting() -> None:
    with pytest.raises(ConfigurationError, match=r"^app setting AzureWebJobsMine has no AccountName"):
        resolve_connection("Mine", {"AzureWebJobsMine": f"AccountKey={DEVELOPMENT_ACCOUNT_KEY}"})
