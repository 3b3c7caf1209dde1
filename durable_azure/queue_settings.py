"""host.json `extensions.queues`: how the Azure Storage queue trigger polls and the queue output encodes.

The keys, defaults and limits are the Functions host's (Storage extension `QueuesOptions`), so an app's
existing host.json keeps its meaning: `batchSize` (16, 1-32), `newBatchThreshold` (batchSize/2 x processor
count), `maxDequeueCount` (5), `visibilityTimeout` (00:00:00, how long a failed message stays invisible),
`maxPollingInterval` (00:01:00, at least 100 ms) and `messageEncoding` (base64 or none). Version 1 host.json
files keep the section at the top level (`queues`) and give intervals in milliseconds; both are read. Keys
match without case, as .NET configuration binding does; unknown keys are ignored.

Imports only the standard library, `durable_azure.errors` and `durable_azure.settings`.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError
from durable_azure.settings import load_extension_section, parse_timespan

MAX_BATCH_SIZE = 32
MIN_POLLING_INTERVAL = timedelta(milliseconds=100)
MAX_VISIBILITY_TIMEOUT = timedelta(days=7)
_PREFIX = "extensions.queues"


class MessageEncoding(enum.Enum):
    """How message bytes are written as queue message text: base64 (the host's default) or as they are."""

    BASE64 = "base64"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSettings:
    batch_size: int = 16
    new_batch_threshold: int | None = None
    """None: the host's default, batch_size // 2 x processor count (see `threshold`)."""
    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    max_polling_interval: timedelta = timedelta(minutes=1)
    message_encoding: MessageEncoding = MessageEncoding.BASE64

    @property
    def threshold(self) -> int:
        """Receive again when this many or fewer messages are in progress; at most batch_size + threshold run."""
        if self.new_batch_threshold is not None:
            return self.new_batch_threshold
        return self.batch_size // 2 * (os.cpu_count() or 1)

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> QueueSettings:
        """Read a parsed `extensions.queues` object; ConfigurationError naming the key for an invalid value."""
        values: dict[str, Any] = {}
        batch_size = _integer(section, "batchSize", minimum=1, maximum=MAX_BATCH_SIZE)
        if batch_size is not None:
            values["batch_size"] = batch_size
        threshold = _integer(section, "newBatchThreshold", minimum=0)
        if threshold is not None:
            values["new_batch_threshold"] = threshold
        dequeue_count = _integer(section, "maxDequeueCount", minimum=1)
        if dequeue_count is not None:
            values["max_dequeue_count"] = dequeue_count
        visibility = _duration(section, "visibilityTimeout", minimum=timedelta(0))
        if visibility is not None:
            if visibility > MAX_VISIBILITY_TIMEOUT:
                raise ConfigurationError(f"{_PREFIX}.visibilityTimeout must be at most 7 days, got {visibility}")
            values["visibility_timeout"] = visibility
        polling = _duration(section, "maxPollingInterval", minimum=MIN_POLLING_INTERVAL)
        if polling is not None:
            values["max_polling_interval"] = polling
        encoding = _get(section, "messageEncoding")
        if encoding is not None:
            try:
                values["message_encoding"] = MessageEncoding(str(encoding).strip().lower())
            except ValueError:
                raise ConfigurationError(
                    f"{_PREFIX}.messageEncoding must be base64 or none, got {encoding!r}"
                ) from None
        return cls(**values)


def load_queue_settings(app_dir: Path | None) -> QueueSettings:
    """The settings of `app_dir/host.json` (defaults without one); errors name the file and the key."""
    if app_dir is None:
        return QueueSettings()
    path, section = load_extension_section(app_dir, "queues")
    try:
        return QueueSettings.from_section(section)
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from error


def _get(section: Mapping[str, Any], key: str) -> Any:
    wanted = key.lower()
    return next((value for name, value in section.items() if str(name).lower() == wanted), None)


def _integer(section: Mapping[str, Any], key: str, *, minimum: int, maximum: int | None = None) -> int | None:
    value = _get(section, key)
    if value is None:
        return None
    number = int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int):
        raise ConfigurationError(f"{_PREFIX}.{key} must be an integer, got {value!r}")
    if number < minimum or (maximum is not None and number > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ConfigurationError(f"{_PREFIX}.{key} must be at least {minimum}{upper}, got {value!r}")
    return number


def _duration(section: Mapping[str, Any], key: str, *, minimum: timedelta) -> timedelta | None:
    """A TimeSpan string ("00:00:02"), or a number of milliseconds as version 1 host.json files give them."""
    value = _get(section, key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        duration = timedelta(milliseconds=value)
    else:
        duration = parse_timespan(value, key=f"{_PREFIX}.{key}", allow_zero=True)
    if duration < minimum:
        raise ConfigurationError(f"{_PREFIX}.{key} must be at least {minimum}, got {value!r}")
    return duration


__all__ = ["MAX_BATCH_SIZE", "MessageEncoding", "QueueSettings", "load_queue_settings"]
