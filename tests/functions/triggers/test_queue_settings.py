"""host.json `extensions.queues`: the host's keys, defaults and limits; errors name the key."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.queue_settings import MessageEncoding, QueueSettings, load_queue_settings


def test_defaults_are_the_hosts() -> None:
    settings = QueueSettings.from_section({})
    assert settings == QueueSettings(
        batch_size=16,
        new_batch_threshold=None,
        max_dequeue_count=5,
        visibility_timeout=timedelta(0),
        max_polling_interval=timedelta(minutes=1),
        message_encoding=MessageEncoding.BASE64,
    )
    assert settings.threshold == 8 * (os.cpu_count() or 1)


def test_every_key_read_without_case(tmp_path: Path) -> None:
    section = {
        "BatchSize": 32,
        "newBatchThreshold": 0,
        "maxdequeuecount": "3",
        "visibilityTimeout": "00:00:30",
        "maxPollingInterval": "00:00:02",
        "messageEncoding": "None",
    }
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"queues": section}}))
    settings = load_queue_settings(tmp_path)
    assert settings == QueueSettings(
        batch_size=32,
        new_batch_threshold=0,
        max_dequeue_count=3,
        visibility_timeout=timedelta(seconds=30),
        max_polling_interval=timedelta(seconds=2),
        message_encoding=MessageEncoding.NONE,
    )
    assert settings.threshold == 0


def test_version_1_placement_and_milliseconds(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"queues": {"maxPollingInterval": 2000, "batchSize": 8}}))
    settings = load_queue_settings(tmp_path)
    assert (settings.max_polling_interval, settings.batch_size) == (timedelta(seconds=2), 8)


def test_no_host_json_means_defaults(tmp_path: Path) -> None:
    assert load_queue_settings(tmp_path) == QueueSettings()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"batchSize": 0}, "extensions.queues.batchSize must be at least 1 and at most 32"),
        ({"batchSize": 33}, "extensions.queues.batchSize must be at least 1 and at most 32"),
        ({"batchSize": "many"}, "extensions.queues.batchSize must be an integer"),
        ({"newBatchThreshold": -1}, "extensions.queues.newBatchThreshold must be at least 0"),
        ({"maxDequeueCount": 0}, "extensions.queues.maxDequeueCount must be at least 1"),
        ({"visibilityTimeout": "soon"}, "extensions.queues.visibilityTimeout must be a TimeSpan"),
        ({"visibilityTimeout": "8.00:00:00"}, "extensions.queues.visibilityTimeout must be at most 7 days"),
        ({"maxPollingInterval": "00:00:00.050"}, "extensions.queues.maxPollingInterval must be at least"),
        ({"messageEncoding": "utf8"}, "extensions.queues.messageEncoding must be base64 or none"),
    ],
)
def test_invalid_values_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        QueueSettings.from_section(section)
    assert message in str(raised.value)


def test_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"queues": {"batchSize": 99}}}))
    with pytest.raises(ConfigurationError, match=r"host\.json: extensions\.queues\.batchSize"):
        load_queue_settings(tmp_path)
