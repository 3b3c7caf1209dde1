"""The client's three HTTP helpers: the check-status payload and responses of azure.durable_functions.

`create_check_status_response`, `create_http_management_payload` and
`wait_for_completion_or_create_check_status_response` behave as in the official SDK (df-python-api.md §6.2):
202 with the payload, `Location` = statusQueryGetUri and `Retry-After: 10`; links use the triggering request's
scheme and host. The URLs come from the `management` links the host attaches to the client it hands a
function, because only the host knows its address, task hub query and system key.

Client layer: this module must not import `durable_azure.functions` (the links are any object with the
`payload(instance_id, *, origin=None)` method of `functions.urls.ManagementUrls`).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Protocol

import azure.functions as func

from durable_azure import serialization
from durable_azure.errors import ConfigurationError
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

JSON_CONTENT_TYPE = "application/json"
CHECK_STATUS_RETRY_AFTER_SECONDS = 10
"""What the extension puts in `Retry-After` of a check-status response."""


class ManagementLinks(Protocol):
    """Builds the management URLs of an instance; `functions.urls.ManagementUrls` is the implementation."""

    @property
    def connection_name(self) -> str:
        """The connection the URLs name (`connection=`), which a binding's JSON carries too."""
        ...

    def payload(self, instance_id: str, *, origin: str | None = None) -> dict[str, str]: ...


class HttpPayloadsMixin:
    """The HTTP helpers of DurableOrchestrationClient; they need `management` links and `get_status`."""

    management: ManagementLinks | None
    get_status: Callable[..., Awaitable[DurableOrchestrationStatus | None]]

    def create_http_management_payload(self, instance_id: str) -> dict[str, str]:
        """`id` and the eight management URLs of `instance_id`, addressed at the host's own URL."""
        return self.get_client_response_links(None, instance_id)

    def get_client_response_links(self, request: func.HttpRequest | None, instance_id: str) -> dict[str, str]:
        """`id` and the management URLs of `instance_id`; with a `request`, on that request's scheme and host."""
        return self._links().payload(instance_id, origin=_request_origin(request) if request is not None else None)

    def create_check_status_response(self, request: func.HttpRequest, instance_id: str) -> func.HttpResponse:
        """202 with the management payload, `Location` = statusQueryGetUri, `Retry-After: 10`.

        Links use the scheme and host of `request`, so a caller behind a proxy or on `localhost` can follow
        them.
        """
        payload = self.get_client_response_links(request, instance_id)
        return func.HttpResponse(
            json.dumps(payload),
            status_code=202,
            mimetype=JSON_CONTENT_TYPE,
            headers={"Location": payload["statusQueryGetUri"], "Retry-After": str(CHECK_STATUS_RETRY_AFTER_SECONDS)},
        )

    async def wait_for_completion_or_create_check_status_response(
        self,
        request: func.HttpRequest,
        instance_id: str,
        timeout_in_milliseconds: int = 10000,
        retry_interval_in_milliseconds: int = 1000,
    ) -> func.HttpResponse:
        """Wait up to the timeout for the instance to finish, then answer as the official SDK does.

        Completed: 200 with the output as JSON. Terminated or Canceled: 200 with the status JSON. Failed: 500
        with the status JSON. Still running (or not created yet) at the timeout: the check-status response.
        Raises ConfigurationError when the retry interval is longer than the timeout.
        """
        if retry_interval_in_milliseconds > timeout_in_milliseconds:
            raise ConfigurationError(
                f"total timeout {timeout_in_milliseconds} (ms) should be bigger than "
                f"retry timeout {retry_interval_in_milliseconds} (ms)"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_in_milliseconds / 1000
        while True:
            status = await self.get_status(instance_id)
            response = _finished_response(status)
            if response is not None:
                return response
            remaining = deadline - loop.time()
            if remaining <= 0:
                return self.create_check_status_response(request, instance_id)
            await asyncio.sleep(min(retry_interval_in_milliseconds / 1000, remaining))

    def _links(self) -> ManagementLinks:
        if self.management is None:
            raise ConfigurationError(
                "this client has no HTTP management URLs: only a client from a durableClient binding of a running "
                "host (durable-azure start) can build check-status responses"
            )
        return self.management


def _finished_response(status: DurableOrchestrationStatus | None) -> func.HttpResponse | None:
    if not status or status.runtime_status is None:
        return None
    if status.runtime_status == OrchestrationRuntimeStatus.Completed:
        return _json_response(serialization.dumps(status.output), 200)
    if status.runtime_status in (OrchestrationRuntimeStatus.Terminated, OrchestrationRuntimeStatus.Canceled):
        return _json_response(json.dumps(status.to_json()), 200)
    if status.runtime_status == OrchestrationRuntimeStatus.Failed:
        return _json_response(json.dumps(status.to_json()), 500)
    return None


def _json_response(body: str, status_code: int) -> func.HttpResponse:
    return func.HttpResponse(body, status_code=status_code, mimetype=JSON_CONTENT_TYPE)


def _request_origin(request: func.HttpRequest) -> str | None:
    """The request URL: ManagementUrls keeps only its scheme and host. None for a request without a URL."""
    return request.url or None
