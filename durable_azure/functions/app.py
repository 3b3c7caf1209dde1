"""`DFApp` and `Blueprint`: the decorators of azure.durable_functions' Python v2 model, on our runtime.

A user's function_app.py changes one import (`import durable_azure as df`) and keeps its decorators. The
decorators register the same binding metadata as azure.durable_functions, through azure.functions'
function builders, so everything else an azure.functions app does (`route`, `function_name`, blueprints,
`get_functions()`) keeps working. Unlike the original, orchestrators are not wrapped: the worker runs the
user's generator function itself, so `build_registry()` hands it over as written.

The module-level app may also be a plain `func.FunctionApp`: blueprints (ours or azure.functions') register
into either, and `durable_registry` reads orchestrators and activities from any of them.

The name an orchestrator or activity is called by is the decorator's `orchestration=` / `activity=`
argument, else the function name (`@app.function_name` or the Python name), as the extension resolves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import azure.functions as func
from azure.functions.decorators.function_app import DecoratorApi, Function, FunctionBuilder, FunctionRegister

from durable_azure.entities import EntityFunction, entity_function_of
from durable_azure.errors import ConfigurationError
from durable_azure.functions import official_sdk
from durable_azure.functions.activity_converters import with_worker_converters
from durable_azure.functions.metadata import (
    ACTIVITY_TRIGGER,
    ENTITY_TRIGGER,
    ORCHESTRATION_TRIGGER,
    ActivityTrigger,
    DurableClient,
    EntityTrigger,
    OrchestrationTrigger,
)
from durable_azure.protocol import SdkEntity, SdkOrchestrator
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
        """Register an entity function; the parameter named `context_name` receives the entity context.

        The function runs once per operation (`context.operation_name`); `entity_name` overrides its name.
        """
        trigger = EntityTrigger(name=context_name, entity_name=entity_name)
        return self._durable_decorator(lambda builder: builder.add_trigger(trigger=trigger), entity_name)

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
        """Every orchestrator and activity of this app and its registered blueprints: `durable_registry(self)`."""
        return durable_registry(self)


def durable_registry(app: FunctionRegister) -> Registry:
    """Every orchestrator, activity and entity of any function app (`DFApp`, `func.FunctionApp`) and blueprints.

    Functions are recognised by their trigger's binding type, not by our metadata classes, so an app whose
    durable functions came through `func.FunctionApp`'s own durable decorators is read the same way. An
    orchestrator declared with azure.durable_functions' decorators (its handler, `Orchestrator.create(fn)`)
    becomes an SdkOrchestrator, run through the official SDK's protocol (official_sdk.py). Raises
    ConfigurationError when two orchestrators (or two activities) share a name (names compare without case,
    because Azure Functions function names do), or when the app mixes both SDKs' orchestrators. An entity
    declared with azure.durable_functions becomes an SdkEntity, and an activity the Python worker's converter
    (activity_converters.py).
    """
    orchestrators: dict[str, Callable[..., Any]] = {}
    sdk_orchestrators: dict[str, SdkOrchestrator] = {}
    activities: dict[str, ActivityFunction] = {}
    entities: dict[str, EntityFunction] = {}
    seen: dict[tuple[str, str], str] = {}
    # The builders, not `get_functions()`: azure.functions lets an app's get_functions() run only once.
    for builder in app._function_builders:
        function = builder.build(app.auth_level)
        trigger = function.get_trigger()
        fields = trigger.get_dict_repr() if trigger is not None else {}
        trigger_type = str(fields.get("type", "")).lower()
        if trigger_type == ORCHESTRATION_TRIGGER.lower():
            name = _register_name(builder, function, fields.get("orchestration"), "orchestrator", seen)
            handle = function.get_user_function()
            if official_sdk.is_sdk_orchestrator(handle):
                sdk_orchestrators[name] = SdkOrchestrator(name=name, handle=handle)
            else:
                orchestrators[name] = handle
        elif trigger_type == ACTIVITY_TRIGGER.lower():
            name = _register_name(builder, function, fields.get("activity"), "activity", seen)
            activity = ActivityFunction(
                name=name, function=function.get_user_function(), input_name=str(fields["name"])
            )
            # Declared with azure.durable_functions: its input and result go through the worker's converter.
            activities[name] = (
                with_worker_converters(activity) if official_sdk.declared_with_sdk(function) else activity
            )
        elif trigger_type == ENTITY_TRIGGER.lower():
            name = _register_name(builder, function, fields.get("entityName"), "entity", seen)
            handle = function.get_user_function()
            if official_sdk.is_sdk_entity(handle):  # the SDK's handler: one call per batch (protocol/entity.py)
                entities[name.lower()] = SdkEntity(name, handle)
            else:
                entities[name.lower()] = entity_function_of(handle)
    official_sdk.check_not_mixed(orchestrators, sdk_orchestrators)
    return Registry(
        orchestrators=orchestrators, activities=activities, entities=entities, sdk_orchestrators=sdk_orchestrators
    )


@contextmanager
def durable_decorators_on_azure_functions() -> Iterator[None]:
    """While an app is imported, `func.FunctionApp` / `func.Blueprint`'s own durable decorators build ours.

    azure.functions implements `@app.orchestration_trigger` and friends on its plain FunctionApp by importing
    the installed Durable Functions SDK and delegating to its Blueprint. On this host, durable-azure is that
    SDK: without this, those decorators would fail (azure-functions-durable missing) or wrap orchestrators
    for the .NET host's protocol (installed). Scoped to the import, so nothing else sees the change.
    """
    original = DecoratorApi.__dict__["_get_durable_blueprint"]
    # setattr: mypy refuses assigning to a method, and this is the one place that does.
    setattr(DecoratorApi, "_get_durable_blueprint", lambda self: Blueprint())  # noqa: B010
    try:
        yield
    finally:
        setattr(DecoratorApi, "_get_durable_blueprint", original)  # noqa: B010


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
