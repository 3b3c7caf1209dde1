"""The one table that maps errors to HTTP status codes, and the JSON error body every endpoint returns.

The body has the shape of the extension's ASP.NET error responses: `Message`, and for an error we raised,
`ExceptionMessage` and `ExceptionType` (the official Python client reads `ExceptionMessage` on a 400).
Messages of our errors name the instance, the parameter or the field; they never carry a key or a
connection string, because nothing we raise holds one. Anything not in the table is a bug: the caller
logs it and answers 500 with a generic message that reveals nothing.
"""

from __future__ import annotations

import json

from aiohttp import web

from durable_azure.errors import (
    ConfigurationError,
    FunctionInvocationError,
    InstanceAlreadyExistsError,
    InstanceCompletedError,
    InstanceNotFailedError,
    InstanceNotFoundError,
    InstanceRunningError,
    StorageError,
)

ERROR_STATUS: dict[type[BaseException], int] = {
    InstanceNotFoundError: 404,
    InstanceCompletedError: 410,
    InstanceNotFailedError: 410,
    InstanceAlreadyExistsError: 409,
    InstanceRunningError: 409,
    ConfigurationError: 400,
    ValueError: 400,  # the client's argument checks (e.g. an invalid instance id) raise ValueError
    StorageError: 503,
    FunctionInvocationError: 500,
}
"""Looked up along the error's MRO, so the most specific class wins."""

UNEXPECTED_ERROR_MESSAGE = "Something went wrong while processing your request"


class BadRequestError(ConfigurationError):
    """A query parameter, path segment or body the API cannot accept (HTTP 400)."""


def status_for(error: BaseException) -> int | None:
    """The HTTP status of `error`, or None when the table does not know it (a bug: answer 500)."""
    for error_class in type(error).__mro__:
        status = ERROR_STATUS.get(error_class)
        if status is not None:
            return status
    return None


def error_response(status: int, message: str, error: BaseException | None = None) -> web.Response:
    body: dict[str, str] = {"Message": message}
    if error is not None:
        body["ExceptionMessage"] = str(error)
        body["ExceptionType"] = type(error).__name__
    return web.json_response(body, status=status, dumps=json.dumps)


def response_for_error(error: BaseException) -> web.Response | None:
    """The JSON error response for an error in the table, else None."""
    status = status_for(error)
    if status is None:
        return None
    return error_response(status, str(error), error)


UNAUTHORIZED_MESSAGE = "Unauthorized: pass a valid key as the `code` query parameter or the x-functions-key header"


def unauthorized_response() -> web.Response:
    """401 that says how to authenticate and nothing about which keys exist."""
    return error_response(401, UNAUTHORIZED_MESSAGE)
