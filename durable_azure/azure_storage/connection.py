"""PLACEHOLDER (replaced by the identity-connections work on main): connection strings only."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY, DEVELOPMENT_ACCOUNT_NAME
from durable_azure.errors import ConfigurationError


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedKey:
    account_name: str
    account_key: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedAccessSignature:
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityCredential:
    setting: str
    kind: str
    client_id: str | None = None


Credential = SharedKey | SharedAccessSignature | IdentityCredential


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageConnection:
    account_name: str
    blob_endpoint: str
    queue_endpoint: str
    table_endpoint: str
    credential: Credential
    source: str
    is_development_storage: bool = False


def parse_connection_string(text: str, *, source: str = "the connection string") -> StorageConnection:
    if not text or not text.strip():
        raise ConfigurationError(f"{source}: storage connection string is empty")
    settings: dict[str, str] = {}
    for position, part in enumerate(text.split(";"), start=1):
        if not part.strip():
            continue
        key, separator, value = part.partition("=")
        if not separator or not key.strip():
            raise ConfigurationError(f"{source}: part {position} is not of the form Key=Value")
        settings[key.strip().lower()] = value.strip()
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        base = "http://127.0.0.1"
        name = DEVELOPMENT_ACCOUNT_NAME
        return StorageConnection(
            account_name=name,
            blob_endpoint=f"{base}:10000/{name}",
            queue_endpoint=f"{base}:10001/{name}",
            table_endpoint=f"{base}:10002/{name}",
            credential=SharedKey(account_name=name, account_key=DEVELOPMENT_ACCOUNT_KEY),
            source=source,
            is_development_storage=True,
        )
    account_name = settings.get("accountname")
    if not account_name:
        raise ConfigurationError(f"{source}: storage connection string has no AccountName")
    protocol = settings.get("defaultendpointsprotocol", "https")
    suffix = settings.get("endpointsuffix", "core.windows.net")
    endpoints = {}
    for service in ("blob", "queue", "table"):
        endpoint = settings.get(f"{service}endpoint") or f"{protocol}://{account_name}.{service}.{suffix}"
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ConfigurationError(f"{source}: {service}endpoint is not an http(s) URL")
        endpoints[service] = endpoint.rstrip("/")
    credential: Credential
    if "accountkey" in settings:
        try:
            base64.b64decode(settings["accountkey"], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"{source}: AccountKey is not valid base64") from None
        credential = SharedKey(account_name=account_name, account_key=settings["accountkey"])
    elif "sharedaccesssignature" in settings:
        credential = SharedAccessSignature(token=settings["sharedaccesssignature"])
    else:
        raise ConfigurationError(
            f"{source}: storage connection string has neither AccountKey nor SharedAccessSignature"
        )
    return StorageConnection(
        account_name=account_name,
        blob_endpoint=endpoints["blob"],
        queue_endpoint=endpoints["queue"],
        table_endpoint=endpoints["table"],
        credential=credential,
        source=source,
    )
