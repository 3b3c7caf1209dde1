"""StorageClient: the one path of every storage request: sign, send, count, retry, translate.

Each attempt is stamped (`x-ms-date`, `x-ms-version`), signed by the account's
signer, counted, and sent through the account's transport (lean or SDK). A
failure the policy retries (retry.py) waits and goes again; the rest, and the
last failure, become our errors (failures.py). Whether an earlier attempt may
have been applied travels with the error, so callers of conditional writes
and visibility updates can tell their own earlier success from someone
else's change (see `request.Safety`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate
from urllib.parse import quote, urlsplit

from durable_azure.azure_storage.transport import Transport
from durable_azure.azure_storage.transport.counter import RequestCounter
from durable_azure.azure_storage.transport.failures import (
    TransportFailure,
    error_code,
    error_for_failure,
    error_for_response,
)
from durable_azure.azure_storage.transport.request import Service, StorageRequest, StorageResponse
from durable_azure.azure_storage.transport.retry import (
    RetrySettings,
    is_retriable,
    may_have_applied,
    retry_after_seconds,
)
from durable_azure.azure_storage.transport.signing import Signer

logger = logging.getLogger(__name__)

API_VERSIONS = {Service.BLOB: "2021-12-02", Service.QUEUE: "2021-12-02", Service.TABLE: "2019-02-02"}
USER_AGENT = "durable-azure/0.1"


class StorageClient:
    """Sends `StorageRequest`s to one account's three service endpoints."""

    def __init__(
        self,
        *,
        endpoints: Mapping[Service, str],
        signer: Signer,
        transport: Transport,
        retry: RetrySettings,
        counter: RequestCounter,
        credential_description: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._endpoints = {service: url.rstrip("/") for service, url in endpoints.items()}
        self._origins: dict[Service, str] = {}
        self._base_paths: dict[Service, str] = {}
        for service, url in self._endpoints.items():
            parts = urlsplit(url)
            self._origins[service] = f"{parts.scheme}://{parts.netloc}"
            self._base_paths[service] = parts.path.rstrip("/")
        self._signer = signer
        self.transport = transport
        self.retry = retry
        self.counter = counter
        self._credential_description = credential_description
        self._sleep = sleep
        self._date_second = -1
        self._date = ""

    def __repr__(self) -> str:
        return f"StorageClient(transport={self.transport.name!r}, signer={self._signer.kind!r})"

    def endpoint(self, service: Service) -> str:
        """The service endpoint, e.g. `https://acct.queue.core.windows.net` (never carries a credential)."""
        return self._endpoints[service]

    async def close(self) -> None:
        await self.transport.close()

    async def send(self, request: StorageRequest) -> StorageResponse:
        """The first answer in `request.success`; else the translated error of the last attempt."""
        attempts = 0
        maybe_applied = False
        while True:
            attempts += 1
            if attempts > 1:
                self.counter.record_retry(request.kind, after_ambiguous=maybe_applied)
            try:
                response = await self._attempt(request)
            except TransportFailure as failure:
                maybe_applied = maybe_applied or failure.is_sent
                if attempts >= self.retry.max_attempts:
                    raise error_for_failure(
                        request, failure, maybe_applied=maybe_applied, attempts=attempts
                    ) from failure
                _log_retry(request, attempts, str(failure))
                await self._sleep(self.retry.delay(attempts, None))
                continue
            if response.status in request.success:
                return dataclasses.replace(response, after_ambiguous=True) if maybe_applied else response
            code = error_code(response)
            retriable = is_retriable(response)
            if retriable:
                maybe_applied = maybe_applied or may_have_applied(response, code)
            if retriable and attempts < self.retry.max_attempts:
                _log_retry(request, attempts, f"HTTP {response.status} {code or ''}".rstrip())
                await self._sleep(self.retry.delay(attempts, retry_after_seconds(response)))
                continue
            raise error_for_response(
                request,
                response,
                maybe_applied=maybe_applied,
                credential=self._credential_description,
                attempts=attempts,
            )

    async def _attempt(self, request: StorageRequest) -> StorageResponse:
        service = request.service
        url_path = self._base_paths[service] + request.path
        query = list(request.query)
        headers = dict(request.headers)
        headers["x-ms-date"] = self._now()
        headers["x-ms-version"] = API_VERSIONS[service]
        headers["User-Agent"] = USER_AGENT
        if request.body or request.method in ("PUT", "POST", "PATCH", "MERGE"):
            headers["Content-Length"] = str(len(request.body))
        await self._signer.sign(service, request.method, url_path, query, headers)
        url = self._origins[service] + url_path
        if query:
            url += "?" + "&".join(f"{quote(name, safe='$')}={quote(value, safe='')}" for name, value in query)
        self.counter.record(request.kind)
        return await self.transport.send(request.method, url, headers, request.body, timeout=self.retry.request_timeout)

    def _now(self) -> str:
        """The x-ms-date header: RFC 1123, formatted once per second rather than once per request."""
        second = int(time.time())
        if second != self._date_second:
            self._date_second, self._date = second, formatdate(second, usegmt=True)
        return self._date


def _log_retry(request: StorageRequest, attempts: int, reason: str) -> None:
    """Retries are routine under throttling (debug); a request on its third attempt says so once (warning)."""
    level = logging.WARNING if attempts == 2 else logging.DEBUG
    logger.log(
        level,
        "storage.retrying operation=%s%s attempt=%d reason=%s",
        request.operation,
        _context(request),
        attempts + 1,
        reason,
    )


def _context(request: StorageRequest) -> str:
    return f" {request.context}" if request.context else ""
