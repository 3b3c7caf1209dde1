"""The host.json keys the blob trigger honours, with the host's defaults.

- `extensions.queues.maxDequeueCount` (default 5): attempts per blob version before the poison notice (the
  host retries a blob through its internal queue, so the queue setting counts);
- `extensions.queues.messageEncoding` (`base64` default, or `none`): how the poison notice is encoded;
- `extensions.blobs.maxDegreeOfParallelism` (default 8 x processors): blobs processed at once per function.

The queue keys are the queue trigger's own settings (`functions/queue_messages.settings_for`: same file, same
validation, version 1 host.json included); the blobs section is read with the same section reader. A bad
value is a start-up error naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from durable_azure.errors import ConfigurationError
from durable_azure.functions.queue_messages import app_directory, settings_for
from durable_azure.queue_settings import MessageEncoding
from durable_azure.settings import load_extension_section

if TYPE_CHECKING:
    from durable_azure.functions.invocation import Invocable

DEFAULT_POLLING_INTERVAL = 10.0
"""Seconds between container scans, as the host's polling strategy."""


def _default_parallelism() -> int:
    return 8 * (os.cpu_count() or 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobTriggerSettings:
    max_dequeue_count: int = 5
    message_encoding: MessageEncoding = MessageEncoding.BASE64
    max_degree_of_parallelism: int = field(default_factory=_default_parallelism)
    polling_interval: float = DEFAULT_POLLING_INTERVAL


def load_blob_trigger_settings(function: Invocable) -> BlobTriggerSettings:
    """The settings in the host.json of the function's app (defaults when there is none)."""
    queues = settings_for(function)
    parallelism = None
    app_dir = app_directory(function)
    if app_dir is not None:
        path, blobs = load_extension_section(app_dir, "blobs")
        value = next((item for key, item in blobs.items() if str(key).lower() == "maxdegreeofparallelism"), None)
        parallelism = _positive(value, where=f"{path}: extensions.blobs.maxDegreeOfParallelism")
    return BlobTriggerSettings(
        max_dequeue_count=queues.max_dequeue_count,
        message_encoding=queues.message_encoding,
        max_degree_of_parallelism=parallelism or _default_parallelism(),
    )


def _positive(value: Any, *, where: str) -> int | None:
    if value is None:
        return None
    number = int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ConfigurationError(f"{where} must be a positive integer, got {value!r}")
    return number


__all__ = ["DEFAULT_POLLING_INTERVAL", "BlobTriggerSettings", "load_blob_trigger_settings"]
