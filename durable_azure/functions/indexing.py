"""Index an app folder: its HTTP functions for the host, its orchestrators and activities for the worker.

Two layouts load, as under the Functions host: the Python v2 model (function_app.py with one function app,
`df.DFApp` or `func.FunctionApp`, see `loader.py`) and the v1 model (one folder per function with
function.json and __init__.py, see `v1.py`). Both end in the same `AppIndex`, whose bindings are read from
the same JSON shape (function.json's, which the v2 decorators also produce), so the host invokes a v1
function exactly as a v2 one.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import azure.functions as func

from durable_azure.errors import ConfigurationError
from durable_azure.functions import official_sdk
from durable_azure.functions.app import durable_registry
from durable_azure.functions.context import context_parameter
from durable_azure.functions.loader import APP_FILE, load_function_app
from durable_azure.functions.urls import ManagementUrls
from durable_azure.worker.registry import Registry

if TYPE_CHECKING:
    from durable_azure.azure_storage import StorageAccount
    from durable_azure.client import DurableOrchestrationClient

HTTP_TRIGGER = "httpTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"
RETURN_BINDING_NAME = "$return"
ANONYMOUS, FUNCTION, ADMIN = "anonymous", "function", "admin"
AUTH_LEVELS = (ANONYMOUS, FUNCTION, ADMIN)


class ProgrammingModel(enum.Enum):
    """Decides how a client binding is handed over: v2 passes the client, v1 its JSON string."""

    V1 = "v1"
    V2 = "v2"


class BindingDirection(enum.Enum):
    IN = "in"
    OUT = "out"
    INOUT = "inout"


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingSpec:
    """One binding of a function, as function.json (or the v2 decorators) declare it."""

    name: str
    type: str
    direction: BindingDirection
    task_hub: str | None = None
    connection_name: str | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The whole function.json object (camelCase keys), for the fields of each binding type."""

    @property
    def kind(self) -> str:
        """The type, lower-cased: function.json compares binding types without case."""
        return self.type.lower()

    def field(self, key: str, default: Any = None) -> Any:
        """A function.json field by its camelCase name, compared without case as the host reads them."""
        for name, value in self.raw.items():
            if name.lower() == key.lower():
                return value
        return default


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpFunction:
    """An HTTP-triggered function the host serves at `/api/{route}`."""

    name: str
    route: str
    """Route template without the /api prefix, e.g. "orchestrators/{functionName}"."""
    methods: tuple[str, ...]
    """Upper-case HTTP methods; empty means all."""
    auth_level: str
    """"anonymous", "function" or "admin"."""
    function: Callable[..., Any]
    trigger_name: str
    """The parameter that receives the HttpRequest."""
    bindings: tuple[BindingSpec, ...]
    """Every other binding, including `$return` and client bindings."""
    model: ProgrammingModel = ProgrammingModel.V2
    orchestrator_names: frozenset[str] | None = None
    """Lower-case names of the app's orchestrators: an output-binding start of another name is refused."""
    directory: Path | None = None
    """The function's folder (v1) or the app folder (v2): `func.Context.function_directory`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggeredFunction:
    """A function started by something other than HTTP or the Durable runtime: timer, queue or blob.

    Activities that declare bindings besides their trigger are indexed this way too, so the worker calls
    them through the same binding code as every other function.
    """

    name: str
    function: Callable[..., Any]
    trigger: BindingSpec
    bindings: tuple[BindingSpec, ...]
    """Every binding but the trigger, including `$return`."""
    model: ProgrammingModel = ProgrammingModel.V2
    orchestrator_names: frozenset[str] | None = None
    directory: Path | None = None

    @property
    def trigger_name(self) -> str:
        return self.trigger.name


@dataclass(frozen=True, slots=True, kw_only=True)
class AppIndex:
    http_functions: list[HttpFunction]
    registry: Registry
    triggered: list[TriggeredFunction] = dataclasses.field(default_factory=list)
    """Timer, queue and blob functions, run by `functions.triggers` on every process that runs the app."""
    bound_activities: dict[str, TriggeredFunction] = dataclasses.field(default_factory=dict)
    """Activities (by durable name) with bindings besides their trigger: the host wraps them at start-up."""
    unmodified: bool = False
    """An app run unchanged on azure.durable_functions (official_sdk.py): its orchestrators are the official
    SDK's, or it has none of ours and declares functions with the official SDK. Its orchestrators decode
    what the official client posts themselves, so the RPC listener stores those bodies as received."""

    @property
    def orchestrator_names(self) -> frozenset[str]:
        """Every orchestrator's name, ours or the official SDK's, as declared (not lower-cased)."""
        return orchestrator_names(self.registry)


def orchestrator_names(registry: Registry) -> frozenset[str]:
    """The names of a registry's orchestrators, whichever SDK they are written with."""
    return frozenset([*registry.orchestrators, *registry.sdk_orchestrators])


@dataclass(frozen=True, slots=True, kw_only=True)
class InvocationServices:
    """What the host gives each invocation."""

    client: DurableOrchestrationClient
    """A client for the app's own task hub and connection."""
    client_for: Callable[[str | None, str | None], Awaitable[DurableOrchestrationClient]]
    """(task_hub, connection_name) -> a client; for bindings that name another hub or connection."""
    management: ManagementUrls
    """The app's management links; the bindings derive other hubs' links from it."""
    account_for: Callable[[str | None], StorageAccount] | None = None
    """connection name (empty: AzureWebJobsStorage) -> its storage account, for storage bindings and triggers."""
    host_id: str = ""
    """The host id of `azure-webjobs-hosts` paths (timer status, locks, blob receipts)."""


def index_app(app_dir: Path) -> AppIndex:
    """Index a v2 app (function_app.py) or, when there is none, a v1 app (function.json folders).

    Raises ConfigurationError (one line) when the folder holds neither, an import fails, a function.json
    is malformed, or a binding is unusable.
    """
    app_dir = Path(app_dir).resolve()
    if (app_dir / APP_FILE).is_file():
        return _index_v2(app_dir)
    from durable_azure.functions import v1

    if v1.has_function_folders(app_dir):
        return v1.index_v1_app(app_dir)
    raise ConfigurationError(
        f"no {APP_FILE} and no function folders (*/function.json) in {app_dir}: "
        "run in your function app's folder or pass --app-dir"
    )


def _index_v2(app_dir: Path) -> AppIndex:
    """The one function app of function_app.py (`df.DFApp` or `func.FunctionApp`, blueprints included)."""
    app = load_function_app(app_dir)
    registry = durable_registry(app)
    try:
        functions = app.get_functions()
    except ValueError as error:  # two functions with one name: azure.functions' own check
        raise ConfigurationError(f"{app_dir / APP_FILE}: {error}") from error
    declared_with_sdk = official_sdk.is_official(app) or any(map(official_sdk.declared_with_sdk, functions))
    builder = IndexBuilder(registry, declared_with_sdk=declared_with_sdk)
    for function in functions:
        bindings = [binding.get_dict_repr() for binding in function.get_bindings()]
        builder.add(
            function.get_function_name() or function.get_user_function().__name__,
            function.get_user_function(),
            bindings,
            ProgrammingModel.V2,
            app_dir,
        )
    return builder.build()


class IndexBuilder:
    """Sorts an app's functions by trigger, after checking every binding against what this host runs.

    Orchestrators and activities are already in the registry (v2: `build_registry`; v1: `v1.py`); an
    activity that declares other bindings is also kept as a TriggeredFunction, so the host can wrap it.
    """

    def __init__(self, registry: Registry, *, declared_with_sdk: bool = False) -> None:
        self.registry = registry
        self.declared_with_sdk = declared_with_sdk
        """Some function was declared with azure.durable_functions (v2 decorators, v1 `Orchestrator.create`)."""
        self.http_functions: list[HttpFunction] = []
        self.triggered: list[TriggeredFunction] = []
        self.bound_activities: dict[str, TriggeredFunction] = {}

    def add(
        self,
        name: str,
        function: Callable[..., Any],
        bindings: Sequence[Mapping[str, Any]],
        model: ProgrammingModel,
        directory: Path,
    ) -> None:
        from durable_azure.functions.bindings import check_function

        trigger_binding = check_function(name, bindings)
        trigger = binding_spec(name, trigger_binding)
        trigger_type = trigger.kind
        if trigger_type == HTTP_TRIGGER.lower():
            http_function = http_function_from_bindings(name, function, bindings, model)
            assert http_function is not None
            self.http_functions.append(dataclasses.replace(http_function, directory=directory))
            return
        others = tuple(binding_spec(name, binding) for binding in bindings if binding is not trigger_binding)
        _check_not_http_only(name, trigger, others)
        spec = TriggeredFunction(
            name=name, function=function, trigger=trigger, bindings=others, model=model, directory=directory
        )
        if trigger_type == ACTIVITY_TRIGGER.lower():
            # The worker calls a plain activity with its input alone; one with bindings or a func.Context
            # parameter goes through invocation.py, which fills them.
            if others or context_parameter(function, {trigger.name, *(binding.name for binding in others)}):
                self.bound_activities[trigger.field("activity") or name] = spec
        elif trigger_type in (ORCHESTRATION_TRIGGER.lower(), ENTITY_TRIGGER.lower()):
            if others:  # the engine runs these itself; nothing would ever read or write their bindings
                kind = "an orchestrator" if trigger_type == ORCHESTRATION_TRIGGER.lower() else "an entity"
                raise ConfigurationError(
                    f"function {name!r}: {kind} takes no bindings besides its trigger, found "
                    f"{', '.join(f'{binding.name!r} ({binding.type})' for binding in others)}; move them to an "
                    "activity or a client function"
                )
        else:
            from durable_azure.functions.triggers import check_trigger

            check_trigger(spec)
            self.triggered.append(spec)

    def build(self) -> AppIndex:
        names = frozenset(name.lower() for name in orchestrator_names(self.registry))

        def told(function: Any) -> Any:
            return dataclasses.replace(function, orchestrator_names=names)

        return AppIndex(
            http_functions=[told(function) for function in self.http_functions],
            registry=self.registry,
            triggered=[told(function) for function in self.triggered],
            bound_activities={name: told(function) for name, function in self.bound_activities.items()},
            unmodified=bool(self.registry.sdk_orchestrators)
            or (self.declared_with_sdk and not self.registry.orchestrators),
        )


def _check_not_http_only(name: str, trigger: BindingSpec, others: tuple[BindingSpec, ...]) -> None:
    """An `http` output means the HTTP response: on a function no HTTP request starts, nothing would send it."""
    for binding in others:
        if binding.kind == "http":
            raise ConfigurationError(
                f"function {name!r}: binding {binding.name!r} is an http output, but the function's trigger is "
                f"{trigger.type}; only an httpTrigger function answers an HTTP request"
            )


def http_function_from_bindings(
    name: str, function: Callable[..., Any], bindings: Sequence[Mapping[str, Any]], model: ProgrammingModel
) -> HttpFunction | None:
    """The HttpFunction of a function whose bindings (function.json shape) have an httpTrigger; else None."""
    triggers = [binding for binding in bindings if _text(binding.get("type")).lower() == HTTP_TRIGGER.lower()]
    if not triggers:
        return None
    trigger = triggers[0]
    methods = tuple(_text(method).upper() for method in trigger.get("methods") or ())
    return HttpFunction(
        name=name,
        route=(trigger.get("route") or name).strip("/"),
        methods=methods,
        auth_level=_auth_level(name, trigger.get("authLevel")),
        function=function,
        trigger_name=trigger["name"],
        bindings=tuple(binding_spec(name, binding) for binding in bindings if binding is not trigger),
        model=model,
    )


def binding_spec(function_name: str, binding: Mapping[str, Any]) -> BindingSpec:
    """One binding from its function.json object; ConfigurationError naming the function when malformed."""
    name, binding_type = binding.get("name"), binding.get("type")
    if not isinstance(name, str) or not isinstance(binding_type, str):
        raise ConfigurationError(f"function {function_name!r}: every binding needs a string 'name' and 'type'")
    try:
        direction = BindingDirection(_text(binding.get("direction", "in")).lower())
    except ValueError:
        raise ConfigurationError(
            f"function {function_name!r}: binding {name!r} has direction {binding.get('direction')!r}; "
            "expected in, out or inout"
        ) from None
    return BindingSpec(
        name=name,
        type=binding_type,
        direction=direction,
        task_hub=binding.get("taskHub"),
        connection_name=binding.get("connectionName"),
        raw=dict(binding),
    )


def _auth_level(function_name: str, level: Any) -> str:
    text = _text(level if level is not None else func.AuthLevel.FUNCTION).lower()
    if text not in AUTH_LEVELS:
        raise ConfigurationError(f"function {function_name!r}: authLevel {level!r} is not one of {AUTH_LEVELS}")
    return text


def _text(value: Any) -> str:
    """Enum members (AuthLevel, HttpMethod, BindingDirection) print as their value or name, like function.json."""
    if isinstance(value, enum.Enum):
        return str(value.value) if isinstance(value.value, str) else value.name
    return str(value)
