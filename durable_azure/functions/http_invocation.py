"""Invoke one HTTP function (`invocation.py` fills its bindings) and turn its result into an HttpResponse.

The response is the `$return` value, or the value of a named `http` output; an HttpResponse, str, bytes, dict,
list or None converts as the Python worker converts them. The response is checked before any output binding
is written, so a bad return value starts nothing. Binding expressions of the function's other bindings can use
the route parameters, the query parameters and the properties of a JSON body.

A bad output value raises FunctionInvocationError before anything is written; the host answers 500 with its
message and keeps serving. Exceptions of the user's code propagate unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from durable_azure.errors import FunctionInvocationError
from durable_azure.functions.indexing import RETURN_BINDING_NAME, BindingSpec, HttpFunction, InvocationServices
from durable_azure.functions.invocation import Invocation, invocation

HTTP_OUTPUT_TYPE = "http"


async def invoke_http_function(
    function: HttpFunction, request: func.HttpRequest, services: InvocationServices
) -> func.HttpResponse:
    """Call `function` for `request` and return its HTTP response, after writing its other outputs.

    Storage calls: those of the user's code, plus each output binding's writes (for an orchestration-client
    output, one start and, for explicit instance ids, one status read per entry).
    """
    async with invocation(function, request, services, binding_data=_binding_data(request)) as (current, arguments):
        result = await current.call(arguments)
        response = _response(function, current, result)
        await current.write_outputs(skip=_is_http_output)
    return response


def _is_http_output(binding: BindingSpec) -> bool:
    return binding.kind == HTTP_OUTPUT_TYPE


def _binding_data(request: func.HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {}
    try:
        body = request.get_json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        data.update(body)
    data.update(request.params)
    data.update(request.route_params)
    return data


def _response(function: HttpFunction, current: Invocation, result: Any) -> func.HttpResponse:
    for binding in function.bindings:
        if binding.kind == HTTP_OUTPUT_TYPE and binding.name != RETURN_BINDING_NAME:
            return _to_http_response(function, current.output(binding.name))
    return _to_http_response(function, result)


def _to_http_response(function: HttpFunction, value: Any) -> func.HttpResponse:
    if isinstance(value, func.HttpResponse):
        return value
    if value is None:
        return func.HttpResponse(status_code=204)
    if isinstance(value, str):
        return func.HttpResponse(value, status_code=200, mimetype="text/plain")
    if isinstance(value, bytes):
        return func.HttpResponse(value, status_code=200, mimetype="application/octet-stream")
    if isinstance(value, dict | list):
        return func.HttpResponse(json.dumps(value), status_code=200, mimetype="application/json")
    raise FunctionInvocationError(
        f"function {function.name!r} returned {type(value).__name__}; an HTTP function must return an "
        "azure.functions.HttpResponse, a str, bytes, a dict or a list"
    )


__all__ = ["invoke_http_function"]
