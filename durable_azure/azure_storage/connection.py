"""Storage connections: the one place that turns settings into endpoints and a credential.

The connection types (`StorageConnection` and its credentials) and connection strings (Shared Key or
SAS) live here; app settings, including identity-based sections, are resolved by connection_sections.py.
Nothing configured is ignored silently: a setting that cannot be used is a ConfigurationError naming it,
never showing its value (it may be a key or a secret).

Pure: imports only the standard library, `durable_azure.errors` and the development-storage constants of
`durable_azure.azurite` (standard library only as well); building SDK credentials is `credentials.py`'s job.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from durable_azure.azurite import (
    DEVELOPMENT_ACCOUNT_KEY,
    DEVELOPMENT_ACCOUNT_NAME,
    DEVELOPMENT_HOST,
    DEVELOPMENT_PORTS,
    development_endpoint,
)
from durable_azure.errors import ConfigurationError

WEBJOBS_PREFIX = "AzureWebJobs"
SERVICES = ("blob", "queue", "table")
PUBLIC_CLOUD_SUFFIX = "core.windows.net"  # the host derives endpoints from accountName for the public cloud only


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedKey:
    """The account key (base64, validated when parsed); `repr` never shows it."""

    account_name: str
    account_key: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedAccessSignature:
    """A SAS token, without a leading '?'; `repr` never shows it."""

    token: str = field(repr=False)


class IdentityKind(enum.StrEnum):
    """Which azure-identity credential an identity-based connection builds (reference §2)."""

    MANAGED_IDENTITY = "managedidentity"  # ManagedIdentityCredential
    WORKLOAD_IDENTITY = "workloadidentity"  # WorkloadIdentityCredential
    AZURE_PIPELINES = "azurepipelines"  # AzurePipelinesCredential
    CLIENT_SECRET = "clientsecret"  # ClientSecretCredential
    CLIENT_CERTIFICATE = "clientcertificate"  # CertificateCredential, from a PEM/PFX file
    DEFAULT = "default"  # DefaultAzureCredential


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityCredential:
    """What azure-identity credential to build for a section; `repr` never shows a secret."""

    setting: str  # the section's prefix, e.g. "AzureWebJobsStorage", for messages
    kind: IdentityKind
    client_id: str | None = None
    tenant_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    token_file_path: str | None = None
    managed_identity_resource_id: str | None = None
    managed_identity_object_id: str | None = None
    additionally_allowed_tenants: tuple[str, ...] = ()
    service_connection_id: str | None = None
    system_access_token: str | None = field(default=None, repr=False)

    @property
    def source(self) -> str:
        return f"app settings {self.setting}__*"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values this credential carries, so messages can be scrubbed of them."""
        values = (self.client_secret, self.certificate_password, self.system_access_token)
        return tuple(value for value in values if value)


Credential = SharedKey | SharedAccessSignature | IdentityCredential


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageConnection:
    """Where the account's three services are, and how to authenticate; `repr` never shows a secret."""

    account_name: str
    blob_endpoint: str  # absolute http(s) URL, no trailing slash; may carry a path (Azurite: /devstoreaccount1)
    queue_endpoint: str
    table_endpoint: str
    credential: Credential
    source: str  # where it came from, for messages, e.g. "app setting AzureWebJobsStorage"; never a value
    is_development_storage: bool = False

    @property
    def endpoints(self) -> tuple[str, str, str]:
        return (self.blob_endpoint, self.queue_endpoint, self.table_endpoint)


def development_storage(source: str) -> StorageConnection:
    """`UseDevelopmentStorage=true`: devstoreaccount1 on 127.0.0.1:10000-10002 with the well-known key."""
    blob, queue, table = (development_endpoint(DEVELOPMENT_HOST, port) for port in DEVELOPMENT_PORTS)
    return StorageConnection(
        account_name=DEVELOPMENT_ACCOUNT_NAME,
        blob_endpoint=blob,
        queue_endpoint=queue,
        table_endpoint=table,
        credential=SharedKey(account_name=DEVELOPMENT_ACCOUNT_NAME, account_key=DEVELOPMENT_ACCOUNT_KEY),
        source=source,
        is_development_storage=True,
    )


def parse_connection_string(text: str, *, source: str = "storage connection string") -> StorageConnection:
    """A Shared Key or SAS connection string, or `UseDevelopmentStorage=true`.

    Endpoints are the explicit `BlobEndpoint`/`QueueEndpoint`/`TableEndpoint`, else derived from
    `AccountName`, `DefaultEndpointsProtocol` (default https) and `EndpointSuffix` (default
    core.windows.net). Errors name `source` and the problem, never a value.
    """
    if not text or not text.strip():
        raise ConfigurationError(f"{source} is empty")
    settings = _connection_string_parts(text, source)
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        return development_storage(source)
    account_key = settings.get("accountkey")
    token = settings.get("sharedaccesssignature")
    if account_key is not None and token is not None:
        raise ConfigurationError(f"{source} has both AccountKey and SharedAccessSignature: keep one")
    if account_key is None and token is None:
        raise ConfigurationError(f"{source} has neither AccountKey nor SharedAccessSignature")
    endpoints = _connection_string_endpoints(settings, source)
    account_name = settings.get("accountname") or account_name_from_endpoints(endpoints, source)
    credential: Credential
    if account_key is not None:
        _check_base64(account_key, f"{source}: AccountKey")
        credential = SharedKey(account_name=account_name, account_key=account_key)
    else:
        credential = SharedAccessSignature(token=_sas_token(token or "", source))
    return build_connection(account_name, endpoints, credential, source)


def _connection_string_parts(text: str, source: str) -> dict[str, str]:
    """Key=value pairs, keys lower-cased; the error names the part, never its value (it may be the key)."""
    settings: dict[str, str] = {}
    for position, part in enumerate(text.split(";"), start=1):
        if not part.strip():
            continue
        key, separator, value = part.partition("=")
        if not separator or not key.strip():
            raise ConfigurationError(f"{source}: part {position} is not of the form Key=Value")
        settings[key.strip().lower()] = value.strip()
    return settings


def _connection_string_endpoints(settings: Mapping[str, str], source: str) -> dict[str, str]:
    account_name = settings.get("accountname")
    protocol = settings.get("defaultendpointsprotocol", "https").lower()
    if protocol not in ("http", "https"):
        raise ConfigurationError(f"{source}: DefaultEndpointsProtocol must be http or https")
    suffix = settings.get("endpointsuffix", PUBLIC_CLOUD_SUFFIX).strip(".")
    endpoints: dict[str, str] = {}
    for service in SERVICES:
        explicit = settings.get(f"{service}endpoint")
        if explicit:
            endpoints[service] = checked_endpoint(explicit, f"{source}: {service}endpoint")
        elif account_name:
            endpoints[service] = f"{protocol}://{account_name}.{service}.{suffix}"
        else:
            raise ConfigurationError(f"{source} has no AccountName and no {service.capitalize()}Endpoint")
    return endpoints


def _sas_token(token: str, source: str) -> str:
    token = token.lstrip("?")
    if not token:
        raise ConfigurationError(f"{source}: SharedAccessSignature is empty")
    return token


def _check_base64(value: str, what: str) -> None:
    if not value:
        raise ConfigurationError(f"{what} is empty")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{what} is not valid base64") from None


def checked_endpoint(url: str, what: str) -> str:
    """An absolute http(s) URL without query or fragment, no trailing slash; `what` names its setting."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ConfigurationError(f"{what} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{what} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{what} must not carry a query string (a SAS belongs in a connection string)")
    return url.strip().rstrip("/")


def account_name_from_endpoints(endpoints: Mapping[str, str], source: str) -> str:
    """acct.blob.core.windows.net -> acct; an IP or localhost host (Azurite style) -> the first path segment."""
    names = {_account_name_from_url(url) for url in endpoints.values()}
    names.discard("")
    if len(names) != 1:
        found = "no account name" if not names else f"different account names ({', '.join(sorted(names))})"
        raise ConfigurationError(f"{source}: the endpoints give {found}; set the account name")
    return names.pop()


def _account_name_from_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or _is_ip_address(host):
        return parts.path.strip("/").split("/", 1)[0]
    return host.split(".", 1)[0] if "." in host else ""


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def build_connection(
    account_name: str, endpoints: Mapping[str, str], credential: Credential, source: str
) -> StorageConnection:
    return StorageConnection(
        account_name=account_name,
        blob_endpoint=endpoints["blob"],
        queue_endpoint=endpoints["queue"],
        table_endpoint=endpoints["table"],
        credential=credential,
        source=source,
    )


__all__ = [
    "Credential",
    "IdentityCredential",
    "IdentityKind",
    "SharedAccessSignature",
    "SharedKey",
    "StorageConnection",
    "development_storage",
    "parse_connection_string",
]
