"""The bindings this host runs, one module per binding type, and the check that refuses any other.

A binding module exposes a `BindingHandler`: how an input binding's value is read before the call, and how
an output binding's value is checked (`plan`) and written after the call. Every function of an app, whatever
its trigger, goes through the same handlers (`functions/invocation.py`), so a queue output works the same on
an HTTP function, a timer, a queue-triggered function or an activity.

Nothing configured is ignored: `check_function` runs at indexing, before anything starts, and a trigger or
binding type without a handler here is a start-up error naming the function, the binding and what is
supported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from durable_azure.errors import ConfigurationError

if TYPE_CHECKING:
    from durable_azure.functions.indexing import BindingSpec
    from durable_azure.functions.invocation import Invocation

Write = Callable[[], Awaitable[None]]
"""One checked output, ready to be written."""


class BindingHandler(Protocol):
    """How one binding type is read (inputs) or written (outputs)."""

    def check(self, function_name: str, binding: BindingSpec) -> None:
        """Raise ConfigurationError naming the function and binding when a required field is missing."""

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        """The value the function's parameter receives (input bindings)."""

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        """Check an output value (FunctionInvocationError naming the binding); return its write, or None if nothing
        is to be written. No storage request is made until every output of the call has been checked."""


BUILT_IN_TRIGGERS = ("httpTrigger", "orchestrationTrigger", "activityTrigger", "entityTrigger")
"""Served by the host's site and the worker; the other trigger types have a listener in `functions/triggers/`."""


def trigger_types() -> list[str]:
    from durable_azure.functions import triggers

    return [*BUILT_IN_TRIGGERS, *triggers.trigger_types()]


_handlers: dict[tuple[str, str], BindingHandler] = {}
_display_names: dict[str, str] = {}


def register(binding_type: str, direction: str, handler: BindingHandler) -> None:
    """Make `handler` serve `binding_type` ("in" or "out"); called by each binding module at import."""
    _handlers[(binding_type.lower(), direction)] = handler
    _display_names[binding_type.lower()] = binding_type


def handler_for(binding: BindingSpec) -> BindingHandler:
    """The handler of a binding checked by `check_function`."""
    direction = "out" if binding.direction.value == "out" else "in"
    return _handlers[(binding.kind, direction)]


def supported(direction: str) -> list[str]:
    _load_handlers()
    return sorted({_display_names[binding_type] for binding_type, way in _handlers if way == direction})


def check_function(function_name: str, bindings: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The function's one trigger binding, after every binding was checked against what this host runs.

    Raises ConfigurationError naming the function, the binding and the supported types.
    """
    from durable_azure.functions.indexing import BindingDirection, binding_spec

    _load_handlers()
    triggers = [binding for binding in bindings if str(binding.get("type", "")).lower().endswith("trigger")]
    if len(triggers) != 1:
        raise ConfigurationError(
            f"function {function_name!r}: needs exactly one trigger binding, found {len(triggers)}"
        )
    trigger = triggers[0]
    trigger_type = str(trigger.get("type"))
    supported_triggers = trigger_types()
    if trigger_type.lower() not in {name.lower() for name in supported_triggers}:
        raise ConfigurationError(
            f"function {function_name!r}: trigger {trigger.get('name')!r} has type {trigger_type!r}, which "
            f"durable-azure does not run; supported triggers: {', '.join(supported_triggers)}"
        )
    for raw in bindings:
        if raw is trigger:
            continue
        binding = binding_spec(function_name, raw)
        if binding.direction is BindingDirection.INOUT:
            raise ConfigurationError(
                f"function {function_name!r}: binding {binding.name!r} has direction inout, which Python functions "
                "do not support (as the Python worker): declare an input and an output binding instead"
            )
        if binding.name == "$return" and binding.direction is not BindingDirection.OUT:
            raise ConfigurationError(f"function {function_name!r}: the $return binding must have direction out")
        direction = "out" if binding.direction is BindingDirection.OUT else "in"
        handler = _handlers.get((binding.kind, direction))
        if handler is None:
            raise ConfigurationError(
                f"function {function_name!r}: {direction}put binding {binding.name!r} has type {binding.type!r}, "
                f"which durable-azure does not support; supported {direction}puts: {', '.join(supported(direction))}"
            )
        handler.check(function_name, binding)
        _check_settings(function_name, binding)
    return trigger


_SETTING_FIELDS = ("queueName", "path", "tableName", "partitionKey", "rowKey", "filter")
_DEFAULT_CONNECTIONS = {"", "storage", "azurewebjobsstorage"}


def _check_settings(function_name: str, binding: BindingSpec) -> None:
    """`%Setting%` in a binding's names, and its `connection`, must resolve now: a binding that could only fail
    at its first invocation (a queue message failing into its poison queue) stops the start instead."""
    import os

    from durable_azure.azure_storage import resolve_connection
    from durable_azure.functions.bindings.expressions import resolve_settings

    where = f"function {function_name!r}: binding {binding.name!r}"
    for key in _SETTING_FIELDS:
        value = binding.field(key)
        if isinstance(value, str):
            resolve_settings(value, where=where)
    connection = binding.field("connection")
    named = isinstance(connection, str) and connection.lower() not in _DEFAULT_CONNECTIONS
    if named and resolve_connection(connection, os.environ) is None:
        raise ConfigurationError(
            f"{where}: connection {connection!r}: no app setting AzureWebJobs{connection} or {connection} holds "
            f"a connection string, and no {connection}__* settings configure an identity-based connection"
        )


def _load_handlers() -> None:
    """Import the binding modules, which register themselves (kept lazy: they import the client layer)."""
    from durable_azure.functions.bindings import blob, client, http, queue, table  # noqa: F401


__all__ = [
    "BUILT_IN_TRIGGERS",
    "BindingHandler",
    "Write",
    "check_function",
    "handler_for",
    "register",
    "supported",
    "trigger_types",
]
