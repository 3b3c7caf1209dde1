"""The host.json keys the blob trigger honours, with the host's defaults.

- `extensions.queues.maxDequeueCount` (default 5): attempts per blob version before the poison notice (the
  host retries a blob through its internal queue, so the queue setting counts);
- `extensions.queues.messageEncoding` (`base64` default, or `none`): how the poison notice is encoded;
- `extensions.blobs.maxDegreeOfParallelism` (default 8 x processors): blobs processed at once per function.

Read here from the app's host.json (the function's folder for v1 apps, its parent, i.e. the app folder)
because the blob trigger needs no other part of the queue settings. A bad value is a start-up error naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError

DEFAULT_POLLING_INTERVAL = 10.0
"""Seconds between container scans, as the host's polling strategy."""


def _default_parallelism() -> int:
    return 8 * (os.cpu_count() or 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobTriggerSettings:
    max_dequeue_count: int = 5
    message_encoding: str = "base64"
    max_degree_of_parallelism: int = field(default_factory=_default_parallelism)
    polling_interval: float = DEFAULT_POLLING_INTERVAL


def load_blob_trigger_settings(directory: Path | None) -> BlobTriggerSettings:
    """The settings in the app's host.json (defaults when there is none)."""
    host_json = _find_host_json(directory)
    if host_json is None:
        return BlobTriggerSettings()
    try:
        data = json.loads(host_json.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{host_json}: cannot read it ({error})") from None
    extensions = _section(data, "extensions")
    queues, blobs = _section(extensions, "queues"), _section(extensions, "blobs")
    defaults = BlobTriggerSettings()
    encoding = str(_get(queues, "messageEncoding") or defaults.message_encoding).lower()
    if encoding not in ("base64", "none"):
        raise ConfigurationError(f"{host_json}: extensions.queues.messageEncoding must be base64 or none")
    return BlobTriggerSettings(
        max_dequeue_count=_positive(host_json, "extensions.queues.maxDequeueCount", _get(queues, "maxDequeueCount"))
        or defaults.max_dequeue_count,
        message_encoding=encoding,
        max_degree_of_parallelism=_positive(
            host_json, "extensions.blobs.maxDegreeOfParallelism", _get(blobs, "maxDegreeOfParallelism")
        )
        or defaults.max_degree_of_parallelism,
    )


def _find_host_json(directory: Path | None) -> Path | None:
    if directory is None:
        return None
    for folder in (directory, directory.parent):
        if (folder / "host.json").is_file():
            return folder / "host.json"
    return None


def _section(parent: Any, key: str) -> Mapping[str, Any]:
    value = _get(parent, key) if isinstance(parent, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    for name, value in mapping.items():
        if name.lower() == key.lower():
            return value
    return None


def _positive(host_json: Path, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{host_json}: {key} must be a positive integer, got {value!r}")
    return value


__all__ = ["DEFAULT_POLLING_INTERVAL", "BlobTriggerSettings", "load_blob_trigger_settings"]
