"""`DFApp` and `Blueprint`: the decorators of azure.durable_functions' Python v2 model, on our runtime.

A user's function_app.py changes one import (`import durable_azure as df`) and keeps its decorators. The
decorators register the same binding metadata as azure.durable_functions, through azure.functions'
function builders, so everything else an azure.functions app does (`route`, `function_name`, blueprints,
`get_functions()`) keeps working. Unlike the original, orchestrators are not wrapped: the worker runs the
user's generator function itself, so `build_registry()` hands it over as written.

The name an orchestrator or activity is called by is the decorator's `orchestration=` / `activity=`
argument, else the function name (`@app.function_name` or the Python name), as the extension resolves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func
from azure.functions.decorators.function_app import DecoratorApi, Function, FunctionBuilder

from durable_azure.errors import ConfigurationError
from durable_azure.functions.metadata import ActivityTrigger, DurableClient, OrchestrationTrigger
from durable_azure.worker.registry import ActivityFunction, Registry

DURABLE_NAME_ATTRIBUTE = "_durable_name"
"""Set on decorated functions (and their builders) so `context.call_activity(say_hello)` finds the name."""


class _DurableDecorators(DecoratorApi):
    """The Durable Functions decorators, mixed into azure.functions' FunctionApp and Blueprint."""

    def orchestration_trigger(self, context_name: str, orchestration: str | None = None) -> Callable[..., Any]:
        """Register an orchestrator; the parameter named `context_name` receives the orchestration context."""
        trigger = OrchestrationTrigger(name=context_name, orchestration=orchestration)
        return self._durable_decorator(lambda builder: builder.add_trigger(trigger=trigger), orchestration)

    def activity_trigger(self, input_name: str, activity: str | None = None) -> Callable[..., Any]:
        """Register an activity; the parameter named `input_name` receives the activity's input."""
        trigger = ActivityTrigger(name=input_name, activity=activity)
        return self._durable_decorator(lambda builder: builder.add_trigger(trigger=trigger), activity)

    def durable_client_input(
        self, client_name: str, task_hub: str | None = None, connection_name: str | None = None
    ) -> Callable[..., Any]:
        """Declare a `durableClient` input binding on the parameter named `client_name`."""
        binding = DurableClient(name=client_name, task_hub=task_hub, connection_name=connection_name)
        return self._durable_decorator(lambda builder: builder.add_binding(binding=binding), None)

    def entity_trigger(self, context_name: str, entity_name: str | None = None) -> Callable[..., Any]:
        """Durable entities are not implemented yet; fail at import time rather than at the first call."""
        raise ConfigurationError(
            f"entity functions are not supported by durable-azure yet (entity_trigger({context_name!r}))"
        )

    def _durable_decorator(
        self, configure: Callable[[FunctionBuilder], object], name_override: str | None
    ) -> Callable[..., Any]:
        def configure_builder(builder: FunctionBuilder) -> FunctionBuilder:
            configure(builder)
            _set_durable_name(builder, name_override or _user_function(builder).__name__)
            return builder

        # azure.functions' own hook for new decorators: accepts a plain function or a builder from another decorator.
        return self._configure_function_builder(configure_builder)


class Blueprint(_DurableDecorators, func.Blueprint):
    """A collection of functions to register on a `DFApp` with `register_functions` / `register_blueprint`."""


class DFApp(_DurableDecorators, func.FunctionApp):
    """The app object of a function_app.py; the worker reads its orchestrators and activities."""

    def __init__(self, http_auth_level: func.AuthLevel | str = func.AuthLevel.FUNCTION) -> None:
        super().__init__(http_auth_level=http_auth_level)

    def build_registry(self) -> Registry:
        """Every orchestrator and activity of this app and its registered blueprints, by name.

        Raises ConfigurationError when two orchestrators (or two activities) share a name; names compare
        without case, because Azure Functions function names do.
        """
        orchestrators: dict[str, Callable[..., Any]] = {}
        activities: dict[str, ActivityFunction] = {}
        seen: dict[tuple[str, str], str] = {}
        for builder in self._function_builders:
            function = builder.build(self.auth_level)
            trigger = function.get_trigger()
            if isinstance(trigger, OrchestrationTrigger):
                name = _register_name(builder, function, trigger.orchestration, "orchestrator", seen)
                orchestrators[name] = function.get_user_function()
            elif isinstance(trigger, ActivityTrigger):
                name = _register_name(builder, function, trigger.activity, "activity", seen)
                activities[name] = ActivityFunction(
                    name=name, function=function.get_user_function(), input_name=trigger.name
                )
        return Registry(orchestrators=orchestrators, activities=activities)


def _register_name(
    builder: FunctionBuilder, function: Function, override: str | None, kind: str, seen: dict[tuple[str, str], str]
) -> str:
    """The durable name of one function; also refreshes `_durable_name`, since `@app.function_name` may run later."""
    name = override or function.get_function_name() or function.get_user_function().__name__
    key = (kind, name.lower())
    if key in seen:
        raise ConfigurationError(
            f"two {kind} functions are named {name!r}: {seen[key]!r} and {function.get_user_function().__name__!r}"
        )
    seen[key] = function.get_user_function().__name__
    _set_durable_name(builder, name)
    return name


def _user_function(builder: FunctionBuilder) -> Callable[..., Any]:
    # FunctionBuilder has no public getter for the function it wraps; azure.functions' own DF hook reads it so too.
    return builder._function.get_user_function()


def _set_durable_name(builder: FunctionBuilder, name: str) -> None:
    setattr(builder, DURABLE_NAME_ATTRIBUTE, name)
    setattr(_user_function(builder), DURABLE_NAME_ATTRIBUTE, name)
