"""Table entity properties as JSON (OData, `minimalmetadata`), both ways, and OData filter literals.

Rows must be what the Azure SDKs and DTFx write and read: strings, booleans
and 32-bit integers as plain JSON; 64-bit integers as strings typed
`Edm.Int64`; times as `Edm.DateTime` ISO-8601 UTC; doubles, GUIDs and binary
typed too. Reading turns typed values back into Python values (a 64-bit
integer is an `int`, a time an aware `datetime`). No SDK: the property typing
is written here, once.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from durable_azure.history import format_datetime, parse_datetime

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TYPE_SUFFIX = "@odata.type"


@dataclass(frozen=True, slots=True)
class Int64:
    """An integer to store as Edm.Int64 even when it would fit 32 bits (ints beyond 32 bits are Int64 anyway)."""

    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TableRow:
    """One entity read from a table: its properties (PartitionKey and RowKey included), ETag and Timestamp."""

    properties: dict[str, Any]
    etag: str | None = None
    timestamp: datetime | None = None

    def __getitem__(self, name: str) -> Any:
        return self.properties[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.properties.get(name, default)


def encode_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    """JSON members for an insert, update or batch operation; None values are left out (nothing is stored)."""
    encoded: dict[str, Any] = {}
    for name, value in entity.items():
        if value is None:
            continue
        edm_type, json_value = _encode_value(name, value)
        encoded[name] = json_value
        if edm_type is not None:
            encoded[name + _TYPE_SUFFIX] = edm_type
    return encoded


def _encode_value(name: str, value: Any) -> tuple[str | None, Any]:
    if isinstance(value, bool):
        return None, value
    if isinstance(value, Int64) or (isinstance(value, int) and not _INT32_MIN <= value <= _INT32_MAX):
        number = value.value if isinstance(value, Int64) else value
        if not _INT64_MIN <= number <= _INT64_MAX:
            raise ValueError(f"table property {name}: {number} does not fit Edm.Int64")
        return "Edm.Int64", str(number)
    if isinstance(value, int):
        return None, value
    if isinstance(value, Enum):
        return None, value.name
    if isinstance(value, str):
        return None, value
    if isinstance(value, datetime):
        return "Edm.DateTime", _format_table_datetime(value)
    if isinstance(value, float):
        return "Edm.Double", _encode_double(value)
    if isinstance(value, uuid.UUID):
        return "Edm.Guid", str(value)
    if isinstance(value, bytes):
        return "Edm.Binary", base64.b64encode(value).decode("ascii")
    raise TypeError(f"table property {name}: cannot store a {type(value).__name__}")


def _encode_double(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _format_table_datetime(value: datetime) -> str:
    """What the SDKs write: UTC, microseconds, `Z` (the service keeps 100-ns ticks; we have microseconds)."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decode_entity(members: Mapping[str, Any]) -> TableRow:
    """A row from a `minimalmetadata` JSON entity: typed values decoded, `odata.*` and annotations dropped."""
    types = {name[: -len(_TYPE_SUFFIX)]: value for name, value in members.items() if name.endswith(_TYPE_SUFFIX)}
    properties: dict[str, Any] = {}
    timestamp: datetime | None = None
    for name, value in members.items():
        if name.startswith("odata.") or name.endswith(_TYPE_SUFFIX):
            continue
        if name == "Timestamp":
            timestamp = parse_datetime(value) if isinstance(value, str) else None
            continue
        properties[name] = _decode_value(types.get(name), value)
    etag = members.get("odata.etag")
    return TableRow(properties=properties, etag=etag, timestamp=timestamp)


def _decode_value(edm_type: str | None, value: Any) -> Any:
    if value is None or edm_type is None or edm_type in ("Edm.String", "Edm.Int32", "Edm.Boolean"):
        return value
    if edm_type == "Edm.Int64":
        return int(value)
    if edm_type == "Edm.DateTime":
        return parse_datetime(value)
    if edm_type == "Edm.Double":
        return float(value)
    if edm_type == "Edm.Guid":
        return uuid.UUID(value)
    if edm_type == "Edm.Binary":
        return base64.b64decode(value)
    return value


def odata_literal(value: Any) -> str:
    """A value as an OData filter literal: 'text' (quotes doubled), datetime'...', true, 42, 42L, guid'...'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return odata_literal(value.name)
    if isinstance(value, int):
        return str(value) if _INT32_MIN <= value <= _INT32_MAX else f"{value}L"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return f"datetime'{format_datetime(value)}'"
    if isinstance(value, uuid.UUID):
        return f"guid'{value}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use a {type(value).__name__} in a table filter")
