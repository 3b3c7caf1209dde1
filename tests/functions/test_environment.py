"""The app folder's settings as a local run sees them (local.settings.json, host.json, the connection)."""

from __future__ import annotations

import json
from pathlib import Path

from durable_azure.functions.environment import load_app_environment, local_storage

CONNECTION = (
    "DefaultEndpointsProtocol=https;AccountName=someaccount;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net"
)


def write_local_settings(folder: Path, values: dict[str, str]) -> None:
    (folder / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))


def test_local_settings_become_environment_without_overriding(tmp_path: Path) -> None:
    write_local_settings(tmp_path, {"AzureWebJobsStorage": CONNECTION, "Greeting": "from file", "Other": "x"})
    environ = {"Greeting": "from environment"}
    environment = load_app_environment(tmp_path, environ)
    assert environ == {"AzureWebJobsStorage": CONNECTION, "Greeting": "from environment", "Other": "x"}
    assert environment.connection.account_name == "someaccount"
    assert environment.connection.source == "app setting AzureWebJobsStorage"
    assert environment.app_dir == tmp_path.resolve()


def test_connection_comes_from_the_configured_setting(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"durableTask": {"storageProvider": {"connectionName": "Mine"}}}})
    )
    environment = load_app_environment(tmp_path, {"Mine": CONNECTION, "AzureWebJobsStorage": "other"})
    assert environment.connection.account_name == "someaccount"
    assert environment.connection.source == "app setting Mine"


def test_no_connection_means_development_storage(tmp_path: Path) -> None:
    environment = load_app_environment(tmp_path, {})
    assert environment.connection.account_name == "devstoreaccount1"
    assert environment.connection.queue_endpoint == "http://127.0.0.1:10001/devstoreaccount1"
    assert environment.is_development_storage


def test_hub_name_may_come_from_local_settings(tmp_path: Path) -> None:
    write_local_settings(tmp_path, {"HubSetting": "LocalHub"})
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"durableTask": {"hubName": "%HubSetting%"}}})
    )
    assert load_app_environment(tmp_path, {}).settings.hub_name == "LocalHub"


def test_repr_hides_the_connection_string(tmp_path: Path) -> None:
    environment = load_app_environment(tmp_path, {"AzureWebJobsStorage": CONNECTION})
    assert "c2VjcmV0" not in repr(environment)
    assert "someaccount" not in repr(environment)


def test_real_storage_starts_no_emulator(tmp_path: Path) -> None:
    environment = load_app_environment(tmp_path, {"AzureWebJobsStorage": CONNECTION})
    with local_storage(environment) as azurite:
        assert azurite is None
    assert not (tmp_path / ".azurite").exists()
