"""host.json and local.settings.json: the original key names and placements, defaults, and clear errors."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.settings import (
    DurableTaskSettings,
    load_host_settings,
    load_http_route_prefix,
    load_local_settings,
    parse_timespan,
)


def host_json(durable_task: dict) -> dict:
    return {"version": "2.0", "extensions": {"durableTask": durable_task}}


def test_defaults_are_the_extensions_defaults() -> None:
    settings = DurableTaskSettings.from_host_json({"version": "2.0"})
    cores = os.cpu_count() or 1
    assert settings == DurableTaskSettings(
        hub_name="TestHubName",
        connection_name="AzureWebJobsStorage",
        partition_count=4,
        control_queue_batch_size=32,
        control_queue_buffer_threshold=256,
        control_queue_visibility_timeout=timedelta(minutes=5),
        work_item_queue_visibility_timeout=timedelta(minutes=5),
        max_queue_polling_interval=timedelta(seconds=30),
        max_concurrent_activity_functions=10 * cores,
        max_concurrent_orchestrator_functions=10 * cores,
        max_dequeue_count=10,
        lease_interval=timedelta(seconds=60),
        lease_renew_interval=timedelta(seconds=30),
        lease_acquire_interval=timedelta(seconds=30),
    )


def test_every_key_in_its_df2_placement() -> None:
    data = host_json(
        {
            "hubName": "MyHub",
            "maxConcurrentActivityFunctions": 3,
            "maxConcurrentOrchestratorFunctions": 7,
            "storageProvider": {
                "connectionName": "MyStorage",
                "partitionCount": 16,
                "controlQueueBatchSize": 8,
                "controlQueueBufferThreshold": 100,
                "controlQueueVisibilityTimeout": "00:01:00",
                "workItemQueueVisibilityTimeout": "00:02:00",
                "maxQueuePollingInterval": "00:00:02",
                "maxDequeueCount": 4,
                "leaseInterval": "00:00:20",
                "leaseRenewInterval": "00:00:05",
                "leaseAcquireInterval": "00:00:03",
            },
        }
    )
    assert DurableTaskSettings.from_host_json(data) == DurableTaskSettings(
        hub_name="MyHub",
        connection_name="MyStorage",
        partition_count=16,
        control_queue_batch_size=8,
        control_queue_buffer_threshold=100,
        control_queue_visibility_timeout=timedelta(minutes=1),
        work_item_queue_visibility_timeout=timedelta(minutes=2),
        max_queue_polling_interval=timedelta(seconds=2),
        max_concurrent_activity_functions=3,
        max_concurrent_orchestrator_functions=7,
        max_dequeue_count=4,
        lease_interval=timedelta(seconds=20),
        lease_renew_interval=timedelta(seconds=5),
        lease_acquire_interval=timedelta(seconds=3),
    )


def test_df1_flat_placement_and_legacy_connection_key() -> None:
    data = {
        "durableTask": {
            "HubName": "LegacyHub",
            "azureStorageConnectionStringName": "LegacyStorage",
            "partitionCount": 2,
            "controlQueueVisibilityTimeout": "00:10:00",
        }
    }
    settings = DurableTaskSettings.from_host_json(data)
    assert settings.hub_name == "LegacyHub"
    assert settings.connection_name == "LegacyStorage"
    assert settings.partition_count == 2
    assert settings.control_queue_visibility_timeout == timedelta(minutes=10)


def test_storage_provider_wins_over_flat_key_and_connection_string_name_is_accepted() -> None:
    data = host_json({"partitionCount": 2, "storageProvider": {"partitionCount": 8, "connectionStringName": "Old"}})
    settings = DurableTaskSettings.from_host_json(data)
    assert settings.partition_count == 8
    assert settings.connection_name == "Old"


def test_unknown_keys_are_ignored() -> None:
    data = host_json({"extendedSessionsEnabled": True, "tracing": {"x": 1}, "storageProvider": {"type": "x"}})
    assert DurableTaskSettings.from_host_json(data) == DurableTaskSettings()


def test_hub_name_app_setting_is_substituted() -> None:
    settings = DurableTaskSettings.from_host_json(host_json({"hubName": "%MyHubSetting%"}), {"MyHubSetting": "FromEnv"})
    assert settings.hub_name == "FromEnv"


def test_hub_name_app_setting_missing_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="MyHubSetting"):
        DurableTaskSettings.from_host_json(host_json({"hubName": "%MyHubSetting%"}), {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:05:00", timedelta(minutes=5)),
        ("1.00:00:00", timedelta(days=1)),
        ("2.03:04:05", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ("00:00:00.250", timedelta(milliseconds=250)),
        ("00:00:01.5000000", timedelta(seconds=1.5)),
        ("25:00:00", timedelta(hours=25)),
    ],
)
def test_timespan_strings(text: str, expected: timedelta) -> None:
    assert parse_timespan(text) == expected


@pytest.mark.parametrize("text", ["5 minutes", "00:60:00", "00:00:60", "00:00:00", "300", ""])
def test_bad_timespans_are_rejected(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_timespan(text)


@pytest.mark.parametrize(
    ("provider", "key", "value"),
    [
        ({"partitionCount": 0}, "partitionCount", "0"),
        ({"partitionCount": 17}, "partitionCount", "17"),
        ({"partitionCount": "four"}, "partitionCount", "'four'"),
        ({"partitionCount": True}, "partitionCount", "True"),
        ({"controlQueueBatchSize": 33}, "controlQueueBatchSize", "33"),
        ({"maxDequeueCount": 0}, "maxDequeueCount", "0"),
        ({"controlQueueVisibilityTimeout": "soon"}, "controlQueueVisibilityTimeout", "'soon'"),
        ({"connectionName": ""}, "connectionName", "''"),
    ],
)
def test_invalid_values_name_key_and_value(provider: dict, key: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        DurableTaskSettings.from_host_json(host_json({"storageProvider": provider}))
    assert key in str(caught.value)
    assert value in str(caught.value)


def test_numeric_strings_are_accepted_as_dotnet_binding_does() -> None:
    settings = DurableTaskSettings.from_host_json(host_json({"storageProvider": {"partitionCount": "6"}}))
    assert settings.partition_count == 6


def test_load_host_settings_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_host_settings(tmp_path) == DurableTaskSettings()


def test_load_host_settings_reads_the_file(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0", "extensions": {"durableTask": {"hubName": "FileHub"}}}')
    assert load_host_settings(tmp_path).hub_name == "FileHub"


def test_invalid_host_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{\n  "version": "2.0",\n  "extensions": {,\n}\n')
    with pytest.raises(ConfigurationError) as caught:
        load_host_settings(tmp_path)
    assert "host.json" in str(caught.value)
    assert "line 3" in str(caught.value)


def test_host_json_with_two_documents_uses_the_first_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Some published samples ship a host.json with a second `{...}` pasted after the first."""
    first = '{"version": "2.0", "extensions": {"durableTask": {"hubName": "FirstHub"}}}'
    second = '{"version": "2.0", "extensions": {"durableTask": {"hubName": "SecondHub"}}, "logging": {}}'
    (tmp_path / "host.json").write_text(first + second + "\n")
    with caplog.at_level("WARNING", logger="durable_azure.json_files"):
        assert load_host_settings(tmp_path).hub_name == "FirstHub"
        assert load_http_route_prefix(tmp_path) == "api"  # read again: no second warning
    [warning] = [record.getMessage() for record in caplog.records]
    assert "holds 2 JSON documents" in warning and "using the first" in warning
    assert "extensions, logging" in warning  # what is ignored, named
    assert "refuses such a file" in warning


def test_host_json_with_garbage_after_the_first_document_is_refused(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0"}\n{"version": ')
    with pytest.raises(ConfigurationError, match=r"host\.json: invalid JSON at line 2"):
        load_host_settings(tmp_path)


def test_invalid_value_in_host_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"extensions": {"durableTask": {"storageProvider": {"partitionCount": 99}}}}')
    with pytest.raises(ConfigurationError, match=r"host\.json.*partitionCount.*99"):
        load_host_settings(tmp_path)


def test_local_settings_values(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text(
        '{"IsEncrypted": false, "Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "Flag": true, "N": 3}}'
    )
    assert load_local_settings(tmp_path) == {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "Flag": "true",
        "N": "3",
    }


def test_local_settings_missing_file_is_empty(tmp_path: Path) -> None:
    assert load_local_settings(tmp_path) == {}


def test_local_settings_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text("{oops")
    with pytest.raises(ConfigurationError, match=r"local\.settings\.json.*line 1"):
        load_local_settings(tmp_path)


def test_the_sample_host_json_is_valid() -> None:
    settings = load_host_settings(Path(__file__).resolve().parent.parent)
    assert settings.hub_name == "DurableAzureSample"
    assert settings.partition_count == 4
