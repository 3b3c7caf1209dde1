"""The transport seam: the runtime's storage requests, one interface that sends them, two implementations.

    request.py    StorageRequest / StorageResponse / Safety: what every storage call is
    client.py     StorageClient: sign, send, retry, count, translate: the one path of every request
    signing.py    Shared Key | SAS | bearer token
    retry.py      the one retry policy
    failures.py   the one error translator
    lean.py       the lean implementation: our keep-alive HTTP/1.1 client (http_pool.py)
    azure_core.py the SDK implementation: azure-core's aiohttp transport (proxies, CA bundles)
    choice.py     which implementation an account uses, chosen once

Above this seam, `queue_service.py`, `table_service.py` and `blob_service.py`
build the requests and read the answers, once, for both implementations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from durable_azure.azure_storage.transport.request import StorageResponse


class Transport(Protocol):
    """Sends one HTTP request and returns the whole answer, or raises `failures.TransportFailure`."""

    name: str
    """"lean" or "sdk": shown in the start-up log line and the benchmark."""

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float
    ) -> StorageResponse: ...

    async def close(self) -> None: ...
