"""Serving the app's HTTP triggers at `/{routePrefix}/{route}`: routing, keys, and request/response conversion.

The user's function is called by `http_invocation.invoke_http_function`; this module
turns the aiohttp request into an `azure.functions.HttpRequest` and the function's `HttpResponse` back.
A function that fails gets 500 and the host keeps serving: our own errors (e.g. a bad orchestration-client
payload) say what went wrong; anything else says only that the function failed, and is logged with its
traceback. A path no route matches, or a method the route does not allow, gets 404 as from the Functions host.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

import azure.functions as func
from aiohttp import web

from durable_azure.errors import DurableAzureError
from durable_azure.functions import indexing
from durable_azure.functions.http_errors import error_response, response_for_error, unauthorized_response
from durable_azure.functions.http_invocation import invoke_http_function
from durable_azure.functions.keys import KEY_HEADER, KEY_QUERY_PARAMETER, AuthLevel, HostKeys
from durable_azure.functions.routes import RouteTable, compile_route

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpTriggers:
    """Everything the /api handler needs, fixed at start-up."""

    routes: RouteTable[indexing.HttpFunction]
    keys: HostKeys
    services: indexing.InvocationServices
    route_prefix: str
    check_keys: bool = True
    """False only for a host listening on loopback without --enable-auth, as `func start` (see keys_checked)."""


TRIGGERS = web.AppKey("http_triggers", HttpTriggers)


def keys_checked(host: str, *, enable_auth: bool) -> bool:
    """Whether HTTP functions ask for their keys: always, except on a loopback-only host without --enable-auth.

    `func start` does not check function or admin keys locally (`--enableAuth` turns the checks on), so apps
    and scripts written against it call function-level routes without a key. A host that listens only on
    loopback is that local case; one that listens on any other address is reachable from elsewhere and checks
    them, as Azure does. The management API always asks for its key.
    """
    if enable_auth:
        return True
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may resolve to anything
        return True


def route_table(functions: list[indexing.HttpFunction]) -> RouteTable[indexing.HttpFunction]:
    return RouteTable([compile_route(function.route, function) for function in functions])


def route_path(route_prefix: str) -> str:
    """The aiohttp path that catches every request under the route prefix ("" means the site root)."""
    prefix = route_prefix.strip("/")
    return f"/{prefix}{{tail:(/.*)?}}" if prefix else "/{tail:.*}"


async def handle_http_trigger(request: web.Request) -> web.StreamResponse:
    triggers = request.app[TRIGGERS]
    path = request.match_info.get("tail", "")
    matches = triggers.routes.match(path)
    allowed = [match for match in matches if _allows(match.target, request.method)]
    if not allowed:
        return error_response(404, f"no function is served at {request.method} {request.path}")
    function, route_params = allowed[0].target, allowed[0].route_params
    key = request.query.get(KEY_QUERY_PARAMETER) or request.headers.get(KEY_HEADER)
    if triggers.check_keys and not triggers.keys.accepts(key, AuthLevel.parse(function.auth_level)):
        return unauthorized_response()
    function_request = await to_function_request(request, route_params)
    return await _invoke(function, function_request, triggers.services)


async def _invoke(
    function: indexing.HttpFunction, request: func.HttpRequest, services: indexing.InvocationServices
) -> web.StreamResponse:
    try:
        response = await invoke_http_function(function, request, services)
    except DurableAzureError as error:
        logger.warning("function.failed name=%s error=%s", function.name, error)
        return response_for_error(error) or error_response(500, str(error), error)
    except Exception:
        logger.exception("function.failed name=%s", function.name)
        return error_response(500, f"Exception while executing function: Functions.{function.name}")
    return to_web_response(response)


def _allows(function: indexing.HttpFunction, method: str) -> bool:
    return not function.methods or method.upper() in function.methods


async def to_function_request(request: web.Request, route_params: dict[str, str]) -> func.HttpRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        params=dict(request.query),
        route_params=route_params,
        body=await request.read(),
    )


def to_web_response(response: func.HttpResponse) -> web.Response:
    headers = {name: value for name, value in response.headers.items()}
    if not any(name.lower() == "content-type" for name in headers):
        mimetype = response.mimetype or "text/plain"
        headers["Content-Type"] = f"{mimetype}; charset={response.charset or 'utf-8'}"
    return web.Response(status=response.status_code, body=response.get_body(), headers=headers)
