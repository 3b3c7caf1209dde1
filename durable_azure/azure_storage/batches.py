"""Entity-group transactions (`$batch`): the multipart request body, and each operation's outcome.

A history checkpoint is one batch per episode. azure-data-tables builds the
multipart body with Python's `email` package and parses the reply the same
way, about 20 ms of client CPU per batch; this module writes the OData batch
format directly and reads back only what a checkpoint needs (each operation's
status and ETag), for about a tenth of that. Properties are typed by
table_entities.py, so rows are what the SDK writes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage.table_entities import encode_entity
from durable_azure.azure_storage.transport.failures import error_code
from durable_azure.azure_storage.transport.request import StorageResponse, encode_path_segment
from durable_azure.errors import ConcurrencyConflictError, StorageError

_STATUS_LINE = re.compile(rb"^HTTP/1\.1 (\d{3})", re.MULTILINE)
_ETAG_HEADER = re.compile(rb"^ETag: (.+?)\r?$", re.MULTILINE | re.IGNORECASE)
_CHANGESET_SEPARATOR = re.compile(rb"--changesetresponse_[^\r\n]*")
MAX_BATCH_OPERATIONS = 100


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """`upsert` = insert or replace; `upsert_merge` = insert or merge; `create` = insert (409 if present);
    `merge` / `replace` = If-Match `etag`; `delete` = delete If-Match `etag` (default any)."""

    kind: str
    entity: Mapping[str, Any]
    etag: str | None = None


def batch_body(endpoint: str, table: str, operations: Sequence[BatchOperation]) -> tuple[bytes, str]:
    """The multipart body and its Content-Type."""
    if not 1 <= len(operations) <= MAX_BATCH_OPERATIONS:
        raise ValueError(f"a table batch holds 1-{MAX_BATCH_OPERATIONS} operations, not {len(operations)}")
    batch_boundary, changeset_boundary = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    parts = [f"--{batch_boundary}\r\nContent-Type: multipart/mixed; boundary={changeset_boundary}\r\n\r\n"]
    for operation in operations:
        parts.append(f"--{changeset_boundary}\r\n" + _operation_part(endpoint, table, operation))
    parts.append(f"--{changeset_boundary}--\r\n--{batch_boundary}--\r\n")
    return "".join(parts).encode("utf-8"), f"multipart/mixed; boundary={batch_boundary}"


def _operation_part(endpoint: str, table: str, operation: BatchOperation) -> str:
    entity = operation.entity
    key = f"(PartitionKey='{_key(entity['PartitionKey'])}',RowKey='{_key(entity['RowKey'])}')"
    extra = ""
    payload = ""
    if operation.kind == "create":
        method, url, extra = "POST", f"{endpoint}/{table}", "Prefer: return-no-content\r\n"
    elif operation.kind == "upsert":
        method, url = "PUT", f"{endpoint}/{table}{key}"
    elif operation.kind == "upsert_merge":
        method, url = "PATCH", f"{endpoint}/{table}{key}"
    elif operation.kind == "replace":
        method, url, extra = "PUT", f"{endpoint}/{table}{key}", f"If-Match: {operation.etag}\r\n"
    elif operation.kind == "merge":
        method, url, extra = "PATCH", f"{endpoint}/{table}{key}", f"If-Match: {operation.etag}\r\n"
    elif operation.kind == "delete":
        method, url, extra = "DELETE", f"{endpoint}/{table}{key}", f"If-Match: {operation.etag or '*'}\r\n"
    else:
        raise ValueError(f"unknown batch operation {operation.kind!r}")
    if operation.kind != "delete":
        payload = json.dumps(encode_entity(entity), ensure_ascii=False)
    length = len(payload.encode("utf-8"))
    return (
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"{method} {url} HTTP/1.1\r\n"
        "Content-Type: application/json\r\nAccept: application/json;odata=minimalmetadata\r\n"
        f"DataServiceVersion: 3.0\r\n{extra}Content-Length: {length}\r\n\r\n{payload}\r\n"
    )


def _key(value: str) -> str:
    return encode_path_segment(value.replace("'", "''"))


def batch_results(response: StorageResponse, *, operation: str, table: str, count: int) -> list[str | None]:
    """Each operation's new ETag, in order; a failed changeset answers with one error sub-response."""
    chunks = [chunk for chunk in _CHANGESET_SEPARATOR.split(response.body) if _STATUS_LINE.search(chunk)]
    for chunk in chunks:
        match = _STATUS_LINE.search(chunk)
        assert match is not None
        status = int(match.group(1))
        if not 200 <= status < 300:
            raise _operation_error(operation, table, status, chunk, maybe_applied=response.after_ambiguous)
    if len(chunks) != count:
        raise StorageError(f"{operation} failed: {len(chunks)} replies to {count} operations (table={table!r})")
    etags: list[str | None] = []
    for chunk in chunks:
        match = _ETAG_HEADER.search(chunk)
        etags.append(match.group(1).decode().strip() if match else None)
    return etags


def _operation_error(operation: str, table: str, status: int, chunk: bytes, *, maybe_applied: bool) -> StorageError:
    body = chunk[chunk.find(b"{") :] if b"{" in chunk else b""
    code = error_code(StorageResponse(status, {}, body))
    message = f"{operation} failed (HTTP {status} {code or ''}".rstrip() + f", table={table!r})"
    # 404: a row the batch merges or replaces If-Match is gone (another writer deleted it, or storage lost
    # it): like 412, the caller's view of the rows is out of date.
    error_class = ConcurrencyConflictError if status in (404, 409, 412) else StorageError
    return error_class(message, status=status, code=code, maybe_applied=maybe_applied)
