"""The Instances table (DTFx `Tracking/`): one row per instance, the query side of the task hub.

Layout per dtfx-azure-storage.md §3: PartitionKey = escaped instance id, RowKey
"", RuntimeStatus written as the status name, CustomStatus "null" when unset.
Large Input/Output go to the large-messages container and the column holds the
blob URL; reads resolve it. The History table stays the source of truth.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from durable_azure.azure_storage.batches import BatchOperation
from durable_azure.azure_storage.blobs import LargeMessageStore
from durable_azure.azure_storage.history_table import is_large, table_value
from durable_azure.azure_storage.messages import envelope_from_json, parse_body
from durable_azure.azure_storage.names import TaskHubNames, escape_key, unescape_key
from durable_azure.azure_storage.table_entities import TableRow, odata_literal
from durable_azure.azure_storage.table_service import TableService
from durable_azure.errors import ConcurrencyConflictError, ConfigurationError, StorageError
from durable_azure.history import ExecutionStarted, OrchestrationStatus, parse_status

INSTANCE_ROW_KEY = ""
_NULL_WHEN_NONE = frozenset({"custom_status", "tags"})
_LARGE_FIELDS = frozenset({"input", "output"})
_ENVELOPE_BLOB_SUFFIX = "ExecutionStarted.json.gz"


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceRecord:
    """One Instances-table row (dtfx §3.1)."""

    instance_id: str
    name: str
    runtime_status: OrchestrationStatus
    execution_id: str | None = None
    version: str | None = None
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    created_time: datetime | None = None
    last_updated_time: datetime | None = None
    completed_time: datetime | None = None
    scheduled_start_time: datetime | None = None
    generation: int = 0
    tags: dict[str, str] | None = None
    task_hub_name: str | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class InstancePage:
    records: list[InstanceRecord]
    continuation_token: str | None


COLUMN_NAMES: dict[str, str] = {
    "name": "Name",
    "runtime_status": "RuntimeStatus",
    "execution_id": "ExecutionId",
    "version": "Version",
    "input": "Input",
    "output": "Output",
    "custom_status": "CustomStatus",
    "created_time": "CreatedTime",
    "last_updated_time": "LastUpdatedTime",
    "completed_time": "CompletedTime",
    "scheduled_start_time": "ScheduledStartTime",
    "generation": "Generation",
    "tags": "Tags",
    "task_hub_name": "TaskHubName",
}
"""InstanceRecord field -> DTFx column; `instance_id` and `etag` are the keys and metadata."""
_FIELD_NAMES = {column: name for name, column in COLUMN_NAMES.items()}


def encode_token(token: Any) -> str | None:
    if token is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(token).encode("utf-8")).decode("ascii")


def decode_token(token: str | None) -> Any:
    if token is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError) as error:
        raise ConfigurationError("continuation token is not one this task hub returned") from error


def _column_value(field_name: str, value: Any) -> Any:
    if value is None:
        return "null" if field_name in _NULL_WHEN_NONE else None
    if field_name == "tags":
        return json.dumps(value, ensure_ascii=False)
    return table_value(value)


def _field_value(field_name: str, value: Any) -> Any:
    if field_name == "runtime_status":
        return parse_status(value)
    if field_name in _NULL_WHEN_NONE and value in ("null", ""):
        return None
    if field_name == "tags":
        return {str(key): str(item) for key, item in json.loads(value).items()}
    if field_name == "generation":
        return int(value)
    return value


_READS_PER_GET = 3
"""Row reads per `get` when the row's offloaded value vanished under it (replaced by a newer checkpoint)."""


class InstancesTable:
    """Point reads and writes of instance rows, and server-side filtered pages."""

    def __init__(self, tables: TableService, table_name: str, large_messages: LargeMessageStore) -> None:
        self._tables = tables
        self.table_name = table_name
        self._large_messages = large_messages

    async def get(self, instance_id: str, *, include_input: bool = True) -> InstanceRecord | None:
        """One point read (plus a blob download per offloaded Input/Output); None when absent."""
        select = None if include_input else [c for c in COLUMN_NAMES.values() if c != "Input"]
        for attempt in range(_READS_PER_GET):
            row = await self._tables.get(self.table_name, escape_key(instance_id), INSTANCE_ROW_KEY, select=select)
            if row is None:
                return None
            try:
                return await self._record(row, instance_id)
            except StorageError as error:
                # The row named a blob that the instance's next checkpoint replaced and deleted between our
                # two reads (an entity checkpoints every batch; DF extension #2549): read the row again.
                if error.code != "BlobNotFound" or attempt == _READS_PER_GET - 1:
                    raise
        raise AssertionError("unreachable")

    async def create(self, record: InstanceRecord, *, etag: str | None) -> str:
        """Insert (etag None) or replace If-Match `etag`; ConcurrencyConflictError otherwise. Returns the ETag.

        A one-operation entity-group transaction: the same effect as a plain
        insert or replace, through the cheaper batch path. If an earlier
        attempt may have been applied and the retry conflicts, the row is read
        back: when it holds this record's execution, the write was ours.
        """
        values = {field.name: getattr(record, field.name) for field in fields(record) if field.name in COLUMN_NAMES}
        entity = await self._entity(record.instance_id, values)
        operation = BatchOperation("create", entity) if etag is None else BatchOperation("replace", entity, etag)
        try:
            [new_etag] = await self._tables.batch(self.table_name, [operation], operation="create instance")
        except ConcurrencyConflictError as error:
            if not error.maybe_applied:
                raise
            stored = await self._tables.get(self.table_name, escape_key(record.instance_id), INSTANCE_ROW_KEY)
            if stored is None or stored.get("ExecutionId") != record.execution_id or stored.etag is None:
                raise
            return stored.etag
        return str(new_etag)

    async def update(self, instance_id: str, **columns: Any) -> None:
        """One insert-or-merge of the given InstanceRecord fields (e.g. runtime_status=..., output=...).

        A one-operation entity-group transaction: same effect, cheaper client. Idempotent.
        """
        unknown = set(columns) - set(COLUMN_NAMES)
        if unknown:
            raise ConfigurationError(f"not Instances-table fields: {sorted(unknown)}")
        entity = await self._entity(instance_id, columns)
        await self._tables.batch(self.table_name, [BatchOperation("upsert_merge", entity)], operation="update instance")
        offloaded = {
            name
            for column in (COLUMN_NAMES[field] for field in _LARGE_FIELDS if field in columns)
            if (name := self._large_messages.blob_name_from_url(str(entity.get(column, "")))) is not None
        }
        if offloaded:  # the values this row named before are orphans now (a reader mid-read re-reads the row)
            prefix = f"{escape_key(instance_id)}/history--"
            await self._large_messages.delete_prefix(prefix, keep=offloaded)

    async def _entity(self, instance_id: str, values: dict[str, Any]) -> dict[str, Any]:
        entity: dict[str, Any] = {"PartitionKey": escape_key(instance_id), "RowKey": INSTANCE_ROW_KEY}
        for field_name, value in values.items():
            column_value = _column_value(field_name, value)
            if column_value is None:
                continue
            if field_name in _LARGE_FIELDS and is_large(column_value):
                column_value = await self._offload(instance_id, COLUMN_NAMES[field_name], column_value)
            entity[COLUMN_NAMES[field_name]] = column_value
        return entity

    async def _offload(self, instance_id: str, column: str, value: str) -> str:
        blob_name = TaskHubNames.history_blob(instance_id, INSTANCE_ROW_KEY, column, column)
        await self._large_messages.upload(blob_name, value)
        return self._large_messages.url_for(blob_name)

    async def _record(self, row: TableRow, instance_id: str | None = None) -> InstanceRecord:
        values: dict[str, Any] = {}
        for column, value in row.properties.items():
            field_name = _FIELD_NAMES.get(column)
            if field_name is not None and value is not None:
                values[field_name] = _field_value(field_name, value)
        for field_name in _LARGE_FIELDS:
            if isinstance(values.get(field_name), str):
                values[field_name] = await self._resolve(values[field_name])
        values.setdefault("name", "")
        values.setdefault("runtime_status", OrchestrationStatus.Pending)
        return InstanceRecord(
            instance_id=instance_id if instance_id is not None else unescape_key(row["PartitionKey"]),
            etag=row.etag,
            **values,
        )

    async def _resolve(self, value: str) -> str | None:
        """Plain text stays; a URL into the large-messages container is downloaded (an envelope yields its input)."""
        blob_name = self._large_messages.blob_name_from_url(value)
        if blob_name is None:
            return value
        text = await self._large_messages.download(blob_name)
        if not blob_name.endswith(_ENVELOPE_BLOB_SUFFIX):
            return text
        event = envelope_from_json(parse_body(text)).event
        return event.input if isinstance(event, ExecutionStarted) else text

    async def query(
        self,
        *,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        statuses: Collection[OrchestrationStatus] | None = None,
        instance_id_prefix: str | None = None,
        last_updated_before: datetime | None = None,
        last_updated_from: datetime | None = None,
        page_size: int = 100,
        continuation_token: str | None = None,
        include_input: bool = True,
    ) -> InstancePage:
        """ONE filtered query request (dtfx §3.3) plus downloads of offloaded values on that page."""
        query_filter = _query_filter(
            created_from, created_to, statuses, instance_id_prefix, last_updated_before, last_updated_from
        )
        select = None if include_input else ["PartitionKey", *[c for c in COLUMN_NAMES.values() if c != "Input"]]
        page = await self._tables.query_page(
            self.table_name,
            query_filter,
            select=select,
            page_size=page_size,
            continuation=_continuation(decode_token(continuation_token)),
        )
        records = [await self._record(row) for row in page.rows]
        return InstancePage(records, encode_token(page.continuation))

    async def delete(self, instance_id: str) -> bool:
        """One delete; True if a row was there."""
        return await self._tables.delete(self.table_name, escape_key(instance_id), INSTANCE_ROW_KEY)


def _continuation(token: Any) -> dict[str, str] | None:
    """A continuation token as decoded from a caller: `{"PartitionKey", "RowKey"}` (the SDK's shape, too)."""
    if token is None:
        return None
    if not isinstance(token, dict) or not isinstance(token.get("PartitionKey"), str):
        raise ConfigurationError("continuation token is not one this task hub returned")
    return {"PartitionKey": token["PartitionKey"], "RowKey": str(token.get("RowKey") or "")}


def _query_filter(
    created_from: datetime | None,
    created_to: datetime | None,
    statuses: Collection[OrchestrationStatus] | None,
    instance_id_prefix: str | None,
    last_updated_before: datetime | None = None,
    last_updated_from: datetime | None = None,
) -> str:
    conditions = [f"RowKey eq {odata_literal(INSTANCE_ROW_KEY)}"]
    if created_from is not None:
        conditions.append(f"CreatedTime ge {odata_literal(created_from)}")
    if created_to is not None:
        conditions.append(f"CreatedTime le {odata_literal(created_to)}")
    if last_updated_before is not None:
        conditions.append(f"LastUpdatedTime lt {odata_literal(last_updated_before)}")
    if last_updated_from is not None:
        conditions.append(f"LastUpdatedTime ge {odata_literal(last_updated_from)}")
    if statuses:
        names = sorted({status.name for status in statuses})
        conditions.append(" or ".join(f"RuntimeStatus eq {odata_literal(name)}" for name in names))
    if instance_id_prefix:
        low = escape_key(instance_id_prefix)
        high = low[:-1] + chr(ord(low[-1]) + 1)
        conditions.append(f"PartitionKey ge {odata_literal(low)} and PartitionKey lt {odata_literal(high)}")
    return " and ".join(f"({condition})" for condition in conditions)
