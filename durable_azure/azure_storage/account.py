"""The storage account: SDK clients, retry policy, request counting and error translation.

This is the boundary with the Azure SDKs. Every client the provider uses is built
here from one StorageConnection (connection.py: Shared Key, SAS or an identity's
token), with one short retry policy (the SDK default waits 15-30 s, azurite-probe
G5) and one request hook that counts every HTTP request, retries included, so
benchmarks can print transactions per step.
`translate_storage_errors` turns azure.core exceptions into ours, so no SDK
exception leaves `azure_storage/`. Keys never appear in a repr, message or log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from durable_azure.azure_storage.connection import (
    SharedAccessSignature,
    SharedKey,
    StorageConnection,
    parse_connection_string,
)
from durable_azure.azure_storage.credentials import StorageTokenCredential, storage_token_credential
from durable_azure.azure_storage.queue_wire import QueueWire
from durable_azure.azure_storage.table_wire import TableBatchWire
from durable_azure.errors import (
    ConcurrencyConflictError,
    ConfigurationError,
    LeaseLostError,
    MessageGoneError,
    StorageError,
)

COUNTER_KEYS = (
    "queue.send",
    "queue.receive",
    "queue.delete",
    "queue.update",
    "table.query",
    "table.batch",
    "table.merge",
    "table.insert",
    "table.update",
    "table.delete",
    "table.get",
    "blob.upload",
    "blob.download",
    "blob.lease",
    "blob.list",
    "blob.delete",
    "other",
)
_LEASE_ERROR_CODES = frozenset(
    {
        "LeaseAlreadyPresent",
        "LeaseIdMismatchWithLeaseOperation",
        "LeaseIdMismatchWithBlobOperation",
        "LeaseIdMissing",
        "LeaseIsBrokenAndCannotBeRenewed",
        "LeaseIsBreakingAndCannotBeAcquired",
        "LeaseIsBreakingAndCannotBeChanged",
        "LeaseLost",
        "LeaseNotPresentWithLeaseOperation",
        "LeaseNotPresentWithBlobOperation",
    }
)
_MESSAGE_GONE_CODES = frozenset({"MessageNotFound", "PopReceiptMismatch"})
# Short retries: the SDK defaults wait 15-30 s (queue/blob) or retry 10 times (tables), azurite-probe G5.
# Queue and blob clients build their async ExponentialRetry from these keywords.
_STORAGE_RETRY: dict[str, Any] = {"initial_backoff": 0.5, "increment_base": 2, "retry_total": 3}
_TABLE_RETRY: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.2}


class RequestCounter:
    """Counts HTTP requests per kind; shared by every client of one StorageAccount."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)

    def reset(self) -> None:
        self._counts = dict.fromkeys(COUNTER_KEYS, 0)

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def record(self, service: str, method: str, url: str) -> None:
        key = _classify(service, method.upper(), url)
        self._counts[key] = self._counts.get(key, 0) + 1

    def hook(self, service: str) -> Any:
        """A `raw_request_hook` for one service; the SDKs call it per attempt, after their retry policy."""

        def on_request(pipeline_request: Any) -> None:
            request = pipeline_request.http_request
            self.record(service, request.method, request.url)

        return on_request


def _classify(service: str, method: str, url: str) -> str:
    parts = urlsplit(url)
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    if service == "queue":
        return _classify_queue(method, path, query)
    if service == "table":
        return _classify_table(method, path)
    return _classify_blob(method, query)


def _classify_queue(method: str, path: str, query: dict[str, str]) -> str:
    if path.endswith("/messages"):
        if method == "POST":
            return "queue.send"
        if method == "GET" and query.get("peekonly") != "true":
            return "queue.receive"
        return "other"
    if "/messages/" in path:
        return {"DELETE": "queue.delete", "PUT": "queue.update"}.get(method, "other")
    return "other"


def _classify_table(method: str, path: str) -> str:
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    if last_segment == "$batch":
        return "table.batch"
    if last_segment.startswith("Tables"):
        return "other"
    if "(" in last_segment and not last_segment.endswith("()"):
        return {
            "GET": "table.get",
            "PUT": "table.update",
            "PATCH": "table.merge",
            "MERGE": "table.merge",
            "DELETE": "table.delete",
        }.get(method, "other")
    return {"GET": "table.query", "POST": "table.insert"}.get(method, "other")


def _classify_blob(method: str, query: dict[str, str]) -> str:
    component = query.get("comp")
    if component == "lease":
        return "blob.lease"
    if query.get("restype") == "container":
        return "blob.list" if component == "list" else "other"
    if component is None:
        return {"PUT": "blob.upload", "GET": "blob.download", "DELETE": "blob.delete"}.get(method, "other")
    return "other"


class StorageAccount:
    """One storage account's queue, table and blob clients, sharing one RequestCounter.

    Each service client owns one aiohttp session; queue, table and container
    clients derived from it share that session. Use `async with` or `close()`.
    """

    def __init__(self, connection: StorageConnection) -> None:
        self.account_name = connection.account_name
        self.connection = connection
        self.counter = RequestCounter()
        credential = _sdk_credential(connection)
        self._token_credential = credential if isinstance(credential, StorageTokenCredential) else None
        self.queue_service = QueueServiceClient(
            connection.queue_endpoint,
            credential=credential,
            **_STORAGE_RETRY,
            raw_request_hook=self.counter.hook("queue"),
        )
        self.blob_service = BlobServiceClient(
            connection.blob_endpoint,
            credential=credential,
            **_STORAGE_RETRY,
            raw_request_hook=self.counter.hook("blob"),
        )
        self.table_service = TableServiceClient(
            connection.table_endpoint,
            credential=credential,
            **_TABLE_RETRY,
            raw_request_hook=self.counter.hook("table"),
        )
        shared_key = connection.credential if isinstance(connection.credential, SharedKey) else None
        self.queue_wire: QueueWire | None = None  # the lean queue path, when we can sign requests ourselves
        self.table_wire: TableBatchWire | None = None  # the lean entity-group transaction path
        if shared_key is not None:
            self.queue_wire = QueueWire(
                endpoint=self.queue_service.url,
                account_name=shared_key.account_name,
                account_key=shared_key.account_key,
                record=self.counter.record,
            )
            self.table_wire = TableBatchWire(
                endpoint=self.table_service.url,
                account_name=shared_key.account_name,
                account_key=shared_key.account_key,
                record=self.counter.record,
            )

    @classmethod
    def from_connection(cls, connection: StorageConnection) -> StorageAccount:
        """Clients for a parsed connection: Shared Key (and development storage), SAS, or an identity's token.

        An identity-based connection needs https endpoints: the SDKs refuse to send a token over http.
        """
        return cls(connection)

    @classmethod
    def from_connection_string(cls, connection_string: str) -> StorageAccount:
        """Accepts `UseDevelopmentStorage=true` (Azurite on 127.0.0.1:10000-10002) and full connection strings."""
        return cls.from_connection(parse_connection_string(connection_string))

    async def close(self) -> None:
        if self.queue_wire is not None:
            await self.queue_wire.close()
        if self.table_wire is not None:
            await self.table_wire.close()
        await self.queue_service.close()
        await self.blob_service.close()
        await self.table_service.close()
        if self._token_credential is not None:
            await self._token_credential.close()

    async def __aenter__(self) -> StorageAccount:
        return self

    async def __aexit__(
        self, error_type: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"StorageAccount(account_name={self.account_name!r}, queue_endpoint={self.queue_service.url!r})"


def _sdk_credential(connection: StorageConnection) -> Any:
    credential = connection.credential
    if isinstance(credential, SharedKey):
        return AzureNamedKeyCredential(credential.account_name, credential.account_key)
    if isinstance(credential, SharedAccessSignature):
        return AzureSasCredential(credential.token)
    insecure = [url for url in connection.endpoints if urlsplit(url).scheme.lower() != "https"]
    if insecure:  # the SDKs refuse it too, and a token must never cross the wire in clear
        raise ConfigurationError(
            f"{connection.source}: an identity-based connection needs https endpoints, not {insecure[0]}"
        )
    return storage_token_credential(credential)


def storage_error_code(error: AzureError) -> str | None:
    """The service's error code; some SDK errors carry it only in the response header (probe G5)."""
    code = getattr(error, "error_code", None)
    if code:
        return str(getattr(code, "value", code))  # storage SDKs give a StorageErrorCode enum
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "headers", None) is not None:
        return response.headers.get("x-ms-error-code")
    return None


def storage_status_code(error: AzureError) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if status is not None else None


@contextlib.contextmanager
def translate_storage_errors(operation: str, **context: Any) -> Iterator[None]:
    """Raise our StorageError family, chained, for any azure.core exception in the block.

    Lease codes -> LeaseLostError; MessageNotFound / PopReceiptMismatch ->
    MessageGoneError; other 409/412 -> ConcurrencyConflictError; else StorageError.
    """
    try:
        yield
    except AzureError as error:
        _raise_translated(operation, context, error)


def _raise_translated(operation: str, context: dict[str, Any], error: AzureError) -> NoReturn:
    status = storage_status_code(error)
    code = storage_error_code(error)
    details = "".join(f", {key}={value!r}" for key, value in context.items())
    message = f"{operation} failed (HTTP {status}, {code}{details})"
    error_class: type[StorageError] = StorageError
    if code in _LEASE_ERROR_CODES:
        error_class = LeaseLostError
    elif code in _MESSAGE_GONE_CODES or (status == 404 and "message" in operation):
        error_class = MessageGoneError
    elif status in (409, 412):
        error_class = ConcurrencyConflictError
    elif not isinstance(error, HttpResponseError):
        message = f"{operation} failed ({type(error).__name__}{details})"
    raise error_class(message) from error
