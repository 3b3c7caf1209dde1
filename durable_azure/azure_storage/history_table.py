"""The History table (DTFx `Tracking/`): one row per event, guarded by the sentinel row's ETag.

Layout per dtfx-azure-storage.md §2: PartitionKey = escaped instance id, RowKey =
event index as 16 upper-case hex digits, a `sentinel` row whose ETag is the
optimistic-concurrency token of the whole history. A new generation (continue-as-
new, restart) rewrites rows from index 0, so rows of an older, longer generation
can remain after the new one; `load` drops them by ExecutionId.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from durable_azure.azure_storage.batches import BatchOperation
from durable_azure.azure_storage.blobs import LargeMessageStore
from durable_azure.azure_storage.names import TaskHubNames, escape_key
from durable_azure.azure_storage.table_entities import TableRow, odata_literal
from durable_azure.azure_storage.table_service import TableService
from durable_azure.errors import ConcurrencyConflictError
from durable_azure.history import COMPLEX_KINDS, HistoryEvent, from_wire, to_wire, wire_fields

SENTINEL_ROW_KEY = "sentinel"
MAX_EVENTS_PER_BATCH = 99
"""99 event rows + the sentinel = the 100-operation limit of a table batch (azurite-probe G4)."""
MAX_BATCH_ESTIMATED_BYTES = 3 * 1024 * 1024
MAX_COLUMN_UTF16_BYTES = 60 * 1024
LARGE_COLUMNS = ("Name", "Input", "Result", "Output", "Reason", "Details", "Correlation", "FailureDetails", "Tags")
BLOB_NAME_SUFFIX = "BlobName"
_EARLIEST_TABLE_DATETIME = datetime(1601, 1, 1, tzinfo=UTC)
_KEY_COLUMNS = ("PartitionKey", "RowKey", "ExecutionId")


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    events: list[HistoryEvent]
    etag: str | None
    execution_id: str | None


def table_value(value: Any) -> Any:
    """A Python value as a table property: enums by name (integers beyond 32 bits become Int64 when encoded)."""
    return value.name if isinstance(value, Enum) else value


def is_large(value: Any) -> bool:
    return isinstance(value, str) and len(value.encode("utf-16-le")) > MAX_COLUMN_UTF16_BYTES


def event_columns(event: HistoryEvent) -> dict[str, Any]:
    """The DTFx columns of one event (§2.2): enums by name, nested objects as JSON, `_Timestamp`."""
    members = to_wire(event)
    columns: dict[str, Any] = {"EventType": event.event_type.name}
    for _attribute, wire_name, kind in wire_fields(type(event)):
        value = members.get(wire_name)
        column = "_Timestamp" if wire_name == "Timestamp" else wire_name
        if kind in COMPLEX_KINDS:
            columns[column] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, datetime):
            if value >= _EARLIEST_TABLE_DATETIME:  # tables cannot hold .NET's DateTime.MinValue
                columns[column] = value
        elif value is not None:
            columns[column] = table_value(value)
    return columns


def event_from_columns(columns: dict[str, Any]) -> HistoryEvent:
    fields = {key: value for key, value in columns.items() if key not in _KEY_COLUMNS}
    if "_Timestamp" in fields:
        fields["Timestamp"] = fields.pop("_Timestamp")
    return from_wire(fields)


def _estimated_row_bytes(columns: dict[str, Any]) -> int:
    """DTFx's estimate: 1 KiB per row plus the UTF-16 size of its text."""
    return 1024 + sum(2 * len(value) for value in columns.values() if isinstance(value, str))


class HistoryTable:
    """Append-only event rows per instance, written in sentinel-guarded batches."""

    def __init__(self, tables: TableService, table_name: str, large_messages: LargeMessageStore) -> None:
        self._tables = tables
        self.table_name = table_name
        self._large_messages = large_messages

    async def load(self, instance_id: str, *, expected_execution_id: str | None = None) -> LoadedHistory:
        """One paged query, rows in RowKey order (sentinel last); large columns downloaded.

        With `expected_execution_id` that is not the sentinel's, the history is of
        another generation and comes back empty (with the sentinel's ETag).
        """
        rows = await self._query_rows(instance_id, expected_execution_id)
        sentinel = next((row for row in rows if row["RowKey"] == SENTINEL_ROW_KEY), None)
        etag = sentinel.etag if sentinel is not None else None
        event_rows = [row for row in rows if row["RowKey"] != SENTINEL_ROW_KEY]
        execution_id = sentinel.get("ExecutionId") if sentinel is not None else None
        if execution_id is None and event_rows:
            execution_id = event_rows[0].get("ExecutionId")
        if expected_execution_id is not None and execution_id != expected_execution_id:
            return LoadedHistory([], etag, execution_id)
        current: list[TableRow] = []
        for row in event_rows:
            if row.get("ExecutionId") != execution_id:
                break  # leftovers of an older, longer generation
            current.append(row)
        events = await asyncio.gather(*(self._event_from_row(row) for row in current))
        return LoadedHistory(list(events), etag, execution_id)

    async def _query_rows(self, instance_id: str, expected_execution_id: str | None) -> list[TableRow]:
        query_filter = f"PartitionKey eq {odata_literal(escape_key(instance_id))}"
        if expected_execution_id is not None:
            query_filter += (
                f" and (RowKey eq {odata_literal(SENTINEL_ROW_KEY)}"
                f" or ExecutionId eq {odata_literal(expected_execution_id)})"
            )
        rows = [row async for row in self._tables.query(self.table_name, query_filter)]
        return sorted(rows, key=lambda row: (row["RowKey"] == SENTINEL_ROW_KEY, row["RowKey"]))

    async def sentinel_etag(self, instance_id: str) -> str | None:
        """The sentinel row's ETag (one point read): what a history written since would have changed."""
        row = await self._tables.get(self.table_name, escape_key(instance_id), SENTINEL_ROW_KEY, select=["ExecutionId"])
        return row.etag if row is not None else None

    async def _event_from_row(self, row: TableRow) -> HistoryEvent:
        columns = dict(row.properties)
        for key in [key for key in columns if key.endswith(BLOB_NAME_SUFFIX)]:
            blob_name = columns.pop(key)
            if blob_name:
                columns[key[: -len(BLOB_NAME_SUFFIX)]] = await self._large_messages.download(blob_name)
        return event_from_columns(columns)

    async def append(
        self,
        instance_id: str,
        *,
        execution_id: str,
        start_index: int,
        events: Sequence[HistoryEvent],
        etag: str | None,
    ) -> str:
        """Write `events` as rows `start_index...` in batches of <= 99 rows + the sentinel; returns the new ETag.

        The first batch inserts the sentinel (etag None) or merges it If-Match
        `etag`; later batches chain the ETag each batch returns. Raises
        ConcurrencyConflictError (409/412) when another writer got there first;
        batches already committed by this call stay committed, as in DTFx.
        """
        replaces_history = start_index == 0 and etag is not None
        rows = [await self._row(instance_id, execution_id, start_index + offset, e) for offset, e in enumerate(events)]
        batches = _split_batches(rows)
        new_etag = ""
        for number, batch in enumerate(batches):
            is_last = number == len(batches) - 1
            new_etag = await self._commit_batch(instance_id, execution_id, batch, etag, is_last=is_last)
            etag = new_etag
        if replaces_history:  # continue-as-new or a replaced instance: the old generation's blobs are orphans now
            kept = {value for row in rows for key, value in row.items() if key.endswith(BLOB_NAME_SUFFIX)}
            # The Instances row's own offloaded values (`history--…`) are not history's: the row still names
            # them until the checkpoint's next step rewrites it (and forever, if the worker dies in between).
            prefix = f"{escape_key(instance_id)}/history-"
            await self._large_messages.delete_prefix(prefix, keep=kept, spare_prefix=f"{prefix}-")
        return new_etag

    async def _row(self, instance_id: str, execution_id: str, index: int, event: HistoryEvent) -> dict[str, Any]:
        row_key = f"{index:016X}"
        columns = event_columns(event)
        for column in LARGE_COLUMNS:
            if is_large(columns.get(column)):
                blob_name = TaskHubNames.history_blob(instance_id, row_key, event.event_type.name, column)
                await self._large_messages.upload(blob_name, columns[column])
                columns[column] = ""
                columns[column + BLOB_NAME_SUFFIX] = blob_name
        return {"PartitionKey": escape_key(instance_id), "RowKey": row_key, "ExecutionId": execution_id, **columns}

    async def _commit_batch(
        self, instance_id: str, execution_id: str, rows: list[dict[str, Any]], etag: str | None, *, is_last: bool
    ) -> str:
        """One entity-group transaction: the rows and the sentinel (inserted, or merged If-Match `etag`).

        The batch is retried like every request. If an attempt may have been
        applied and a later one then conflicts, the conflict may be our own
        write: the rows are read back and compared, and if they are ours the
        batch counts as committed (`_confirm_own_batch`).
        """
        sentinel: dict[str, Any] = {
            "PartitionKey": escape_key(instance_id),
            "RowKey": SENTINEL_ROW_KEY,
            "ExecutionId": execution_id,
            "IsCheckpointComplete": is_last,
        }
        if is_last:
            sentinel["CheckpointCompletedTimestamp"] = datetime.now(UTC)
        batch = [BatchOperation("upsert", row) for row in rows]
        batch.append(BatchOperation("create", sentinel) if etag is None else BatchOperation("merge", sentinel, etag))
        try:
            etags = await self._tables.batch(self.table_name, batch, operation="append history")
        except ConcurrencyConflictError as error:
            if not error.maybe_applied:
                raise
            confirmed = await self._confirm_own_batch(instance_id, rows, sentinel)
            if confirmed is None:
                raise
            return confirmed
        return str(etags[-1])

    async def _confirm_own_batch(
        self, instance_id: str, rows: list[dict[str, Any]], sentinel: dict[str, Any]
    ) -> str | None:
        """The sentinel's ETag if storage holds exactly this batch as the newest write, else None.

        Read back from the batch's first row on (one query): every row must be
        there as written, no row of this execution may follow them, and the
        sentinel must carry what this batch wrote into it.
        """
        first = rows[0]["RowKey"] if rows else SENTINEL_ROW_KEY
        query_filter = f"PartitionKey eq {odata_literal(escape_key(instance_id))} and RowKey ge {odata_literal(first)}"
        stored = {row["RowKey"]: row async for row in self._tables.query(self.table_name, query_filter)}
        written = {row["RowKey"] for row in rows}
        for row in rows:
            found = stored.get(row["RowKey"])
            if found is None or any(found.get(name) != value for name, value in row.items()):
                return None
        for key, found in stored.items():
            later = key != SENTINEL_ROW_KEY and key not in written
            if later and found.get("ExecutionId") == sentinel["ExecutionId"]:
                return None
        found_sentinel = stored.get(SENTINEL_ROW_KEY)
        if found_sentinel is None or any(found_sentinel.get(name) != value for name, value in sentinel.items()):
            return None
        return found_sentinel.etag

    async def delete(self, instance_id: str) -> int:
        """Delete every row (batches of <= 100) and the instance's large-message blobs; returns rows deleted."""
        partition = escape_key(instance_id)
        query_filter = f"PartitionKey eq {odata_literal(partition)}"
        rows = self._tables.query(self.table_name, query_filter, select=["PartitionKey", "RowKey"])
        keys = [{"PartitionKey": partition, "RowKey": row["RowKey"]} async for row in rows]
        for start in range(0, len(keys), 100):
            operations = [BatchOperation("delete", key) for key in keys[start : start + 100]]
            await self._tables.batch(self.table_name, operations, operation="delete history")
        prefixes = {f"{partition}/", f"{instance_id}/"}
        await asyncio.gather(*(self._large_messages.delete_prefix(prefix) for prefix in prefixes))
        return len(keys)


def _split_batches(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chunks of <= 99 rows and <= ~3 MB each; always at least one (possibly empty) chunk for the sentinel."""
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        row_size = _estimated_row_bytes(row)
        current = batches[-1]
        if current and (len(current) >= MAX_EVENTS_PER_BATCH or size + row_size > MAX_BATCH_ESTIMATED_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(row)
        size += row_size
    return batches
