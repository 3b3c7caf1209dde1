"""Reading management-API requests and writing their bodies, in the extension's shapes.

Query parameter names match case-insensitively, as the extension's (ASP.NET) query parsing does; booleans
are "true"/"false" in any case (the official Python client sends "True"). Every value we cannot read is a
BadRequestError naming the parameter, so the caller gets 400 and knows what to fix. Status bodies follow
the extension's StatusResponsePayload: times to the second with a Z, history under `historyEvents`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from durable_azure.functions.http_errors import BadRequestError
from durable_azure.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus

STATUS_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TRUE_WORDS = frozenset({"true", "1"})
_FALSE_WORDS = frozenset({"false", "0"})


class QueryParameters:
    """One request's query string, looked up case-insensitively; typed getters raise BadRequestError."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self._values = {name.casefold(): value for name, value in query.items()}

    def text(self, name: str) -> str | None:
        value = self._values.get(name.casefold())
        return value if value not in (None, "") else None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE_WORDS:
            return True
        if value.lower() in _FALSE_WORDS:
            return False
        raise BadRequestError(f"query parameter {name} must be true or false, got {value!r}")

    def integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise BadRequestError(f"query parameter {name} must be an integer, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise BadRequestError(f"query parameter {name} must be between {minimum} and {maximum}, got {number}")
        return number

    def seconds(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise BadRequestError(f"query parameter {name} must be a number of seconds, got {value!r}") from None
        if number < 0:
            raise BadRequestError(f"query parameter {name} must not be negative, got {value!r}")
        return number

    def datetime(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "+"))
        except ValueError:
            raise BadRequestError(
                f"query parameter {name} must be an ISO 8601 date/time like 2024-01-31T08:00:00Z, got {value!r}"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def runtime_statuses(self, name: str) -> list[OrchestrationRuntimeStatus] | None:
        value = self.text(name)
        if value is None:
            return None
        by_name = {status.value.casefold(): status for status in OrchestrationRuntimeStatus}
        statuses = []
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            status = by_name.get(part.casefold())
            if status is None:
                known = ", ".join(status.value for status in OrchestrationRuntimeStatus)
                raise BadRequestError(f"query parameter {name}: unknown runtime status {part!r} (known: {known})")
            statuses.append(status)
        return statuses


def parse_json_body(body: bytes, *, what: str) -> Any:
    """The request body as a JSON value; an empty body is null (as the extension reads it)."""
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        detail = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
        raise BadRequestError(f"Invalid JSON content in {what}: {detail}") from None


def is_official_sdk_request(headers: Mapping[str, str]) -> bool:
    """Whether a request to the RPC listener comes from azure.durable_functions' client.

    That client posts through one aiohttp session with no headers of its own beyond correlation ones, so
    its requests carry aiohttp's default User-Agent (`Python/3.11 aiohttp/3.9.5`). Other clients of the
    loopback listener (curl, requests, httpx, a test) post plain JSON and are read as the public API reads
    them. The only other aiohttp clients on the loopback port would be an app's own scripts, which have no
    reason to call the extension's internal endpoint instead of the public one.
    """
    agent = headers.get("User-Agent", "")
    return agent.startswith("Python/") and " aiohttp/" in agent


def unwrap_sdk_json(value: Any) -> Any:
    """The value the official Python client meant, from the body it posted.

    Its `start_new` (when there is an input) and `raise_event` (always, `None` included) serialize the
    value to JSON text and post that text through aiohttp's `json=`, so the body is a JSON string literal
    holding JSON (`"{\\"a\\": 1}"`, `"42"`, `"null"`); its other calls post no body. The extension stores
    that string as it is and the SDK's orchestrator decodes it a second time; an orchestrator here decodes
    once, so the listener decodes the second layer before storing: the instance's input (and the event's
    data) is then the caller's value, stored as the extension stores a value posted as plain JSON. Call it
    only for bodies `is_official_sdk_request` accepts. A string that is not JSON text is taken as it is.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def status_body(status: DurableOrchestrationStatus, *, show_history: bool) -> dict[str, Any]:
    """The extension's StatusResponsePayload for one instance."""
    body: dict[str, Any] = {
        "name": status.name,
        "instanceId": status.instance_id,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "input": status.input_,
        "customStatus": status.custom_status,
        "output": status.output,
        "createdTime": _format_time(status.created_time),
        "lastUpdatedTime": _format_time(status.last_updated_time),
    }
    if show_history:
        body["historyEvents"] = status.history or []
    return body


def _format_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(STATUS_TIME_FORMAT) if value is not None else None


EMPTY_ENTITY_KEY = "$"
"""The extension's path segment for the empty entity key."""


def entity_operation_input(body: bytes, content_type: str, *, unwraps_sdk_json: bool) -> Any:
    """An entity operation's argument from a signal's body, as the extension reads it.

    No body: no argument (None). `application/json`: the parsed JSON (400 "Could not parse JSON content" when
    it is not). Any other content type: the body as a string. From the official Python client (`unwraps_sdk_json`)
    the JSON is its double-encoded form, decoded once more (see `unwrap_sdk_json`), so the entity receives the
    value the app passed.
    """
    if not body:
        return None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequestError("Could not read the request content: it is not UTF-8 text") from None
    if content_type.lower() != "application/json":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequestError(f"Could not parse JSON content: {error}") from None
    return unwrap_sdk_json(value) if unwraps_sdk_json else value
