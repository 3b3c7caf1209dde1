"""Host keys, kept where the Functions host keeps them, and the checks that guard HTTP endpoints.

The Functions host stores its keys in the storage account's `azure-webjobs-secrets` container, blob
`{hostId}/host.json`: a `masterKey`, `functionKeys` (default: one named "default") and `systemKeys` (the
Durable extension's is "durabletask_extension"). We read and write the same blob, in the same shape, so a
user who can read the storage account can read the keys (`durable-azure keys`), and nobody else.

Who may call what, as in the Functions host:
    anonymous trigger   anyone
    function trigger    the master key or any function key
    admin trigger       the master key
    management API      the master key or the durabletask_extension system key
A key comes as the `code` query parameter or the `x-functions-key` header and is compared in constant time.
Keys are never logged or put in a repr.
"""

from __future__ import annotations

import enum
import hmac
import logging
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durable_azure.azure_storage import SecretsStore, StorageAccount, StorageConnection
from durable_azure.errors import ConfigurationError
from durable_azure.settings import DurableTaskSettings

logger = logging.getLogger(__name__)

MASTER_KEY_NAME = "master"
DEFAULT_FUNCTION_KEY_NAME = "default"
DURABLE_SYSTEM_KEY_NAME = "durabletask_extension"
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"
KEY_QUERY_PARAMETER = "code"
KEY_HEADER = "x-functions-key"
_MAX_HOST_ID_LENGTH = 32
_KEY_BYTES = 40


class AuthLevel(enum.Enum):
    """`auth_level` of an HTTP trigger; SYSTEM guards the extension's management API."""

    ANONYMOUS = "anonymous"
    FUNCTION = "function"
    ADMIN = "admin"
    SYSTEM = "system"

    @classmethod
    def parse(cls, text: str) -> AuthLevel:
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise ConfigurationError(f"unknown auth_level {text!r} (use anonymous, function or admin)") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostKeys:
    """The host's keys by name. `repr` shows names only."""

    master_key: str
    function_keys: Mapping[str, str]
    system_keys: Mapping[str, str]

    def __repr__(self) -> str:
        return f"HostKeys(function_keys={sorted(self.function_keys)}, system_keys={sorted(self.system_keys)})"

    @property
    def durable_system_key(self) -> str:
        return self.system_keys[DURABLE_SYSTEM_KEY_NAME]

    def accepts(self, key: str | None, level: AuthLevel) -> bool:
        """Whether `key` opens an endpoint of `level`. Compares with every allowed key, in constant time each."""
        if level is AuthLevel.ANONYMOUS:
            return True
        if not key:
            return False
        allowed = [self.master_key]
        if level is AuthLevel.FUNCTION:
            allowed.extend(self.function_keys.values())
        elif level is AuthLevel.SYSTEM:
            allowed.extend(self.system_keys.values())
        matches = [hmac.compare_digest(key.encode("utf-8"), candidate.encode("utf-8")) for candidate in allowed]
        return any(matches)

    def to_json(self) -> dict[str, Any]:
        """The Functions host's `host.json` secrets document."""
        return {
            "masterKey": _key_entry(MASTER_KEY_NAME, self.master_key),
            "functionKeys": [_key_entry(name, value) for name, value in self.function_keys.items()],
            "systemKeys": [_key_entry(name, value) for name, value in self.system_keys.items()],
            "hostName": None,
            "instanceId": secrets.token_hex(16),
            "source": "runtime",
            "decryptionKeyId": "",
        }

    @classmethod
    def from_json(cls, document: Any, location: str) -> HostKeys:
        """Read the host's secrets document; ConfigurationError when it is malformed or encrypted."""
        if not isinstance(document, dict) or not isinstance(document.get("masterKey"), dict):
            raise ConfigurationError(f"{location} is not a Functions host keys document (no masterKey)")
        master_key = _read_entry(document["masterKey"], location)
        function_keys = dict(_read_entries(document.get("functionKeys"), location))
        system_keys = dict(_read_entries(document.get("systemKeys"), location))
        return cls(master_key=master_key, function_keys=function_keys, system_keys=system_keys)

    @classmethod
    def generate(cls) -> HostKeys:
        return cls(
            master_key=new_key(),
            function_keys={DEFAULT_FUNCTION_KEY_NAME: new_key()},
            system_keys={DURABLE_SYSTEM_KEY_NAME: new_key()},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedKeys:
    keys: HostKeys
    location: str
    """URL of the secrets blob: printable, holds no key."""
    is_new: bool


def new_key() -> str:
    """A random, URL-safe key (40 random bytes), usable as `?code=` without escaping."""
    return secrets.token_urlsafe(_KEY_BYTES)


def host_id(app_dir: Path, environ: Mapping[str, str] | None = None) -> str:
    """The host id naming the keys blob: the `AzureFunctionsWebHost__hostid` setting, else from the app folder.

    As the Functions host does: lower case, letters, digits and dashes, at most 32 characters.
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(HOST_ID_SETTING)
    source = configured or Path(app_dir).resolve().name or socket.gethostname()
    sanitized = re.sub(r"[^a-z0-9-]+", "-", source.lower())[:_MAX_HOST_ID_LENGTH].strip("-")
    if not sanitized:
        raise ConfigurationError(f"cannot derive a host id from {source!r}: set {HOST_ID_SETTING}")
    return sanitized


async def load_or_create_host_keys(account: StorageAccount, host_id_value: str) -> LoadedKeys:
    """The host's keys from `azure-webjobs-secrets/{hostId}/host.json`, created (new random keys) if missing.

    A document created by another host that lacks the durabletask_extension system key is left as it is;
    the management API then takes the master key only.
    """
    store = SecretsStore(account)
    blob_name = f"{host_id_value}/host.json"
    location = store.url_for(blob_name)
    document, is_new = await store.create_json_if_missing(blob_name, HostKeys.generate().to_json())
    keys = HostKeys.from_json(document, location)
    if is_new:
        logger.info("keys.created location=%s", location)
    return LoadedKeys(keys=keys, location=location, is_new=is_new)


def _key_entry(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "encrypted": False}


def _read_entry(entry: Any, location: str) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) or not entry["value"]:
        raise ConfigurationError(f"{location}: a key entry has no value")
    if entry.get("encrypted"):
        raise ConfigurationError(
            f"{location} holds keys encrypted by an Azure Functions host; durable-azure cannot read them: "
            f"set {HOST_ID_SETTING} to use a different keys blob"
        )
    return entry["value"]


def _read_entries(entries: Any, location: str) -> list[tuple[str, str]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigurationError(f"{location}: key lists must be JSON arrays")
    return [(str(entry.get("name")), _read_entry(entry, location)) for entry in entries if isinstance(entry, dict)]


async def load_app_keys(
    connection: StorageConnection, app_dir: Path, settings: DurableTaskSettings | None = None
) -> LoadedKeys:
    """The keys of the app in `app_dir`, through its own storage connection (for `durable-azure keys`)."""
    account = StorageAccount.for_settings(connection, settings or DurableTaskSettings())
    async with account:
        return await load_or_create_host_keys(account, host_id(app_dir))


def keys_document(loaded: LoadedKeys) -> dict[str, Any]:
    """What `durable-azure keys` prints: where the keys live, and each key by name."""
    keys = loaded.keys
    return {
        "location": loaded.location,
        "masterKey": keys.master_key,
        "functionKeys": dict(keys.function_keys),
        "systemKeys": dict(keys.system_keys),
    }
