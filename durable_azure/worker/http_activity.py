"""The built-in activity `BuiltIn::HttpActivity`: sends one durable HTTP request, as the extension's shim does.

The activity dispatcher runs it like any activity (same work-item queue, retries and at-least-once
semantics); `context.call_http` schedules it and follows 202 polling in the orchestration itself. For one
request it:

* rebuilds the request from the extension's JSON (orchestration/http.py);
* sends `content` with the request's Content-Type header, or `text/plain` when it has none (the
  extension's default; multipart bodies are refused, as there);
* for a token source, asks azure-identity's DefaultAzureCredential (the credential the extension uses) for
  a token for the resource at this moment and sends `Authorization: Bearer <token>`; the token lives only
  in this request, never in history or logs;
* gives up after `REQUEST_TIMEOUT_SECONDS` (240 s, the extension's HttpClient timeout);
* returns the extension's DurableHttpResponse: `{"statusCode", "headers", "content"}`, a header with one
  value as a string and with several as a list.

Failures (DNS, refused connection, timeout, a token it cannot get) raise `HttpRequestError` or
`TimeoutError` naming the method and the URI without its query string: query strings carry SAS tokens and
API keys, and the failure text is stored in history and shown to users.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from durable_azure.orchestration.http import (
    HTTP_ACTIVITY_NAME,
    DurableHttpRequest,
    ManagedIdentityTokenSource,
    TokenSource,
    redact_uri,
)
from durable_azure.worker.registry import ActivityFunction

REQUEST_TIMEOUT_SECONDS = 240.0
"""The extension's durable HTTP client timeout (DurableHttpClientFactory: HttpClient.Timeout = 240 s)."""

DEFAULT_CONTENT_TYPE = "text/plain"
_CONTENT_TYPE = "content-type"

_DEFAULT_SCOPE_SUFFIX = "/.default"


def token_scope(resource: str) -> str:
    """The azure-identity scope for a ManagedIdentityTokenSource resource: `resource + "/.default"`.

    The extension hands the resource itself to Azure.Identity as the scope, whose managed identity (and
    CLI) credentials send it as the resource. azure-identity for Python wants a scope and turns it back
    into a resource by removing "/.default", so appending it to the resource unchanged (trailing slash
    kept: `https://management.core.windows.net//.default`) asks the identity endpoint for exactly the
    resource the app wrote, as the extension does, for any resource URI or app id URI. A resource that is
    already a `.default` scope is used as it is.
    """
    return resource if resource.endswith(_DEFAULT_SCOPE_SUFFIX) else resource + _DEFAULT_SCOPE_SUFFIX


class HttpRequestError(Exception):
    """A durable HTTP request could not be sent or answered (the extension's HttpRequestException)."""


async def run_http_activity(input_value: Any) -> dict[str, Any]:
    """Send the request in `input_value` (the activity's decoded input) and return its DurableHttpResponse."""
    request = DurableHttpRequest.from_activity_input(input_value)
    where = f"{request.method.upper()} {redact_uri(request.uri)}"
    headers = dict(request.headers or {})
    content_type = next((value for name, value in headers.items() if name.lower() == _CONTENT_TYPE), None)
    if content_type is not None and "multipart" in content_type.lower():
        raise HttpRequestError(f"{where}: multipart content is not supported with call_http")
    body: bytes | None = None
    if request.content is not None:
        body = request.content.encode("utf-8")
        if content_type is None:
            headers["Content-Type"] = DEFAULT_CONTENT_TYPE
    if request.token_source is not None:
        headers["Authorization"] = f"Bearer {await _token(request.token_source, where)}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)) as session,
            session.request(request.method.upper(), request.uri, data=body, headers=headers) as response,
        ):
            text = await response.text(errors="replace")
            return {"statusCode": response.status, "headers": _response_headers(response), "content": text}
    except TimeoutError:
        raise TimeoutError(f"{where}: no response within {REQUEST_TIMEOUT_SECONDS:g} seconds") from None
    except aiohttp.ClientConnectorError as error:
        reason = getattr(error, "os_error", None) or type(error).__name__
        raise HttpRequestError(f"{where}: cannot connect: {reason}") from None
    except (aiohttp.ClientError, ValueError) as error:
        # Not str(error): aiohttp's messages (InvalidURL, redirects) can quote the full URL, query string and all.
        raise HttpRequestError(f"{where}: the request failed ({type(error).__name__})") from None


async def _token(token_source: TokenSource, where: str) -> str:
    """A bearer token for the token source, fetched now; azure-identity reads the environment for the identity."""
    if not isinstance(token_source, ManagedIdentityTokenSource):
        raise HttpRequestError(f"{where}: token source {type(token_source).__name__} is not supported")
    from azure.identity.aio import DefaultAzureCredential

    scope = token_scope(token_source.resource)
    try:
        async with DefaultAzureCredential() as credential:
            token = await credential.get_token(scope)
    except Exception as error:  # azure-identity's errors (azure.core's, which only azure_storage/ imports)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise HttpRequestError(
            f"{where}: no token for resource {token_source.resource!r} ({type(error).__name__}: {first_line})"
        ) from None
    return token.token


def _response_headers(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """Header name -> value, or -> list of values for a header sent several times (the extension's StringValues)."""
    headers: dict[str, Any] = {}
    names: dict[str, str] = {}  # lower-case -> first spelling seen, as .NET's case-insensitive dictionary keeps it
    for name, value in response.headers.items():
        key = names.setdefault(name.lower(), name)
        if key not in headers:
            headers[key] = value
        elif isinstance(headers[key], list):
            headers[key].append(value)
        else:
            headers[key] = [headers[key], value]
    return headers


HTTP_ACTIVITY = ActivityFunction(name=HTTP_ACTIVITY_NAME, function=run_http_activity)
"""The built-in activity as the dispatcher runs it; apps cannot register a function of this name."""

BUILT_IN_ACTIVITIES: dict[str, ActivityFunction] = {HTTP_ACTIVITY_NAME: HTTP_ACTIVITY}

__all__ = ["BUILT_IN_ACTIVITIES", "HTTP_ACTIVITY", "REQUEST_TIMEOUT_SECONDS", "HttpRequestError", "run_http_activity"]
