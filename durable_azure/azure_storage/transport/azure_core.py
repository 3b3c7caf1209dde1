"""The SDK transport: storage requests through azure-core's aiohttp transport, the HTTP layer of the SDKs.

It is what the Azure SDKs send with, so it reaches storage wherever they do:
through `HTTPS_PROXY`/`HTTP_PROXY` (minus `NO_PROXY`), with a CA bundle
(`REQUESTS_CA_BUNDLE`, passed as `connection_verify`). It costs several
times the lean transport's CPU per request, so an account uses it only when
it needs it or is told to (choice.py). Signing, retries and error
translation are not the SDK's: they are the same as on the lean transport
(client.py); this module only moves bytes and says how a request failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import aiohttp
from azure.core.exceptions import AzureError, ServiceRequestError
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest

from durable_azure.azure_storage.transport.failures import TransportFailure
from durable_azure.azure_storage.transport.request import StorageResponse

CONNECT_TIMEOUT_SECONDS = 10.0


class AzureCoreTransport:
    name = "sdk"

    def __init__(self, *, ca_bundle: str | None = None) -> None:
        self._ca_bundle = ca_bundle
        self._transport: AioHttpTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return "AzureCoreTransport()"

    async def _open(self) -> AioHttpTransport:
        """One aiohttp session per event loop (a new test or a restarted host gets a new one)."""
        loop = asyncio.get_running_loop()
        if self._transport is None or loop is not self._loop:
            if self._transport is not None and self._loop is not None and not self._loop.is_closed():
                await self._close_quietly()
            verify: bool | str = self._ca_bundle or True
            self._transport = AioHttpTransport(connection_verify=verify, use_env_settings=True)
            await self._transport.open()
            self._loop = loop
        return self._transport

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float
    ) -> StorageResponse:
        transport = await self._open()
        request = HttpRequest(method, url, headers=dict(headers), content=body or None)
        try:
            response = await transport.send(
                request, stream=False, connection_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout), read_timeout=timeout
            )
            content = response.content  # read whole by the transport (stream=False)
        except ServiceRequestError as error:
            raise TransportFailure(_reason(error), is_sent=not _is_connect_failure(error)) from error
        except (AzureError, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TransportFailure(_reason(error), is_sent=True) from error
        return StorageResponse(
            response.status_code, {name.lower(): value for name, value in response.headers.items()}, content
        )

    async def close(self) -> None:
        await self._close_quietly()
        self._transport = None

    async def _close_quietly(self) -> None:
        if self._transport is not None:
            with contextlib.suppress(RuntimeError):  # its loop is gone: nothing is left to close
                await self._transport.close()


def _is_connect_failure(error: ServiceRequestError) -> bool:
    inner = getattr(error, "inner_exception", None) or error.__cause__
    return isinstance(inner, aiohttp.ClientConnectorError)


def _reason(error: BaseException) -> str:
    """The failure without its URL: an SDK message may quote the request URL, and a SAS lives in its query."""
    text = str(getattr(error, "message", None) or error) or type(error).__name__
    return text.split("?", 1)[0]
