"""Storage connections: the one place that turns settings into endpoints and a credential.

A connection name (host.json `connectionName`, a binding's `connection`) resolves as the Functions host
resolves it (shared/reference/identity-connections.md §1): the app setting `AzureWebJobs{name}` first,
then `{name}`. A plain value is a connection string (Shared Key or SAS); a *section*, settings named
`{prefix}__{key}` (keys case-insensitive), is an identity-based connection whose credential is chosen as
the host chooses it (§2). Nothing configured is ignored silently: a setting that cannot be used is a
ConfigurationError naming it, never showing its value (it may be a key or a secret).

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
    account_name = settings.get("accountname") or _account_name_from_endpoints(endpoints, source)
    credential: Credential
    if account_key is not None:
        _check_base64(account_key, f"{source}: AccountKey")
        credential = SharedKey(account_name=account_name, account_key=account_key)
    else:
        credential = SharedAccessSignature(token=_sas_token(token or "", source))
    return _connection(account_name, endpoints, credential, source)


def resolve_connection(name: str, environ: Mapping[str, str]) -> StorageConnection | None:
    """The connection `name` refers to, looked up as the Functions host does; None when nothing is set.

    `AzureWebJobs{name}` is tried before `{name}`; the first prefix with a value or a section wins. A
    prefix holding both a connection string and a section is an error, as is any section setting this
    runtime cannot use.
    """
    if not name or not name.strip():
        raise ConfigurationError("a storage connection name is empty")
    name = name.strip()
    for prefix in dict.fromkeys((WEBJOBS_PREFIX + name, name)):
        value = _plain_setting(prefix, environ)
        section = _section(prefix, environ)
        if value and section:
            raise ConfigurationError(
                f"app setting {prefix} holds a connection string and app settings {prefix}__* configure an "
                f"identity-based connection ({', '.join(sorted(section.names.values()))}): remove one of them"
            )
        if value:
            return parse_connection_string(value, source=f"app setting {prefix}")
        if section:
            return _identity_connection(section, environ)
    return None


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
            endpoints[service] = _endpoint(explicit, f"{source}: {service}endpoint")
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


def _endpoint(url: str, what: str) -> str:
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


def _account_name_from_endpoints(endpoints: Mapping[str, str], source: str) -> str:
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


def _connection(
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


_LOCATION_KEYS = ("accountName", "blobServiceUri", "queueServiceUri", "tableServiceUri", "credential")
_MANAGED_IDENTITY_SELECTORS = (
    "managedIdentityResourceId",
    "managedIdentityObjectId",
    "managedIdentityClientId",
    "clientId",
)
_CREDENTIAL_KEYS = (
    *_MANAGED_IDENTITY_SELECTORS,
    "tenantId",
    "clientSecret",
    "clientCertificatePath",
    "clientCertificatePassword",
    "tokenFilePath",
    "additionallyAllowedTenants",
    "serviceConnectionId",
    "systemAccessToken",
)
_KNOWN_KEYS = (*_LOCATION_KEYS, *_CREDENTIAL_KEYS)
_WINDOWS_STORE = "the Windows certificate store is not supported: set clientCertificatePath to a PEM or PFX file"
_UNSUPPORTED_KEYS = {  # settings the host reads that durable-azure cannot honour, and what to do instead
    "serviceUri": "a task hub needs blobs, queues and tables: set blobServiceUri, queueServiceUri and "
    "tableServiceUri (or accountName) instead",
    "clientCertificate": "it is a thumbprint in the Windows certificate store, which durable-azure cannot read: "
    "set clientCertificatePath to the certificate's PEM or PFX file instead",
    "clientCertificateStoreName": _WINDOWS_STORE,
    "clientCertificateStoreLocation": _WINDOWS_STORE,
    "azureCloud": "only credential=managedidentityasfederatedidentity reads it, which durable-azure does not support",
}
# Which credential settings each kind uses (required, optional); any other one set is an error.
_KIND_SETTINGS: dict[IdentityKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    IdentityKind.MANAGED_IDENTITY: ((), _MANAGED_IDENTITY_SELECTORS),
    IdentityKind.WORKLOAD_IDENTITY: (("tenantId", "clientId", "tokenFilePath"), ("additionallyAllowedTenants",)),
    IdentityKind.AZURE_PIPELINES: (
        ("tenantId", "clientId", "serviceConnectionId", "systemAccessToken"),
        ("additionallyAllowedTenants",),
    ),
    IdentityKind.CLIENT_SECRET: (("tenantId", "clientId", "clientSecret"), ("additionallyAllowedTenants",)),
    IdentityKind.CLIENT_CERTIFICATE: (
        ("tenantId", "clientId", "clientCertificatePath"),
        ("clientCertificatePassword", "additionallyAllowedTenants"),
    ),
    IdentityKind.DEFAULT: ((), ("tenantId", "clientId", "managedIdentityClientId", "additionallyAllowedTenants")),
}
_EXPLICIT_KINDS = (IdentityKind.MANAGED_IDENTITY, IdentityKind.WORKLOAD_IDENTITY, IdentityKind.AZURE_PIPELINES)
# Workload identity takes what the section lacks from the variables the AKS webhook sets, as the host does.
_WORKLOAD_ENVIRONMENT = {
    "tenantId": "AZURE_TENANT_ID",
    "clientId": "AZURE_CLIENT_ID",
    "tokenFilePath": "AZURE_FEDERATED_TOKEN_FILE",
}


@dataclass(frozen=True, slots=True)
class _Section:
    """The settings `{prefix}__{key}` that have a value: values and the full setting names, by canonical key."""

    prefix: str
    values: dict[str, str]
    names: dict[str, str]
    unknown: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.values or self.unknown)

    def setting(self, key: str) -> str:
        return self.names.get(key, f"{self.prefix}__{key}")


def _plain_setting(name: str, environ: Mapping[str, str]) -> str | None:
    """The setting's value, matched case-insensitively as .NET configuration does; exact case first."""
    value = environ.get(name)
    if value is None:
        wanted = name.lower()
        value = next((text for key, text in environ.items() if key.lower() == wanted), None)
    return value.strip() if value and value.strip() else None


def _section(prefix: str, environ: Mapping[str, str]) -> _Section:
    canonical = {key.lower(): key for key in (*_KNOWN_KEYS, *_UNSUPPORTED_KEYS)}
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    unknown: list[str] = []
    lowered_prefix = prefix.lower()
    for setting, value in environ.items():
        key = _section_key(setting, lowered_prefix)
        if key is None or not value or not value.strip():
            continue
        known = canonical.get(key.lower())
        if known is None:
            unknown.append(setting)
        elif known in values and values[known] != value.strip():
            raise ConfigurationError(f"app settings {names[known]} and {setting} are both set, differently")
        else:
            values[known], names[known] = value.strip(), setting
    return _Section(prefix=prefix, values=values, names=names, unknown=tuple(sorted(unknown)))


def _section_key(setting: str, lowered_prefix: str) -> str | None:
    """`{prefix}__{key}` -> key (app settings use `__` as .NET configuration's section separator)."""
    head = lowered_prefix + "__"
    return setting[len(head) :] if setting.lower().startswith(head) and len(setting) > len(head) else None


def _identity_connection(section: _Section, environ: Mapping[str, str]) -> StorageConnection:
    source = f"app settings {section.prefix}__*"
    _check_section_keys(section, source)
    endpoints = _section_endpoints(section, source)
    account_name = section.values.get("accountName") or _account_name_from_endpoints(endpoints, source)
    return _connection(account_name, endpoints, _identity_credential(section, environ), source)


def _check_section_keys(section: _Section, source: str) -> None:
    if section.unknown:
        raise ConfigurationError(
            f"{source}: unknown setting {', '.join(section.unknown)} (known: {', '.join(_KNOWN_KEYS)})"
        )
    for key in section.values:
        if key in _UNSUPPORTED_KEYS:
            raise ConfigurationError(f"app setting {section.setting(key)} is not supported: {_UNSUPPORTED_KEYS[key]}")


def _section_endpoints(section: _Section, source: str) -> dict[str, str]:
    account_name = section.values.get("accountName")
    endpoints: dict[str, str] = {}
    for service in SERVICES:
        key = f"{service}ServiceUri"
        if key in section.values:
            endpoints[service] = _endpoint(section.values[key], f"app setting {section.setting(key)}")
        elif account_name:
            endpoints[service] = f"https://{account_name}.{service}.{PUBLIC_CLOUD_SUFFIX}"
    missing = [f"{section.prefix}__{service}ServiceUri" for service in SERVICES if service not in endpoints]
    if missing:
        raise ConfigurationError(
            f"{source}: missing {', '.join(missing)} (or {section.prefix}__accountName): a task hub needs blobs, "
            "queues and tables, so set accountName (public Azure) or all three service URIs"
        )
    return endpoints


def _identity_credential(section: _Section, environ: Mapping[str, str]) -> IdentityCredential:
    values = dict(section.values)
    kind = _identity_kind(section)
    if kind is IdentityKind.WORKLOAD_IDENTITY:
        for key, variable in _WORKLOAD_ENVIRONMENT.items():
            if key not in values and environ.get(variable):
                values[key] = environ[variable]
    required, optional = _KIND_SETTINGS[kind]
    described = _describe_kind(section, kind)
    missing = [section.setting(key) for key in required if key not in values]
    if missing:
        fallback = " (or the AZURE_* variables of workload identity)" if kind is IdentityKind.WORKLOAD_IDENTITY else ""
        raise ConfigurationError(f"{described} needs {', '.join(missing)} as well{fallback}")
    unused = [section.setting(key) for key in _CREDENTIAL_KEYS if key in values and key not in required + optional]
    if unused:
        raise ConfigurationError(f"{', '.join(unused)}: not used by {described}; remove it or change the credential")
    _check_one_identity(section, values)
    return _build_identity(section.prefix, kind, values)


def _identity_kind(section: _Section) -> IdentityKind:
    """As the host's credential factory decides (reference §2): `credential` first, then what is set."""
    values = section.values
    if "credential" in values:
        named = values["credential"].lower()
        kinds = {kind.value: kind for kind in _EXPLICIT_KINDS}
        if named not in kinds:
            raise ConfigurationError(
                f"app setting {section.setting('credential')}: unsupported credential (supported: "
                f"{', '.join(kinds)}; or leave it out for a service principal or DefaultAzureCredential)"
            )
        return kinds[named]
    if "clientSecret" in values:
        return IdentityKind.CLIENT_SECRET
    if "clientCertificatePath" in values:
        return IdentityKind.CLIENT_CERTIFICATE
    return IdentityKind.DEFAULT


def _describe_kind(section: _Section, kind: IdentityKind) -> str:
    if kind in _EXPLICIT_KINDS:
        return f"{section.setting('credential')}={kind.value}"
    trigger = {IdentityKind.CLIENT_SECRET: "clientSecret", IdentityKind.CLIENT_CERTIFICATE: "clientCertificatePath"}
    if kind in trigger:
        return f"app setting {section.setting(trigger[kind])}"
    return f"app settings {section.prefix}__* (DefaultAzureCredential)"


def _check_one_identity(section: _Section, values: Mapping[str, str]) -> None:
    chosen = [section.setting(key) for key in _MANAGED_IDENTITY_SELECTORS if key in values]
    if len(chosen) > 1:
        raise ConfigurationError(f"{' and '.join(chosen)}: set only one of them to choose the managed identity")


def _build_identity(prefix: str, kind: IdentityKind, values: Mapping[str, str]) -> IdentityCredential:
    tenants = values.get("additionallyAllowedTenants", "").replace(",", ";").split(";")
    return IdentityCredential(
        setting=prefix,
        kind=kind,
        client_id=values.get("clientId") or values.get("managedIdentityClientId"),
        tenant_id=values.get("tenantId"),
        client_secret=values.get("clientSecret"),
        certificate_path=values.get("clientCertificatePath"),
        certificate_password=values.get("clientCertificatePassword"),
        token_file_path=values.get("tokenFilePath"),
        managed_identity_resource_id=values.get("managedIdentityResourceId"),
        managed_identity_object_id=values.get("managedIdentityObjectId"),
        additionally_allowed_tenants=tuple(tenant.strip() for tenant in tenants if tenant.strip()),
        service_connection_id=values.get("serviceConnectionId"),
        system_access_token=values.get("systemAccessToken"),
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
    "resolve_connection",
]
