"""Settings from host.json (`extensions.durableTask`) and local.settings.json, under their original names.

A user's existing host.json must keep meaning what it meant under the Durable Functions extension, so keys
are read with the extension's names and placement: DF 2.x/3.x put Azure Storage options under
`extensions.durableTask.storageProvider`, DF 1.x put them flat under `durableTask`; both are accepted, and
keys match case-insensitively as .NET configuration binding does. Unknown keys are ignored (the extension
has many we do not implement). Settings are frozen at start-up: nothing re-reads them while running.

Our additions (the extension has no such keys) live under `storageProvider` too: `maxDequeueCount`,
`leaseInterval`, `leaseRenewInterval`, `leaseAcquireInterval`, the storage transport and retry policy
(`storageTransport`, `storageRetryMaxAttempts`, `storageRetryInitialDelay`, `storageRetryMaxDelay`, and DTFx v1's
`storageRequestsTimeout`), and the stuck-instance repair (`repairAfter`, `repairInterval`).

Imports only the standard library, `durable_azure.errors` and `durable_azure.json_files`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError
from durable_azure.json_files import read_json_file

HOST_JSON = "host.json"
LOCAL_SETTINGS_JSON = "local.settings.json"


_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d+):(?P<minutes>\d{1,2}):(?P<seconds>\d{1,2}(?:\.\d{1,7})?)$")
_APP_SETTING = re.compile(r"^%(?P<name>[^%]+)%$")


def _default_concurrency() -> int:
    """The extension's default outside the Consumption plan: 10 per processor core."""
    return 10 * (os.cpu_count() or 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DurableTaskSettings:
    """The Durable Task options this runtime honours; defaults are the extension's (or DTFx's) defaults."""

    hub_name: str = "TestHubName"
    connection_name: str = "AzureWebJobsStorage"
    partition_count: int = 4
    control_queue_batch_size: int = 32
    control_queue_buffer_threshold: int = 256
    control_queue_visibility_timeout: timedelta = timedelta(minutes=5)
    work_item_queue_visibility_timeout: timedelta = timedelta(minutes=5)
    max_queue_polling_interval: timedelta = timedelta(seconds=30)
    max_concurrent_activity_functions: int = field(default_factory=_default_concurrency)
    max_concurrent_orchestrator_functions: int = field(default_factory=_default_concurrency)
    max_dequeue_count: int = 10
    # Longer than DTFx's 30/10/10 s: an idle worker's lease traffic is most of its storage bill, and a dead
    # worker's messages only come back after controlQueueVisibilityTimeout (5 min) anyway.
    lease_interval: timedelta = timedelta(seconds=60)
    lease_renew_interval: timedelta = timedelta(seconds=30)
    lease_acquire_interval: timedelta = timedelta(seconds=30)
    storage_transport: str = "auto"
    storage_retry_max_attempts: int = 8
    storage_retry_initial_delay: timedelta = timedelta(seconds=0.5)
    storage_retry_max_delay: timedelta = timedelta(seconds=10)
    storage_requests_timeout: timedelta = timedelta(seconds=30)
    repair_after: timedelta | None = None
    """None: the longer queue visibility timeout plus two minutes (see `stuck_instance_after`)."""
    repair_interval: timedelta = timedelta(minutes=1)
    default_async_request_sleep_time_milliseconds: int = 30000
    """httpSettings.defaultAsyncRequestSleepTimeMilliseconds: call_http's wait between polls of a 202."""
    max_entity_operation_batch_size: int = 5000
    """`maxEntityOperationBatchSize`: entity operations per batch (the extension's default outside Consumption)."""
    entity_message_reorder_window_in_minutes: int = 30
    """`entityMessageReorderWindowInMinutes`: how long an entity remembers a sender to order and de-duplicate."""
    local_rpc_endpoint_enabled: bool = True
    """`localRpcEndpointEnabled`: null or absent means on (as for the extension's non-.NET apps), false off."""

    @property
    def stuck_instance_after(self) -> timedelta:
        """How long work may be in flight with no progress before the repair sweep sends it again."""
        if self.repair_after is not None:
            return self.repair_after
        longest = max(self.control_queue_visibility_timeout, self.work_item_queue_visibility_timeout)
        return longest + timedelta(minutes=2)

    @classmethod
    def from_host_json(
        cls, data: Mapping[str, Any], environment: Mapping[str, str] | None = None
    ) -> DurableTaskSettings:
        """Read the durableTask section of a parsed host.json document.

        `environment` resolves `%AppSetting%` references in hubName (default: `os.environ`).
        Raises ConfigurationError naming the key and the value when a value is invalid.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"host.json must hold a JSON object, not {type(data).__name__}")
        section = _durable_task_section(data)
        provider = _section(section, "storageProvider", "extensions.durableTask.storageProvider")
        reader = _SettingsReader(section=section, provider=provider)
        environment = os.environ if environment is None else environment
        values: dict[str, Any] = {}
        hub_name = reader.text("hubName")
        if hub_name is not None:
            values["hub_name"] = _resolve_app_setting(hub_name, environment)
        connection_name = reader.connection_name()
        if connection_name is not None:
            values["connection_name"] = connection_name
        values.update(reader.numbers())
        values.update(_http_settings(section))
        transport = reader.text("storageTransport", is_provider_key=True)
        if transport is not None:
            if transport.lower() not in _TRANSPORTS:
                raise ConfigurationError(
                    f"extensions.durableTask.storageProvider.storageTransport must be one of "
                    f"{', '.join(_TRANSPORTS)}, got {transport!r}"
                )
            values["storage_transport"] = transport.lower()
        local_rpc = reader.find("localRpcEndpointEnabled", is_provider_key=False)
        if local_rpc is not None:
            values["local_rpc_endpoint_enabled"] = _parse_boolean(*local_rpc)
        settings = cls(**values)
        if settings.storage_retry_initial_delay > settings.storage_retry_max_delay:
            raise ConfigurationError(
                "extensions.durableTask.storageProvider.storageRetryInitialDelay must not exceed storageRetryMaxDelay"
            )
        return settings


@dataclass(frozen=True, slots=True, kw_only=True)
class _IntegerKey:
    """An integer setting: its host.json key, our field name and the inclusive range the extension allows."""

    key: str
    field_name: str
    minimum: int = 1
    maximum: int | None = None
    is_provider_key: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class _DurationKey:
    """A TimeSpan setting ("hh:mm:ss" or "d.hh:mm:ss"); always under storageProvider."""

    key: str
    field_name: str


_TRANSPORTS = ("auto", "lean", "sdk")

_INTEGER_KEYS = (
    _IntegerKey(key="partitionCount", field_name="partition_count", maximum=16),
    _IntegerKey(key="controlQueueBatchSize", field_name="control_queue_batch_size", maximum=32),
    _IntegerKey(key="controlQueueBufferThreshold", field_name="control_queue_buffer_threshold", maximum=1000),
    _IntegerKey(key="maxDequeueCount", field_name="max_dequeue_count"),
    _IntegerKey(key="storageRetryMaxAttempts", field_name="storage_retry_max_attempts", maximum=50),
    _IntegerKey(
        key="maxConcurrentActivityFunctions", field_name="max_concurrent_activity_functions", is_provider_key=False
    ),
    _IntegerKey(key="maxEntityOperationBatchSize", field_name="max_entity_operation_batch_size", is_provider_key=False),
    _IntegerKey(
        key="entityMessageReorderWindowInMinutes",
        field_name="entity_message_reorder_window_in_minutes",
        is_provider_key=False,
    ),
    _IntegerKey(
        key="maxConcurrentOrchestratorFunctions",
        field_name="max_concurrent_orchestrator_functions",
        is_provider_key=False,
    ),
)

_DURATION_KEYS = (
    _DurationKey(key="controlQueueVisibilityTimeout", field_name="control_queue_visibility_timeout"),
    _DurationKey(key="workItemQueueVisibilityTimeout", field_name="work_item_queue_visibility_timeout"),
    _DurationKey(key="maxQueuePollingInterval", field_name="max_queue_polling_interval"),
    _DurationKey(key="leaseInterval", field_name="lease_interval"),
    _DurationKey(key="leaseRenewInterval", field_name="lease_renew_interval"),
    _DurationKey(key="leaseAcquireInterval", field_name="lease_acquire_interval"),
    _DurationKey(key="storageRetryInitialDelay", field_name="storage_retry_initial_delay"),
    _DurationKey(key="storageRetryMaxDelay", field_name="storage_retry_max_delay"),
    _DurationKey(key="storageRequestsTimeout", field_name="storage_requests_timeout"),
    _DurationKey(key="repairAfter", field_name="repair_after"),
    _DurationKey(key="repairInterval", field_name="repair_interval"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _SettingsReader:
    """Looks keys up in storageProvider first, then flat under durableTask (DF 1.x placement)."""

    section: Mapping[str, Any]
    provider: Mapping[str, Any]

    def find(self, key: str, *, is_provider_key: bool = True) -> tuple[str, Any] | None:
        places = [("extensions.durableTask.storageProvider", self.provider)] if is_provider_key else []
        places.append(("extensions.durableTask", self.section))
        for prefix, place in places:
            found = _get_case_insensitive(place, key)
            if found is not None:
                return f"{prefix}.{key}", found
        return None

    def text(self, key: str, *, is_provider_key: bool = False) -> str | None:
        found = self.find(key, is_provider_key=is_provider_key)
        if found is None:
            return None
        path, value = found
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{path} must be a non-empty string, got {value!r}")
        return value.strip()

    def connection_name(self) -> str | None:
        """`connectionName`, legacy `connectionStringName`, or DF 1.x `azureStorageConnectionStringName`."""
        for key in ("connectionName", "connectionStringName", "azureStorageConnectionStringName"):
            value = self.text(key, is_provider_key=True)
            if value is not None:
                return value
        return None

    def numbers(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for integer_key in _INTEGER_KEYS:
            found = self.find(integer_key.key, is_provider_key=integer_key.is_provider_key)
            if found is not None:
                values[integer_key.field_name] = _parse_integer(*found, integer_key)
        for duration_key in _DURATION_KEYS:
            found = self.find(duration_key.key)
            if found is not None:
                values[duration_key.field_name] = parse_timespan(found[1], key=found[0])
        return values


def _http_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """`httpSettings.defaultAsyncRequestSleepTimeMilliseconds` (the extension's HttpOptions), in milliseconds."""
    http = _section(section, "httpSettings", "extensions.durableTask.httpSettings")
    key = _IntegerKey(
        key="defaultAsyncRequestSleepTimeMilliseconds", field_name="default_async_request_sleep_time_milliseconds"
    )
    value = _get_case_insensitive(http, key.key)
    if value is None:
        return {}
    return {key.field_name: _parse_integer(f"extensions.durableTask.httpSettings.{key.key}", value, key)}


def _get_case_insensitive(mapping: Mapping[str, Any], key: str) -> Any:
    """.NET configuration binding ignores key case, so `HubName` and `hubName` mean the same."""
    wanted = key.lower()
    for candidate, value in mapping.items():
        if isinstance(candidate, str) and candidate.lower() == wanted:
            return value
    return None


def _section(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = _get_case_insensitive(parent, key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{path} must be a JSON object, got {value!r}")
    return value


def _durable_task_section(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """host.json version 2.0 nests it under `extensions`; version 1 files have it at the top level."""
    extensions = _section(data, "extensions", "extensions")
    section = _section(extensions, "durableTask", "extensions.durableTask")
    if section:
        return section
    return _section(data, "durableTask", "durableTask")


def _parse_boolean(path: str, value: Any) -> bool:
    """JSON true/false, or the strings "true"/"false" (.NET binds both)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigurationError(f"{path} must be true, false or null, got {value!r}")


def _parse_integer(path: str, value: Any, integer_key: _IntegerKey) -> int:
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if isinstance(number, bool) or not isinstance(number, int):
        raise ConfigurationError(f"{path} must be an integer, got {value!r}")
    too_big = integer_key.maximum is not None and number > integer_key.maximum
    if number < integer_key.minimum or too_big:
        upper = "" if integer_key.maximum is None else f" and at most {integer_key.maximum}"
        raise ConfigurationError(f"{path} must be at least {integer_key.minimum}{upper}, got {value!r}")
    return number


def parse_timespan(value: Any, *, key: str = "value", allow_zero: bool = False) -> timedelta:
    """Parse a .NET TimeSpan string ("00:05:00", "1.00:00:00", "00:00:00.250"); positive unless `allow_zero`."""
    match = _TIMESPAN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ConfigurationError(f'{key} must be a TimeSpan like "00:05:00" or "1.00:00:00", got {value!r}')
    minutes = int(match["minutes"])
    seconds = float(match["seconds"])
    if minutes > 59 or seconds >= 60:
        raise ConfigurationError(f"{key} has minutes or seconds out of range, got {value!r}")
    duration = timedelta(days=int(match["days"] or 0), hours=int(match["hours"]), minutes=minutes, seconds=seconds)
    if duration < timedelta(0) or (duration == timedelta(0) and not allow_zero):
        raise ConfigurationError(f"{key} must be longer than zero, got {value!r}")
    return duration


def _resolve_app_setting(value: str, environment: Mapping[str, str]) -> str:
    """`%Name%` means "the app setting Name", as everywhere in host.json and bindings."""
    match = _APP_SETTING.match(value)
    if match is None:
        return value
    name = match["name"]
    resolved = environment.get(name)
    if not resolved:
        raise ConfigurationError(
            f"extensions.durableTask.hubName refers to app setting {name!r} ({value!r}), which is not set"
        )
    return resolved


def load_host_settings(app_dir: Path, environment: Mapping[str, str] | None = None) -> DurableTaskSettings:
    """Settings from `app_dir/host.json`; defaults when the file does not exist."""
    path = Path(app_dir) / HOST_JSON
    if not path.exists():
        return DurableTaskSettings()
    data = read_json_file(path)
    try:
        return DurableTaskSettings.from_host_json(data, environment)
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from error


def load_local_settings(app_dir: Path) -> dict[str, str]:
    """The `Values` of `app_dir/local.settings.json` as strings; {} when the file does not exist."""
    path = Path(app_dir) / LOCAL_SETTINGS_JSON
    if not path.exists():
        return {}
    data = read_json_file(path)
    values = data.get("Values", {}) if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise ConfigurationError(f"{path}: Values must be a JSON object")
    return {str(name): _setting_text(value) for name, value in values.items() if value is not None}


def _setting_text(value: Any) -> str:
    """App settings are strings; JSON true/false become "true"/"false" as the Functions host writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


DEFAULT_ROUTE_PREFIX = "api"


def load_http_route_prefix(app_dir: Path) -> str:
    """host.json `extensions.http.routePrefix` (default "api"; "" serves HTTP triggers at the site root)."""
    path = Path(app_dir) / HOST_JSON
    if not path.exists():
        return DEFAULT_ROUTE_PREFIX
    data = read_json_file(path)
    extensions = _section(data, "extensions", "extensions") if isinstance(data, Mapping) else {}
    http = _section(extensions, "http", "extensions.http")
    value = _get_case_insensitive(http, "routePrefix")
    if value is None:
        return DEFAULT_ROUTE_PREFIX
    if not isinstance(value, str):
        raise ConfigurationError(f"{path}: extensions.http.routePrefix must be a string, got {value!r}")
    return value.strip("/")


def load_extension_section(app_dir: Path, name: str) -> tuple[Path, Mapping[str, Any]]:
    """host.json's `extensions.{name}` (version 2.0) or top-level `{name}` (version 1), and the file's path.

    {} when the file or the section does not exist; ConfigurationError naming the file when it is unreadable.
    """
    path = Path(app_dir) / HOST_JSON
    if not path.exists():
        return path, {}
    data = read_json_file(path)
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{path}: host.json must hold a JSON object, not {type(data).__name__}")
    try:
        extensions = _section(data, "extensions", "extensions")
        return path, _section(extensions, name, f"extensions.{name}") or _section(data, name, name)
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from error
