"""Invoke one HTTP function with its bindings filled in, and turn its result into an HttpResponse.

Bindings handled, as the Functions host and the Durable extension hand them over:
- the httpTrigger parameter receives the `azure.functions.HttpRequest`;
- a `durableClient` / `orchestrationClient` input receives a DurableOrchestrationClient (v2), or the binding's
  JSON string (v1, where the app writes `DurableOrchestrationClient(starter)`);
- `out` bindings receive a `func.Out`; a `durableClient` / `orchestrationClient` output is read after the
  call, validated whole (start_requests.py), and then starts one instance per entry;
- the `$return` (or a named `http` output) binding becomes the response.

A bad output value raises FunctionInvocationError before anything starts; the host answers 500 with its
message and keeps serving. Exceptions of the user's code propagate unchanged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import azure.functions as func

from durable_azure import client_binding
from durable_azure.errors import FunctionInvocationError
from durable_azure.functions.indexing import (
    RETURN_BINDING_NAME,
    BindingDirection,
    BindingSpec,
    HttpFunction,
    InvocationServices,
    ProgrammingModel,
)
from durable_azure.functions.start_requests import StartRequest, parse_start_requests

if TYPE_CHECKING:
    from durable_azure.client import DurableOrchestrationClient

CLIENT_BINDING_TYPES = frozenset({"durableclient", "orchestrationclient"})
HTTP_OUTPUT_TYPE = "http"
_APP_SETTING = re.compile(r"^%([^%]+)%$")


class OutputValue(func.Out):
    """The `func.Out` a function's output-binding parameter receives."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


async def invoke_http_function(
    function: HttpFunction, request: func.HttpRequest, services: InvocationServices
) -> func.HttpResponse:
    """Call `function` for `request` and return its HTTP response.

    Storage calls: those of the user's code, plus one start (and, for explicit instance ids, one status
    read) per entry of an orchestration-client output. Raises FunctionInvocationError for a bad output
    binding value, an unsupported binding or a return value that is not an HTTP response.
    """
    async with _invocation(function, request, services) as (arguments, outputs):
        result = await _call(function, arguments)
        response = _response(function, result, outputs)
        await _start_from_outputs(function, outputs, services)
    return response


@asynccontextmanager
async def _invocation(
    function: HttpFunction, request: func.HttpRequest, services: InvocationServices
) -> AsyncIterator[tuple[dict[str, Any], dict[str, OutputValue]]]:
    """The call's arguments and output slots; v1 client-binding strings stay valid only inside the block."""
    arguments: dict[str, Any] = {function.trigger_name: request}
    outputs: dict[str, OutputValue] = {}
    registered: list[str] = []
    try:
        for binding in function.bindings:
            if binding.direction is BindingDirection.OUT:
                _check_output_type(function, binding)
                outputs[binding.name] = OutputValue()
                if binding.name != RETURN_BINDING_NAME:
                    arguments[binding.name] = outputs[binding.name]
            else:
                arguments[binding.name] = await _input_value(function, binding, services, registered)
        yield _accepted(function, arguments), outputs
    finally:
        for binding_id in registered:
            client_binding.release(binding_id)


async def _input_value(
    function: HttpFunction, binding: BindingSpec, services: InvocationServices, registered: list[str]
) -> Any:
    if binding.type.lower() not in CLIENT_BINDING_TYPES:
        raise FunctionInvocationError(
            f"function {function.name!r}: binding {binding.name!r} has type {binding.type!r}, which durable-azure "
            "does not support; supported inputs are httpTrigger and durableClient"
        )
    client = await _client(binding, services)
    if function.model is ProgrammingModel.V2:
        return client
    assert client.management is not None  # the host gives every client it binds its management links
    binding_id, binding_json = client_binding.register(client, connection_name=client.management.connection_name)
    registered.append(binding_id)
    return binding_json


async def _client(binding: BindingSpec, services: InvocationServices) -> DurableOrchestrationClient:
    """The client a binding asks for, with management links for its own task hub and connection."""
    task_hub = _app_setting(binding.task_hub)
    connection_name = _app_setting(binding.connection_name)
    if task_hub is None and connection_name is None:
        return services.client.with_management(services.management)
    client = await services.client_for(task_hub, connection_name)
    management = dataclasses.replace(
        services.management,
        task_hub=client.task_hub_name,
        connection_name=connection_name or services.management.connection_name,
    )
    return client.with_management(management)


def _app_setting(value: str | None) -> str | None:
    """`%Name%` is read from the app settings (environment), as in function.json; other values as given."""
    if not value:
        return None
    match = _APP_SETTING.match(value)
    if match is None:
        return value
    setting = os.environ.get(match.group(1))
    if not setting:
        raise FunctionInvocationError(f"app setting {match.group(1)!r} (used as {value}) is not set")
    return setting


def _check_output_type(function: HttpFunction, binding: BindingSpec) -> None:
    binding_type = binding.type.lower()
    if binding_type in CLIENT_BINDING_TYPES or binding_type == HTTP_OUTPUT_TYPE:
        return
    raise FunctionInvocationError(
        f"function {function.name!r}: output binding {binding.name!r} has type {binding.type!r}, which "
        "durable-azure does not support; supported outputs are http, durableClient and orchestrationClient"
    )


def _accepted(function: HttpFunction, arguments: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments the function declares (unless it takes **kwargs), as the Python worker passes them."""
    parameters = inspect.signature(function.function).parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return arguments
    names = {parameter.name for parameter in parameters}
    return {name: value for name, value in arguments.items() if name in names}


async def _call(function: HttpFunction, arguments: dict[str, Any]) -> Any:
    """Async functions run on the loop; synchronous ones in a thread, so they cannot stall the host."""
    if inspect.iscoroutinefunction(function.function):
        return await function.function(**arguments)
    result = await asyncio.to_thread(function.function, **arguments)
    return await result if inspect.isawaitable(result) else result


def _response(function: HttpFunction, result: Any, outputs: dict[str, OutputValue]) -> func.HttpResponse:
    for name, output in outputs.items():
        binding = next(binding for binding in function.bindings if binding.name == name)
        if binding.type.lower() == HTTP_OUTPUT_TYPE and name != RETURN_BINDING_NAME:
            return _to_http_response(function, output.get())
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


async def _start_from_outputs(
    function: HttpFunction, outputs: dict[str, OutputValue], services: InvocationServices
) -> None:
    """Validate every client output first, then start one instance per entry."""
    planned: list[tuple[DurableOrchestrationClient, list[StartRequest]]] = []
    for binding in function.bindings:
        value = outputs[binding.name].get() if binding.name in outputs else None
        if binding.type.lower() not in CLIENT_BINDING_TYPES or value is None:
            continue
        is_own_hub = binding.task_hub is None and binding.connection_name is None
        known = function.orchestrator_names if is_own_hub else None
        requests = parse_start_requests(value, binding_name=binding.name, known_orchestrators=known)
        client = await _client(binding, services)
        await _check_not_running(client, requests, binding.name)
        planned.append((client, requests))
    for client, requests in planned:
        for request in requests:
            await client.start_new(request.function_name, request.instance_id, request.input_)


async def _check_not_running(
    client: DurableOrchestrationClient, requests: list[StartRequest], binding_name: str
) -> None:
    """An explicit id whose instance is still active would fail mid-way; refuse the payload before starting."""
    for index, request in enumerate(requests):
        if request.is_new_id:
            continue
        status = await client.get_status(request.instance_id, show_input=False)
        if status and status.runtime_status and not status.runtime_status.to_status().is_terminal:
            raise FunctionInvocationError(
                f"output binding {binding_name!r}, entry {index}: InstanceId {request.instance_id!r} is already "
                f"{status.runtime_status.value}"
            )
