"""Table entities as the Tables extension hands them to (and takes them from) a Python function: JSON text.

The Python worker has no table converter, so an input arrives as the JSON the extension serializes
(`TablesExtensionConfigProvider.ConvertEntityToJObject`): an object with `PartitionKey`, `RowKey` and every
other property, but neither `Timestamp` nor `odata.etag` (the extension leaves both out, "for V4
compatibility"); binary as base64, times as ISO 8601; an array of such objects for a query. An output is a
JSON object or array (text, or a dict or list the function returns); as the extension does, `ETag` (any
case, or `odata.etag`) decides how it is written, `PartitionKey`/`RowKey` are matched without case, and a
nested object or array is stored as its JSON text. This module checks it and turns each object into a row.

No storage here: `bindings/table.py` reads and writes.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from durable_azure.errors import FunctionInvocationError

_KEY_NAMES = ("PartitionKey", "RowKey")
_ETAG_NAMES = ("etag", "odata.etag")
_SERVER_SET = ("timestamp",)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputEntity:
    """One entity to write: its properties (keys included) and the ETag that decides how."""

    properties: dict[str, Any]
    etag: str | None
    """None: insert (fails if the row exists); "*": insert or replace; else replace If-Match."""

    @property
    def partition_key(self) -> str:
        return str(self.properties["PartitionKey"])

    @property
    def row_key(self) -> str:
        return str(self.properties["RowKey"])


def entity_json(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A row's properties as the extension's JSON object: the keys first, then the others (no Timestamp or ETag)."""
    document: dict[str, Any] = {name: properties.get(name) for name in _KEY_NAMES}
    for name, value in properties.items():
        if name not in _KEY_NAMES:
            document[name] = _json_value(value)
    return document


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def output_entities(
    value: Any, *, binding_name: str, partition_key: str | None, row_key: str | None
) -> list[OutputEntity]:
    """The entities of an output value (a JSON object or array, as text or as dict/list).

    The entity's own PartitionKey/RowKey (any case) win over the binding's; an entity left without either is
    refused, naming the binding and the entry. FunctionInvocationError for anything unwritable.
    """
    if isinstance(value, str | bytes | bytearray):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise FunctionInvocationError(f"output binding {binding_name!r}: invalid JSON ({error})") from None
    entries = value if isinstance(value, list) else [value]
    return [
        _entity(
            entry, binding_name, f"entry {index}" if isinstance(value, list) else "the entity", partition_key, row_key
        )
        for index, entry in enumerate(entries)
    ]


def _entity(entry: Any, binding_name: str, where: str, partition_key: str | None, row_key: str | None) -> OutputEntity:
    def refuse(reason: str) -> FunctionInvocationError:
        return FunctionInvocationError(f"output binding {binding_name!r}, {where}: {reason}")

    if not isinstance(entry, Mapping):
        raise refuse(f"expected a JSON object, got {type(entry).__name__}")
    properties: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    etag: str | None = None
    for name, item in entry.items():
        lowered = str(name).lower()
        if lowered in _ETAG_NAMES:
            etag = str(item) if item is not None else None
        elif lowered in _SERVER_SET:
            continue
        elif lowered in ("partitionkey", "rowkey"):
            properties["PartitionKey" if lowered == "partitionkey" else "RowKey"] = item
        elif isinstance(item, dict | list):  # the extension stores a nested value as its JSON text
            properties[str(name)] = json.dumps(item)
        else:
            properties[str(name)] = item
    for key in _KEY_NAMES:
        if not isinstance(properties[key], str):
            raise refuse(f"{key} is missing or not a string (set it in the entity or on the binding)")
    return OutputEntity(properties=properties, etag=etag)


__all__ = ["OutputEntity", "entity_json", "output_entities"]
