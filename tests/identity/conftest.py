"""Fixtures for identity-based connections: a certificate, an Azurite in OAuth mode, a managed-identity endpoint.

`oauth_azurite` is a second Azurite, started with `--oauth basic --cert --key` on free loopback ports: it
takes bearer tokens (over HTTPS only) as well as Shared Key. `token_endpoint` is a loopback App Service
managed-identity endpoint (token_endpoint.py). `identity_settings` are the app settings a user writes for
an identity-based connection to that Azurite, and the fixture also points azure-identity at the endpoint
and makes this process trust the test certificate, for the test's duration only.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import aiohttp.connector
import pytest

from durable_azure.azurite import Azurite, temporary_azurite
from tests.identity.certificates import TlsFiles, make_tls_files
from tests.identity.token_endpoint import TokenEndpoint

USER_ASSIGNED_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
# Variables that would make azure-identity pick another managed-identity source than App Service.
OTHER_IDENTITY_VARIABLES = ("IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET")


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def oauth_azurite(tls_certificate: TlsFiles) -> Iterator[Azurite]:
    options = {"cert": tls_certificate.cert_file, "key": tls_certificate.key_file, "oauth": "basic"}
    with temporary_azurite("durable-azure-oauth-azurite-", **options) as server:
        yield server


@pytest.fixture(scope="session")
def token_endpoint_server() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def token_endpoint(token_endpoint_server: TokenEndpoint) -> Iterator[TokenEndpoint]:
    token_endpoint_server.reset()
    yield token_endpoint_server
    token_endpoint_server.reset()


@pytest.fixture
def trust_test_certificate(tls_certificate: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> TlsFiles:
    """SSL_CERT_FILE and REQUESTS_CA_BUNDLE name the test CA, and this process honours them as a new one would.

    OpenSSL reads SSL_CERT_FILE whenever a context is made, but aiohttp made its default context when it
    was imported, long before this test; it is remade here as aiohttp makes it (and put back afterwards).
    """
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificate.ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_certificate.ca_file))
    context = aiohttp.connector._make_ssl_context(True)
    assert isinstance(context, ssl.SSLContext)
    monkeypatch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", context)
    return tls_certificate


@pytest.fixture
def identity_settings(
    oauth_azurite: Azurite,
    token_endpoint: TokenEndpoint,
    trust_test_certificate: TlsFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The app settings of an identity-based connection to the OAuth Azurite, as a user writes them."""
    for name, value in token_endpoint.environment.items():
        monkeypatch.setenv(name, value)
    for name in (*OTHER_IDENTITY_VARIABLES, "AzureWebJobsStorage"):
        monkeypatch.delenv(name, raising=False)
    return {
        "AzureWebJobsStorage__blobServiceUri": oauth_azurite.blob_endpoint,
        "AzureWebJobsStorage__queueServiceUri": oauth_azurite.queue_endpoint,
        "AzureWebJobsStorage__tableServiceUri": oauth_azurite.table_endpoint,
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": USER_ASSIGNED_CLIENT_ID,
    }
