"""Every resource name of a task hub, table key escaping, and the partition hash.

DTFx builds these names in several places; here they are built once, in
`TaskHubNames`, so a hub written by us looks exactly like one written by DTFx
(dtfx-azure-storage.md §1, §1.2, §4.3). Pure functions: no I/O, no SDK import.
"""

from __future__ import annotations

import re
import secrets

from durable_azure.errors import ConfigurationError

MIN_HUB_NAME_LENGTH = 3
MAX_HUB_NAME_LENGTH = 45
_HUB_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]*")

_FNV_OFFSET_BASIS = 2166136261
_FNV_PRIME = 16777619

_ESCAPE = "^"
_ESCAPES = {"^": "^^", "/": "^0", "\\": "^1", "#": "^2", "?": "^3"}
_UNESCAPES = {"^": "^", "0": "/", "1": "\\", "2": "#", "3": "?"}
_CONTROL_SHIFT = 0xC0  # control characters are written as '^' + chr(code + U+00C0), as DTFx KeySanitation


def validate_task_hub_name(name: str) -> str:
    """Return `name` if it is letters and digits, starts with a letter, and has 3-45 characters.

    The rule Durable Functions states; every derived queue, table and container
    name is then valid too (the longest suffix, `-largemessages`, still fits 63).
    """
    if not isinstance(name, str) or not _HUB_NAME_PATTERN.fullmatch(name):
        raise ConfigurationError(
            f"task hub name {name!r} is invalid: use only letters and digits, starting with a letter"
        )
    if not MIN_HUB_NAME_LENGTH <= len(name) <= MAX_HUB_NAME_LENGTH:
        raise ConfigurationError(
            f"task hub name {name!r} must have {MIN_HUB_NAME_LENGTH}-{MAX_HUB_NAME_LENGTH} characters, not {len(name)}"
        )
    return name


def fnv1a_32(data: bytes) -> int:
    hash_value = _FNV_OFFSET_BASIS
    for byte in data:
        hash_value = ((hash_value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return hash_value


def partition_index(instance_id: str, partition_count: int) -> int:
    """The control-queue partition of an instance: FNV-1a 32-bit over its UTF-8 bytes, modulo the count.

    The mapping is static: changing the partition count of a live hub misroutes
    in-flight instances, as in DTFx.
    """
    if partition_count < 1:
        raise ConfigurationError(f"partition count must be at least 1, not {partition_count}")
    return fnv1a_32(instance_id.encode("utf-8")) % partition_count


def escape_key(instance_id: str) -> str:
    """An instance id as a table PartitionKey (DTFx KeySanitation): `^` escapes `/ \\ # ?`, `^` and control chars."""
    pieces: list[str] = []
    for character in instance_id:
        code = ord(character)
        if character in _ESCAPES:
            pieces.append(_ESCAPES[character])
        elif code <= 0x1F or 0x7F <= code <= 0x9F:
            pieces.append(_ESCAPE + chr(code + _CONTROL_SHIFT))
        else:
            pieces.append(character)
    return "".join(pieces)


def unescape_key(key: str) -> str:
    """Reverse `escape_key`."""
    pieces: list[str] = []
    characters = iter(key)
    for character in characters:
        if character != _ESCAPE:
            pieces.append(character)
            continue
        escaped = next(characters, "")
        if escaped in _UNESCAPES:
            pieces.append(_UNESCAPES[escaped])
        elif escaped:
            pieces.append(chr(ord(escaped) - _CONTROL_SHIFT))
    return "".join(pieces)


class TaskHubNames:
    """The one place that builds a task hub's queue, table, container and blob names."""

    __slots__ = ("_lower", "hub_name")

    def __init__(self, hub_name: str) -> None:
        self.hub_name = validate_task_hub_name(hub_name)
        self._lower = hub_name.lower()

    def control_queue(self, index: int) -> str:
        return f"{self._lower}-control-{index:02d}"

    @property
    def work_item_queue(self) -> str:
        return f"{self._lower}-workitems"

    @property
    def poison_queue(self) -> str:
        """Our addition (DTFx has none): messages that keep failing are moved here."""
        return f"{self._lower}-poison"

    @property
    def history_table(self) -> str:
        return f"{self.hub_name}History"

    @property
    def instances_table(self) -> str:
        return f"{self.hub_name}Instances"

    @property
    def leases_container(self) -> str:
        return f"{self._lower}-leases"

    @property
    def large_messages_container(self) -> str:
        return f"{self._lower}-largemessages"

    @property
    def task_hub_info_blob(self) -> str:
        return "taskhub.json"

    def lease_blob(self, partition_id: str) -> str:
        """The legacy blob manager's lease blob of one control queue: `default/{controlQueueName}`."""
        return f"default/{partition_id}"

    @staticmethod
    def message_blob(instance_id: str, activity_id: str, event_type_name: str) -> str:
        """An offloaded queue envelope: raw instance id, activity id as 32 hex digits (DTFx MessageManager)."""
        return f"{instance_id}/message-{activity_id.replace('-', '')}-{event_type_name}.json.gz"

    @staticmethod
    def history_blob(instance_id: str, row_key: str, event_type_name: str, column: str) -> str:
        """An offloaded table column; the random part avoids split-brain races (DTFx PR #891)."""
        return (
            f"{escape_key(instance_id)}/history-{row_key}-{event_type_name}-{secrets.randbits(32):08X}-{column}.json.gz"
        )

    def __repr__(self) -> str:
        return f"TaskHubNames({self.hub_name!r})"
