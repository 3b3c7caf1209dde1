"""Durable HTTP: the request, the token source and the response of `context.call_http`, as Durable Functions has them.

The names and constructors are azure.durable_functions' (`DurableHttpRequest`, `TokenSource`,
`ManagedIdentityTokenSource`, with the same `to_json` forms), so code that builds them keeps working.
What travels in history mirrors the extension: `call_http` schedules the built-in activity
`BuiltIn::HttpActivity` whose input is the extension's serialized DurableHttpRequest (a JSON array holding
the request's JSON text, as DTFx passes activity parameters), and whose result is the extension's
DurableHttpResponse (`statusCode`, `headers`, `content`). A token source is stored by what it is (its kind
and resource), never a token: the worker fetches the token when it sends the request.

Pure (no I/O): the worker performs the request (worker/http_activity.py); the 202 polling loop is a task
(orchestration/http_task.py). Imports only the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"
"""The extension's reserved activity name (HttpOptions.HttpTaskActivityReservedName); apps cannot use it."""

MANAGED_IDENTITY_KIND = "AzureManagedIdentity"
_FUNCTIONS_KEY_HEADER = "x-functions-key"
_CAMEL_CASE = {"StatusCode": "statusCode", "Headers": "headers", "Content": "content"}


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """host.json `extensions.durableTask.httpSettings`, as the engine needs it (handed in by the worker).

    `default_async_request_sleep_time` is the wait between polls of a 202 + Location response when the
    response carries no Retry-After (the extension's `defaultAsyncRequestSleepTimeMilliseconds`, 30 s).
    """

    default_async_request_sleep_time: timedelta = timedelta(milliseconds=30000)


class TokenSource:
    """Where the bearer token of a durable HTTP request comes from (the SDK's abstract base)."""

    def __init__(self) -> None:
        """Takes nothing, as the SDK's base does: subclasses describe their source."""

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


class ManagedIdentityTokenSource(TokenSource):
    """A token for `resource` from the app's Azure identity, fetched by the worker for each request.

    `resource` is the Azure AD resource of the API called, e.g. `https://management.core.windows.net/`.
    Only this description is recorded in history; the token itself never is.
    """

    def __init__(self, resource: str) -> None:
        if not isinstance(resource, str) or not resource.strip():
            raise ValueError(f"ManagedIdentityTokenSource needs a resource URI, got {resource!r}")
        self._resource = resource
        self._kind = MANAGED_IDENTITY_KIND

    @property
    def resource(self) -> str:
        return self._resource

    def to_json(self) -> dict[str, Any]:
        """`{"resource": ..., "kind": "AzureManagedIdentity"}`, the SDK's form, which the extension reads."""
        return {"resource": self._resource, "kind": self._kind}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ManagedIdentityTokenSource) and other.resource == self.resource

    def __hash__(self) -> int:
        return hash(self._resource)

    def __repr__(self) -> str:
        return f"ManagedIdentityTokenSource({self._resource!r})"


class DurableHttpRequest:
    """A durable HTTP request: what `call_http` records for the worker to send.

    `content` is the body text as sent (call_http has already JSON-encoded it unless `is_raw_str`).
    """

    def __init__(
        self,
        method: str,
        uri: str,
        content: str | None = None,
        headers: dict[str, str] | None = None,
        token_source: TokenSource | None = None,
    ) -> None:
        self._method = method
        self._uri = uri
        self._content = content
        self._headers = headers
        self._token_source = token_source

    @property
    def method(self) -> str:
        return self._method

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def content(self) -> str | None:
        return self._content

    @property
    def headers(self) -> dict[str, str] | None:
        return self._headers

    @property
    def token_source(self) -> TokenSource | None:
        return self._token_source

    def to_json(self) -> dict[str, Any]:
        """The SDK's form: method, uri, content, headers, and tokenSource only when there is one."""
        value: dict[str, Any] = {
            "method": self._method,
            "uri": self._uri,
            "content": self._content,
            "headers": self._headers,
        }
        if self._token_source is not None:
            value["tokenSource"] = self._token_source.to_json()
        return value

    def to_extension_json(self, *, asynchronous_pattern_enabled: bool = True) -> dict[str, Any]:
        """The extension's DurableHttpRequest JSON, as it writes it into the HTTP activity's input."""
        return {
            "method": self._method,
            "uri": self._uri,
            "headers": dict(self._headers) if self._headers is not None else {},
            "content": self._content,
            "tokenSource": self._token_source.to_json() if self._token_source is not None else None,
            "asynchronousPatternEnabled": asynchronous_pattern_enabled,
            "retryOptions": None,
            "timeout": None,
        }

    def activity_input(self) -> str:
        """The built-in activity's input: the request's JSON text (stored in DTFx's parameter array)."""
        return json.dumps(self.to_extension_json())

    def location_poll(self, location: str) -> DurableHttpRequest:
        """The GET that polls `location` after a 202: same headers and token source, without x-functions-key.

        The extension drops that header because the first call's key is often function-level while the
        status endpoint wants the master key.
        """
        headers = None
        if self._headers is not None:
            headers = {k: v for k, v in self._headers.items() if k.lower() != _FUNCTIONS_KEY_HEADER}
        return DurableHttpRequest("GET", location, headers=headers, token_source=self._token_source)

    @classmethod
    def from_activity_input(cls, input_value: Any) -> DurableHttpRequest:
        """The request back from the activity's decoded input (the array form, or the request object itself).

        Raises ValueError naming what is wrong; the worker turns that into the task's failure.
        """
        value = input_value
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValueError(f"the HTTP activity's input is not a serialized DurableHttpRequest: {error}") from None
        if not isinstance(value, Mapping):
            raise ValueError(f"the HTTP activity's input is not a DurableHttpRequest, got {type(value).__name__}")
        method, uri = value.get("method") or "GET", value.get("uri")
        if not isinstance(method, str) or not isinstance(uri, str) or not uri:
            raise ValueError("the HTTP activity's input needs a string 'method' and 'uri'")
        content = value.get("content")
        if content is not None and not isinstance(content, str):
            raise ValueError("the HTTP activity's 'content' must be a string")
        return cls(method, uri, content, _header_texts(value.get("headers")), _token_source(value.get("tokenSource")))


class DurableHttpResponse(dict[str, Any]):
    """The extension's DurableHttpResponse as apps read it: a mapping with `statusCode`, `headers`, `content`.

    Also readable as attributes `status_code`, `headers` and `content`. A dict, so it serializes as the
    plain JSON object it came from when an orchestrator returns it or passes it on.
    """

    @classmethod
    def from_result(cls, value: Any) -> DurableHttpResponse:
        """The activity's decoded result; .NET's default property names (StatusCode, ...) are read too."""
        if isinstance(value, Mapping) and "statusCode" not in value and "StatusCode" in value:
            value = {_CAMEL_CASE.get(key, key): item for key, item in value.items()}
        if not isinstance(value, Mapping) or not isinstance(value.get("statusCode"), int):
            raise ValueError(f"the HTTP activity returned no DurableHttpResponse: {value!r:.200}")
        response = cls(value)
        response.setdefault("headers", {})
        response.setdefault("content", None)
        return response

    @property
    def status_code(self) -> int:
        return int(self["statusCode"])

    @property
    def headers(self) -> dict[str, Any]:
        headers = self.get("headers")
        return headers if isinstance(headers, dict) else {}

    @property
    def content(self) -> str | None:
        return self.get("content")

    def header(self, name: str) -> str | None:
        """One header's value, found without regard to case (several values joined by commas, as .NET does)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        return None


def redact_uri(uri: str) -> str:
    """`uri` without its query string, fragment or user info: what error text may show of it.

    Query strings carry SAS tokens and API keys, so they never reach an error message or a log.
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _header_texts(value: Any) -> dict[str, str] | None:
    """Headers as name -> text; the extension writes several values of one header as a list."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError("the HTTP activity's 'headers' must be an object")
    headers: dict[str, str] = {}
    for name, item in value.items():
        headers[str(name)] = ",".join(str(v) for v in item) if isinstance(item, list) else str(item)
    return headers


def _token_source(value: Any) -> TokenSource | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError("the HTTP activity's 'tokenSource' must be an object")
    kind = value.get("kind")
    if kind != MANAGED_IDENTITY_KIND:
        raise ValueError(f"the token source kind {kind!r} is not supported (only {MANAGED_IDENTITY_KIND!r})")
    return ManagedIdentityTokenSource(str(value.get("resource") or ""))
