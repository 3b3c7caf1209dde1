"""One invocation of a user function, whatever its trigger: inputs read, the call, outputs written after success.

As the Python worker does: the trigger parameter receives the trigger's value; each input binding's parameter
its value (`bindings/`); each output binding's parameter a `func.Out`; a parameter annotated `func.Context`
(or named `context` and bound to nothing else) the invocation context. Only the parameters the function
declares are passed. Synchronous functions run in a thread, so they cannot stall the host's event loop.

Outputs are written only when the function returned: every output value is checked first (a bad value fails
the invocation before any write), then written in declaration order; a failed write fails the invocation
with a FunctionInvocationError naming the binding. Exceptions of the user's code propagate unchanged.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import azure.functions as func

from durable_azure.errors import DurableAzureError, FunctionInvocationError
from durable_azure.functions import bindings
from durable_azure.functions.context import InvocationContext, context_parameter
from durable_azure.functions.indexing import (
    RETURN_BINDING_NAME,
    BindingDirection,
    BindingSpec,
    InvocationServices,
    ProgrammingModel,
)

if TYPE_CHECKING:
    from durable_azure.functions.bindings import Write


class Invocable(Protocol):
    """What an invocation needs of a function: HttpFunction and TriggeredFunction both have it."""

    @property
    def name(self) -> str: ...
    @property
    def function(self) -> Callable[..., Any]: ...
    @property
    def trigger_name(self) -> str: ...
    @property
    def bindings(self) -> tuple[BindingSpec, ...]: ...
    @property
    def model(self) -> ProgrammingModel: ...
    @property
    def orchestrator_names(self) -> frozenset[str] | None: ...
    @property
    def directory(self) -> Path | None: ...


class OutputValue(func.Out):
    """The `func.Out` a function's output-binding parameter receives."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


@dataclass(slots=True, kw_only=True)
class Invocation:
    """One call in progress: what the binding handlers read (services, binding data) and keep (cleanups)."""

    function: Invocable
    services: InvocationServices
    binding_data: Mapping[str, Any]
    """Trigger metadata and route parameters, for `{name}` binding expressions."""
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    outputs: dict[str, OutputValue] = field(default_factory=dict)
    result: Any = None

    @property
    def function_name(self) -> str:
        return self.function.name

    async def call(self, arguments: dict[str, Any]) -> Any:
        """Call the function with `arguments` (the trigger's and the bindings'), keeping its return value."""
        self.result = await _call(self.function.function, _accepted(self.function.function, arguments))
        return self.result

    def output(self, name: str) -> Any:
        """The value an output binding holds after the call (`$return` is the return value)."""
        if name == RETURN_BINDING_NAME:
            return self.result
        slot = self.outputs.get(name)
        return slot.get() if slot is not None else None

    async def write_outputs(self, *, skip: Callable[[BindingSpec], bool] = lambda binding: False) -> None:
        """Check every output binding's value, then write them in order; nothing is written if one is bad."""
        writes: list[tuple[BindingSpec, Write]] = []
        for binding in self.function.bindings:
            if binding.direction is not BindingDirection.OUT or skip(binding):
                continue
            write = await bindings.handler_for(binding).plan(self, binding, self.output(binding.name))
            if write is not None:
                writes.append((binding, write))
        for binding, write in writes:
            try:
                await write()
            except FunctionInvocationError:
                raise
            except (DurableAzureError, OSError) as error:
                raise FunctionInvocationError(
                    f"function {self.function_name!r}: output binding {binding.name!r} ({binding.type}) "
                    f"could not be written: {error}"
                ) from error


@asynccontextmanager
async def invocation(
    function: Invocable,
    trigger_value: Any,
    services: InvocationServices,
    *,
    binding_data: Mapping[str, Any] | None = None,
) -> AsyncIterator[tuple[Invocation, dict[str, Any]]]:
    """The invocation and the call's arguments; input values (e.g. v1 client strings) live until the block ends."""
    current = Invocation(function=function, services=services, binding_data=dict(binding_data or {}))
    arguments: dict[str, Any] = {function.trigger_name: trigger_value}
    try:
        for binding in function.bindings:
            if binding.direction is BindingDirection.OUT:
                current.outputs[binding.name] = OutputValue()
                if binding.name != RETURN_BINDING_NAME:
                    arguments[binding.name] = current.outputs[binding.name]
            else:
                arguments[binding.name] = await bindings.handler_for(binding).read(current, binding)
        context_name = context_parameter(function.function, arguments)
        if context_name is not None:
            directory = str(function.directory) if function.directory is not None else ""
            arguments[context_name] = InvocationContext(current.invocation_id, function.name, directory)
        yield current, arguments
    finally:
        for cleanup in reversed(current.cleanups):
            cleanup()


async def invoke(
    function: Invocable,
    trigger_value: Any,
    services: InvocationServices,
    *,
    binding_data: Mapping[str, Any] | None = None,
) -> Any:
    """Call a non-HTTP function and write its outputs (`$return` included); returns its return value."""
    async with invocation(function, trigger_value, services, binding_data=binding_data) as (current, arguments):
        result = await current.call(arguments)
        await current.write_outputs()
    return result


def _accepted(function: Callable[..., Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments the function declares (unless it takes **kwargs), as the Python worker passes them."""
    parameters = inspect.signature(function).parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return arguments
    names = {parameter.name for parameter in parameters}
    return {name: value for name, value in arguments.items() if name in names}


async def _call(function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """Async functions run on the loop; synchronous ones in a thread, so they cannot stall the host."""
    if inspect.iscoroutinefunction(function):
        return await function(**arguments)
    contexts = [value for value in arguments.values() if isinstance(value, InvocationContext)]

    def run() -> Any:
        # As the Python worker: `context.thread_local_storage.invocation_id` is set in the thread that runs
        # the function, so logging helpers that read it there find it.
        for context in contexts:
            context.thread_local_storage.invocation_id = context.invocation_id
        return function(**arguments)

    result = await asyncio.to_thread(run)
    return await result if inspect.isawaitable(result) else result


__all__ = ["Invocable", "Invocation", "OutputValue", "invocation", "invoke"]
