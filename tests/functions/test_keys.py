"""Host keys: who may call what, the Functions host's secrets document, and create-once in azure-webjobs-secrets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from durable_azure.azure_storage import SecretsStore, StorageAccount
from durable_azure.errors import ConfigurationError
from durable_azure.functions.keys import AuthLevel, HostKeys, host_id, load_or_create_host_keys


def test_levels() -> None:
    keys = HostKeys.generate()
    function_key = keys.function_keys["default"]
    assert keys.accepts(None, AuthLevel.ANONYMOUS)
    assert not keys.accepts(None, AuthLevel.FUNCTION)
    assert not keys.accepts("", AuthLevel.SYSTEM)
    assert keys.accepts(function_key, AuthLevel.FUNCTION)
    assert not keys.accepts(function_key, AuthLevel.ADMIN)
    assert not keys.accepts(function_key, AuthLevel.SYSTEM)
    assert keys.accepts(keys.durable_system_key, AuthLevel.SYSTEM)
    assert not keys.accepts(keys.durable_system_key, AuthLevel.FUNCTION)
    for level in (AuthLevel.FUNCTION, AuthLevel.ADMIN, AuthLevel.SYSTEM):
        assert keys.accepts(keys.master_key, level)
    assert keys.master_key not in repr(keys)


def test_document_round_trip_and_encrypted_keys() -> None:
    keys = HostKeys.generate()
    document = keys.to_json()
    assert document["masterKey"]["name"] == "master"
    assert document["systemKeys"][0]["name"] == "durabletask_extension"
    assert HostKeys.from_json(document, "here") == keys
    document["masterKey"]["encrypted"] = True
    with pytest.raises(ConfigurationError, match="encrypted"):
        HostKeys.from_json(document, "here")


def test_host_id() -> None:
    assert host_id(Path("/apps/My_Function App"), {}) == "my-function-app"
    assert host_id(Path("/x"), {"AzureFunctionsWebHost__hostid": "Shared-Host"}) == "shared-host"
    assert len(host_id(Path("/a" * 1) / ("b" * 80), {})) == 32


async def test_keys_are_created_once(storage_account: StorageAccount) -> None:
    name = f"keys-test-{id(storage_account)}"
    results = await asyncio.gather(*(load_or_create_host_keys(storage_account, name) for _ in range(3)))
    assert sum(result.is_new for result in results) == 1
    assert len({result.keys.master_key for result in results}) == 1
    again = await load_or_create_host_keys(storage_account, name)
    assert not again.is_new
    assert again.keys == results[0].keys
    assert again.location.endswith(f"/azure-webjobs-secrets/{name}/host.json")


async def test_secrets_store_reads_missing_as_none(storage_account: StorageAccount) -> None:
    store = SecretsStore(storage_account)
    assert await store.read_json("nobody-here/host.json") is None
