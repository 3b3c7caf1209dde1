"""What every management-API handler shares: the host's services, the request's client, JSON replies.

Kept apart from the handlers so the instance routes (management_api.py) and the entity routes
(entity_api.py) both build on it without importing each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from durable_azure import serialization
from durable_azure.client import DurableOrchestrationClient
from durable_azure.functions.keys import HostKeys
from durable_azure.functions.management_payloads import QueryParameters
from durable_azure.functions.urls import DEFAULT_CONNECTION_NAME, ManagementUrls

CONTINUATION_HEADER = "x-ms-continuation-token"
NO_CONTINUATION = "null"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

ClientFactory = Callable[[str | None, str | None], Awaitable[DurableOrchestrationClient]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagementServices:
    """What the API needs from the host, fixed at start-up."""

    client_for: ClientFactory
    """(taskHub, connection) from the query string -> a client; (None, None) is the app's own hub."""
    urls: ManagementUrls
    """For the app's own hub; other hubs get a copy with their name and connection."""
    keys: HostKeys
    orchestrator_names: frozenset[str]
    entity_names: frozenset[str] = frozenset()
    """The app's entity functions, lower-cased (entity names compare without case)."""
    requires_key: bool = True
    """False on the loopback RPC listener, which, as the extension's, takes no key."""
    links_from_request: bool = True
    """Check-status links use the request's scheme and host (the public API); False: always `urls.base_url`."""
    unwraps_sdk_json: bool = False
    """Bodies come from the official Python client, which posts JSON text as a JSON string literal."""
    unwraps_sdk_entity_json: bool = False
    """Entity operation bodies come from the official Python client (the RPC listener): decoded once more on
    both paths, since the stored operation input is encoded twice either way (the extension's form)."""
    unmodified_app: bool = False
    """The app runs unchanged on azure.durable_functions: its orchestrators decode the official client's
    double-encoded inputs and event data themselves, so those are stored as received, as the extension does."""

    def for_rpc(self) -> ManagementServices:
        """The same services as the local RPC listener sees them: without a key, and (for our orchestrators,
        which decode once) with the official client's second JSON layer removed before anything is stored."""
        return dataclasses.replace(
            self,
            requires_key=False,
            links_from_request=False,
            unwraps_sdk_json=not self.unmodified_app,
            unwraps_sdk_entity_json=True,
        )


SERVICES = web.AppKey("management_services", ManagementServices)


async def request_client(request: web.Request) -> tuple[DurableOrchestrationClient, ManagementUrls]:
    """The client and the URL builder for the request's `taskHub` and `connection` (default: the app's)."""
    services = request.app[SERVICES]
    query = QueryParameters(request.query)
    task_hub, connection = query.text("taskHub"), query.text("connection")
    client = await services.client_for(task_hub, connection)
    urls = dataclasses.replace(
        services.urls,
        task_hub=client.task_hub_name,
        connection_name=connection or services.urls.connection_name or DEFAULT_CONNECTION_NAME,
    )
    return client, urls


def is_own_hub(request: web.Request, client: DurableOrchestrationClient) -> bool:
    """Whether the request addresses the app's own task hub (the app's function names apply only there)."""
    services = request.app[SERVICES]
    connection = QueryParameters(request.query).text("connection")
    same_connection = connection is None or connection == services.urls.connection_name
    return same_connection and client.task_hub_name.lower() == services.urls.task_hub.lower()


def json_response(body: Any, *, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """Inputs, outputs, custom statuses and entity states hold the app's values as the client decoded them; a
    custom object goes back into the Durable Functions envelope it was stored in, as the extension shows it."""
    return web.json_response(body, status=status, headers=headers, dumps=serialization.dumps)
