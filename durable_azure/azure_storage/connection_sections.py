"""App settings to a storage connection, as the Functions host resolves a connection name.

A connection name (host.json `connectionName`, a binding's `connection`) resolves as the Functions host
resolves it (shared/reference/identity-connections.md §1): the app setting `AzureWebJobs{name}` first,
then `{name}`. A plain value is a connection string (connection.py); a *section*, settings named
`{prefix}__{key}` (keys case-insensitive), is an identity-based connection whose credential is chosen as
the host chooses it (§2). A section setting that cannot be used is a ConfigurationError naming it, never
showing its value.

Pure: imports only the standard library, `durable_azure.errors` and connection.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from durable_azure.azure_storage.connection import (
    PUBLIC_CLOUD_SUFFIX,
    SERVICES,
    WEBJOBS_PREFIX,
    IdentityCredential,
    IdentityKind,
    StorageConnection,
    account_name_from_endpoints,
    build_connection,
    checked_endpoint,
    parse_connection_string,
)
from durable_azure.errors import ConfigurationError


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
    account_name = section.values.get("accountName") or account_name_from_endpoints(endpoints, source)
    return build_connection(account_name, endpoints, _identity_credential(section, environ), source)


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
            endpoints[service] = checked_endpoint(section.values[key], f"app setting {section.setting(key)}")
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


__all__ = ["resolve_connection"]
