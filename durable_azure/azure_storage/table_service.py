"""Table service requests (REST API "Table Service"): tables, point reads, queries, writes, entity-group batches.

Every request the provider makes of a table is built here and sent by the
account's StorageClient. JSON with `minimalmetadata` both ways; property
typing in table_entities.py. A history checkpoint is one `$batch`
(batches.py builds and reads its multipart body).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage.batches import BatchOperation, batch_body, batch_results
from durable_azure.azure_storage.table_entities import TableRow, decode_entity, encode_entity
from durable_azure.azure_storage.transport.client import StorageClient
from durable_azure.azure_storage.transport.request import (
    Safety,
    Service,
    StorageRequest,
    StorageResponse,
    encode_path_segment,
)

_JSON_HEADERS = {
    "Accept": "application/json;odata=minimalmetadata",
    "DataServiceVersion": "3.0",
    "MaxDataServiceVersion": "3.0;NetFx",
}
_WRITE_HEADERS = {**_JSON_HEADERS, "Content-Type": "application/json"}
_NO_CONTENT = {**_WRITE_HEADERS, "Prefer": "return-no-content"}
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class TablePage:
    rows: list[TableRow]
    continuation: dict[str, str] | None
    """`{"PartitionKey": ..., "RowKey": ...}` of the next page, or None on the last."""


def entity_path(table: str, partition_key: str, row_key: str) -> str:
    """`/Table(PartitionKey='...',RowKey='...')`: quotes doubled (OData), then percent-encoded."""
    keys = [encode_path_segment(key.replace("'", "''")) for key in (partition_key, row_key)]
    return f"/{table}(PartitionKey='{keys[0]}',RowKey='{keys[1]}')"


class TableService:
    def __init__(self, client: StorageClient) -> None:
        self._client = client

    @property
    def endpoint(self) -> str:
        return self._client.endpoint(Service.TABLE)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        operation: str,
        table: str,
        safety: Safety,
        success: frozenset[int],
        headers: Mapping[str, str] = _JSON_HEADERS,
        query: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> StorageResponse:
        request = StorageRequest(
            service=Service.TABLE,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            kind=kind,
            operation=operation,
            context=f"table={table!r}",
            safety=safety,
            success=success,
        )
        return await self._client.send(request)

    async def create_table(self, table: str) -> None:
        """Create the table; one that exists is fine."""
        body = json.dumps({"TableName": table}).encode()
        await self._send(
            "POST",
            "/Tables",
            kind="other",
            operation="create table",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({201, 204, 409}),
            headers=_NO_CONTENT,
            body=body,
        )

    async def delete_table(self, table: str) -> None:
        """Delete the table; one that is gone is fine."""
        await self._send(
            "DELETE",
            f"/Tables('{encode_path_segment(table)}')",
            kind="other",
            operation="delete table",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({204, 404}),
        )

    async def get(
        self, table: str, partition_key: str, row_key: str, *, select: Sequence[str] | None = None
    ) -> TableRow | None:
        """One point read; None when the row does not exist."""
        query = (("$select", ",".join(select)),) if select else ()
        response = await self._send(
            "GET",
            entity_path(table, partition_key, row_key),
            kind="table.get",
            operation="get entity",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({200, 404}),
            query=query,
        )
        if response.status == 404:
            return None
        row = decode_entity(json.loads(response.body))
        etag = response.header("etag")
        return TableRow(properties=row.properties, etag=etag or row.etag, timestamp=row.timestamp)

    async def query_page(
        self,
        table: str,
        query_filter: str | None = None,
        *,
        select: Sequence[str] | None = None,
        page_size: int | None = None,
        continuation: Mapping[str, str] | None = None,
    ) -> TablePage:
        """One query request: up to `page_size` (at most 1,000) rows, and where the next page starts."""
        query: list[tuple[str, str]] = []
        if query_filter:
            query.append(("$filter", query_filter))
        if select:
            query.append(("$select", ",".join(select)))
        if page_size:
            query.append(("$top", str(min(page_size, MAX_PAGE_SIZE))))
        if continuation:
            query.append(("NextPartitionKey", continuation["PartitionKey"]))
            if continuation.get("RowKey"):
                query.append(("NextRowKey", continuation["RowKey"]))
        response = await self._send(
            "GET",
            f"/{table}()",
            kind="table.query",
            operation="query entities",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({200}),
            query=tuple(query),
        )
        rows = [decode_entity(member) for member in json.loads(response.body).get("value", [])]
        next_partition = response.header("x-ms-continuation-nextpartitionkey")
        next_page = None
        if next_partition:
            next_page = {
                "PartitionKey": next_partition,
                "RowKey": response.header("x-ms-continuation-nextrowkey") or "",
            }
        return TablePage(rows, next_page)

    async def query(
        self, table: str, query_filter: str | None = None, *, select: Sequence[str] | None = None
    ) -> AsyncIterator[TableRow]:
        """Every matching row, page after page (one request each)."""
        continuation: Mapping[str, str] | None = None
        while True:
            page = await self.query_page(table, query_filter, select=select, continuation=continuation)
            for row in page.rows:
                yield row
            if page.continuation is None:
                return
            continuation = page.continuation

    async def insert(self, table: str, entity: Mapping[str, Any]) -> str:
        """Insert; ConcurrencyConflictError (409, `maybe_applied` after an ambiguous attempt) if the row exists."""
        response = await self._send(
            "POST",
            f"/{table}",
            kind="table.insert",
            operation="insert entity",
            table=table,
            safety=Safety.CONDITIONAL,
            success=frozenset({201, 204}),
            headers=_NO_CONTENT,
            body=json.dumps(encode_entity(entity), ensure_ascii=False).encode(),
        )
        return response.header("etag") or ""

    async def upsert(self, table: str, entity: Mapping[str, Any], *, merge: bool) -> str:
        """Insert or replace (merge=False) / insert or merge (merge=True): idempotent."""
        response = await self._send(
            "PATCH" if merge else "PUT",
            entity_path(table, entity["PartitionKey"], entity["RowKey"]),
            kind="table.merge" if merge else "table.update",
            operation="upsert entity",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({204}),
            headers=_WRITE_HEADERS,
            body=json.dumps(encode_entity(entity), ensure_ascii=False).encode(),
        )
        return response.header("etag") or ""

    async def update(self, table: str, entity: Mapping[str, Any], *, etag: str, merge: bool = False) -> str:
        """Replace (or merge) If-Match `etag`; ConcurrencyConflictError when the row changed (412) or is gone."""
        response = await self._send(
            "PATCH" if merge else "PUT",
            entity_path(table, entity["PartitionKey"], entity["RowKey"]),
            kind="table.merge" if merge else "table.update",
            operation="update entity",
            table=table,
            safety=Safety.CONDITIONAL,
            success=frozenset({204}),
            headers={**_WRITE_HEADERS, "If-Match": etag},
            body=json.dumps(encode_entity(entity), ensure_ascii=False).encode(),
        )
        return response.header("etag") or ""

    async def delete(self, table: str, partition_key: str, row_key: str, *, etag: str = "*") -> bool:
        """Delete the row; True if it was there (a 404 after an ambiguous attempt was our own delete)."""
        response = await self._send(
            "DELETE",
            entity_path(table, partition_key, row_key),
            kind="table.delete",
            operation="delete entity",
            table=table,
            safety=Safety.IDEMPOTENT,
            success=frozenset({204, 404}),
            headers={**_JSON_HEADERS, "If-Match": etag},
        )
        return response.status == 204 or response.after_ambiguous

    async def batch(self, table: str, operations: Sequence[BatchOperation], *, operation: str) -> list[str | None]:
        """One entity-group transaction (`$batch`): all apply or none; returns each operation's new ETag.

        A 409/412 from any operation is ConcurrencyConflictError, with
        `maybe_applied` when an earlier attempt of this batch may have been
        applied, so the caller can check whether the conflict is its own write.
        """
        body, content_type = batch_body(self.endpoint, table, operations)
        response = await self._send(
            "POST",
            "/$batch",
            kind="table.batch",
            operation=operation,
            table=table,
            safety=Safety.CONDITIONAL,
            success=frozenset({202}),
            headers={**_JSON_HEADERS, "Content-Type": content_type, "Accept": "application/json"},
            body=body,
        )
        return batch_results(response, operation=operation, table=table, count=len(operations))
