"""The extension's HTTP management API, at `/runtime/webhooks/durabletask`, on our client.

Paths, query parameters, status codes, headers and bodies are the extension's (df-python-api.md §8):

    POST   orchestrators/{functionName}[/{instanceId}]   start (202 check-status; waits with timeout+pollingInterval)
    GET    instances                                     list one page (x-ms-continuation-token both ways)
    DELETE instances                                     purge by filter (createdTimeFrom required)
    GET    instances/{id}                                status: 202 while active, 200 when done, 404 unknown
    DELETE instances/{id}                                purge one
    POST   instances/{id}/raiseEvent/{eventName}         202 / 404 / 410
    POST   instances/{id}/{terminate|suspend|resume|rewind|restart}
    GET|POST|DELETE entities/...                         entity_api.py: read, signal, delete, list

Every request needs the master key or the durabletask_extension system key (`code` or `x-functions-key`);
a wrong or missing key gets 401 before anything else is looked at. Errors map to status codes through
`http_errors.ERROR_STATUS` only. Unknown paths and wrong methods get 404, as from the extension.

The local RPC listener (rpc_listener.py) serves this same application on loopback, as the extension's
LocalHttpListener serves its HttpApiHandler: `ManagementServices.for_rpc` needs no key, points check-status
links at the public API rather than at the loopback port, and reads start inputs and event data posted by
the official Python client in its encoding (`management_payloads.unwrap_sdk_json`); other clients' bodies
are read as plain JSON there too, as everywhere on the public API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from durable_azure.client import DurableOrchestrationClient
from durable_azure.functions.entity_api import add_entity_routes
from durable_azure.functions.http_errors import (
    UNEXPECTED_ERROR_MESSAGE,
    BadRequestError,
    error_response,
    response_for_error,
    unauthorized_response,
)
from durable_azure.functions.keys import KEY_HEADER, KEY_QUERY_PARAMETER, AuthLevel
from durable_azure.functions.management_payloads import (
    QueryParameters,
    is_official_sdk_request,
    parse_json_body,
    status_body,
    unwrap_sdk_json,
)
from durable_azure.functions.management_services import (
    CONTINUATION_HEADER,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NO_CONTINUATION,
    SERVICES,
    ManagementServices,
    json_response,
    request_client,
)
from durable_azure.functions.urls import ManagementUrls
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus

logger = logging.getLogger(__name__)

CHECK_STATUS_RETRY_AFTER = "10"
STATUS_RETRY_AFTER = "5"
INSTANCE_OPERATIONS = ("terminate", "suspend", "resume", "rewind", "restart")
_ACTIVE = frozenset(
    {
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Suspended,
    }
)


def management_app(services: ManagementServices) -> web.Application:
    """The sub-application to mount at WEBHOOK_PATH."""
    app = web.Application(middlewares=[_guard])
    app[SERVICES] = services
    app.router.add_post("/orchestrators/{function_name}{slash:/?}", start)
    app.router.add_post("/orchestrators/{function_name}/{instance_id}{slash:/?}", start)
    app.router.add_get("/instances{slash:/?}", list_instances, allow_head=False)
    app.router.add_delete("/instances{slash:/?}", purge_by_filter)
    app.router.add_get("/instances/{instance_id}{slash:/?}", get_status, allow_head=False)
    app.router.add_delete("/instances/{instance_id}{slash:/?}", purge_one)
    app.router.add_post("/instances/{instance_id}/{operation}/{event_name}{slash:/?}", raise_event)
    app.router.add_post("/instances/{instance_id}/{operation}{slash:/?}", instance_operation)
    add_entity_routes(app.router)
    return app


@web.middleware
async def _guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Key check first, then one place that turns errors into responses."""
    services = request.app[SERVICES]
    key = request.query.get(KEY_QUERY_PARAMETER) or request.headers.get(KEY_HEADER)
    if services.requires_key and not services.keys.accepts(key, AuthLevel.SYSTEM):
        return unauthorized_response()
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return error_response(404, f"no management API endpoint {request.method} {request.path}")
    except web.HTTPException:
        raise
    except Exception as error:
        response = response_for_error(error)
        if response is not None:
            return response
        logger.exception("management.error method=%s path=%s", request.method, request.path)
        return error_response(500, UNEXPECTED_ERROR_MESSAGE)


def _origin(request: web.Request) -> str | None:
    if not request.app[SERVICES].links_from_request:
        return None
    return f"{request.scheme}://{request.host}"


def check_status_response(request: web.Request, urls: ManagementUrls, instance_id: str) -> web.Response:
    """202 with the check-status payload, `Location` = its status URL and `Retry-After: 10`."""
    payload = urls.payload(instance_id, origin=_origin(request))
    headers = {"Location": payload["statusQueryGetUri"], "Retry-After": CHECK_STATUS_RETRY_AFTER}
    return json_response(payload, status=202, headers=headers)


async def start(request: web.Request) -> web.Response:
    """Start an orchestration; with `timeout` and `pollingInterval`, wait that long for it to finish."""
    name = request.match_info["function_name"]
    if name not in request.app[SERVICES].orchestrator_names:
        raise BadRequestError(
            f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
            f"Additional info: the app's orchestrator functions are: "
            f"{', '.join(sorted(request.app[SERVICES].orchestrator_names)) or 'none'}."
        )
    query = QueryParameters(request.query)
    timeout, polling_interval = query.seconds("timeout"), query.seconds("pollingInterval")
    client_input = parse_json_body(await request.read(), what="the orchestration input")
    if request.app[SERVICES].unwraps_sdk_json and is_official_sdk_request(request.headers):
        client_input = unwrap_sdk_json(client_input)
    client, urls = await request_client(request)
    instance_id = await client.start_new(
        name, request.match_info.get("instance_id"), client_input, version=query.text("version")
    )
    if timeout is None or polling_interval is None:
        return check_status_response(request, urls, instance_id)
    status = await _wait_until_finished(client, instance_id, timeout, polling_interval)
    if status is None:
        return check_status_response(request, urls, instance_id)
    if status.runtime_status is OrchestrationRuntimeStatus.Completed:
        return json_response(status.output, status=200)
    return json_response(status_body(status, show_history=False), status=200)


async def _wait_until_finished(
    client: DurableOrchestrationClient, instance_id: str, timeout: float, polling_interval: float
) -> DurableOrchestrationStatus | None:
    """The finished status, or None when `timeout` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status = await client.get_status(instance_id, show_input=False)
        if status is not None and status.runtime_status not in _ACTIVE:
            return status
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        await asyncio.sleep(min(max(polling_interval, 0.05), remaining))


async def get_status(request: web.Request) -> web.Response:
    instance_id = request.match_info["instance_id"]
    query = QueryParameters(request.query)
    show_history = query.boolean("showHistory", False)
    client, _ = await request_client(request)
    status = await client.get_status(
        instance_id,
        show_history=show_history,
        show_history_output=query.boolean("showHistoryOutput", False),
        show_input=query.boolean("showInput", True),
    )
    if status is None:
        return error_response(404, f"No instance with ID '{instance_id}' found.")
    body = status_body(status, show_history=show_history)
    if status.runtime_status in _ACTIVE:
        headers = {"Location": str(request.url), "Retry-After": STATUS_RETRY_AFTER}
        return json_response(body, status=202, headers=headers)
    is_failed = status.runtime_status is OrchestrationRuntimeStatus.Failed
    if is_failed and query.boolean("returnInternalServerErrorOnFailure", False):
        return json_response(body, status=500)
    return json_response(body, status=200)


async def list_instances(request: web.Request) -> web.Response:
    """One page; the response's x-ms-continuation-token is "null" on the last page."""
    query = QueryParameters(request.query)
    token = request.headers.get(CONTINUATION_HEADER)
    client, _ = await request_client(request)
    page = await client.list_instances(
        instance_id_prefix=query.text("instanceIdPrefix"),
        page_size=query.integer("top", minimum=1, maximum=MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE,
        continuation_token=None if token in (None, "", NO_CONTINUATION) else token,
        created_time_from=query.datetime("createdTimeFrom"),
        created_time_to=query.datetime("createdTimeTo"),
        runtime_status=query.runtime_statuses("runtimeStatus"),
        show_input=query.boolean("showInput", True),
    )
    body = [status_body(status, show_history=False) for status in page.instances]
    headers = {CONTINUATION_HEADER: page.continuation_token or NO_CONTINUATION}
    return json_response(body, status=200, headers=headers)


async def purge_one(request: web.Request) -> web.Response:
    instance_id = request.match_info["instance_id"]
    client, _ = await request_client(request)
    result = await client.purge_instance_history(instance_id)
    if result.instances_deleted == 0:
        return error_response(404, f"No instance with ID '{instance_id}' found.")
    return json_response({"instancesDeleted": result.instances_deleted}, status=200)


async def purge_by_filter(request: web.Request) -> web.Response:
    """Purge finished instances created in [createdTimeFrom, createdTimeTo (default now)]."""
    query = QueryParameters(request.query)
    created_from = query.datetime("createdTimeFrom")
    if created_from is None:
        raise BadRequestError("A 'createdTimeFrom' query string parameter is required.")
    created_to = query.datetime("createdTimeTo") or datetime.now(UTC)
    statuses = query.runtime_statuses("runtimeStatus")
    client, _ = await request_client(request)
    result = await client.purge_instance_history_by(created_from, created_to, statuses)
    if result.instances_deleted == 0:
        return error_response(404, "No finished instances match the filter; nothing was purged.")
    return json_response({"instancesDeleted": result.instances_deleted}, status=200)


async def raise_event(request: web.Request) -> web.Response:
    """The body is the event's data; it must be sent as application/json (an empty body is null)."""
    if request.match_info["operation"].lower() != "raiseevent":
        raise web.HTTPNotFound()
    instance_id, event_name = request.match_info["instance_id"], request.match_info["event_name"]
    body = await request.read()
    if body.strip() and request.content_type.lower() != "application/json":
        raise BadRequestError(
            f"Only application/json request content is supported (got {request.content_type or 'none'}): "
            "send the header Content-Type: application/json"
        )
    data = parse_json_body(body, what=f"the data of event '{event_name}'")
    if request.app[SERVICES].unwraps_sdk_json and is_official_sdk_request(request.headers):
        data = unwrap_sdk_json(data)
    client, _ = await request_client(request)
    await client.raise_event(instance_id, event_name, data)
    return web.Response(status=202)


async def instance_operation(request: web.Request) -> web.Response:
    """terminate, suspend, resume, rewind (202, empty body) and restart (202 check-status of the new instance)."""
    instance_id = request.match_info["instance_id"]
    operation = request.match_info["operation"].lower()
    if operation not in INSTANCE_OPERATIONS:
        raise web.HTTPNotFound()
    query = QueryParameters(request.query)
    client, urls = await request_client(request)
    if operation == "restart":
        new_id = await client.restart(instance_id, query.boolean("restartWithNewInstanceId", True))
        return check_status_response(request, urls, new_id)
    reason = query.text("reason")
    if operation == "terminate":
        await client.terminate(instance_id, reason)  # None: the Terminated output is null, as in the extension
    else:
        await getattr(client, operation)(instance_id, reason or "")
    return web.Response(status=202)


__all__ = ["ManagementServices", "management_app"]
