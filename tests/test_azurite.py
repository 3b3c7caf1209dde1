"""The Azurite launcher: ports, connection string, data kept across restarts, clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azurite import Azurite, is_development_storage
from durable_azure.errors import ConfigurationError


@pytest.mark.parametrize(
    ("connection_string", "expected"),
    [
        ("UseDevelopmentStorage=true", True),
        (" usedevelopmentstorage = TRUE ;", True),
        ("UseDevelopmentStorage=false", False),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5", False),
        ("", False),
    ],
)
def test_is_development_storage(connection_string: str, expected: bool) -> None:
    assert is_development_storage(connection_string) is expected


def test_connection_string_names_this_instance_ports(azurite: Azurite) -> None:
    text = azurite.connection_string
    assert f"BlobEndpoint=http://127.0.0.1:{azurite.blob_port}/devstoreaccount1" in text
    assert f"QueueEndpoint=http://127.0.0.1:{azurite.queue_port}/devstoreaccount1" in text
    assert f"TableEndpoint=http://127.0.0.1:{azurite.table_port}/devstoreaccount1" in text
    assert 10000 not in (azurite.blob_port, azurite.queue_port, azurite.table_port)


def test_start_refuses_a_port_that_is_already_taken(azurite: Azurite, tmp_path: Path) -> None:
    second = Azurite(tmp_path / "second", blob_port=azurite.blob_port)
    with pytest.raises(ConfigurationError, match="already in use"):
        second.start()
    assert not second.is_running


def test_missing_executable_is_a_configuration_error(tmp_path: Path) -> None:
    server = Azurite(tmp_path / "data", executable=tmp_path / "no-such-azurite")
    with pytest.raises(ConfigurationError, match="could not be started"):
        server.start()


def test_data_survives_a_graceful_restart_and_stop_is_idempotent(tmp_path: Path) -> None:
    import asyncio

    server = Azurite(tmp_path / "data")
    with server:
        asyncio.run(_create_hub(server.connection_string))
        server.stop()
        server.stop()
        assert not server.is_running
        server.start()  # same ports, same --location
        assert asyncio.run(_hub_exists(server.connection_string))
    assert not server.is_running


async def _create_hub(connection_string: str) -> None:
    async with StorageAccount.from_connection_string(connection_string) as account:
        await TaskHub(account, "RestartHub", partition_count=1).create_if_not_exists()


async def _hub_exists(connection_string: str) -> bool:
    async with StorageAccount.from_connection_string(connection_string) as account:
        return await TaskHub(account, "RestartHub", partition_count=1).exists()
