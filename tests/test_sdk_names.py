"""Name-for-name parity with azure.durable_functions 1.7: every public method and property of its classes.

The lists below are the spec, copied by hand from the SDK's source (models/*.py), so this test needs no SDK
install: each method's parameters in order with their defaults, whether it is async, and each property.
Ours must have every name, the SDK's parameters first, in the same order, with the same names, kinds and
defaults (extra parameters of ours only after them, with defaults), and each class must be importable from
`durable_azure` and from the same module path under `durable_azure.models`.

Left out for now, each set with its reason; nothing else is excluded.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

import durable_azure

REQUIRED = inspect.Parameter.empty
Params = tuple[tuple[str, Any], ...]
Member = tuple[str, Params | None]
"""(kind, parameters): kind is "method", "async", "classmethod", "init" or "property"."""


def _method(*params: tuple[str, Any] | str) -> Params:
    return tuple((param, REQUIRED) if isinstance(param, str) else param for param in params)


PROPERTY: Member = ("property", None)

SDK_CLASSES: dict[str, tuple[str, dict[str, Member]]] = {
    # class name: (module under models/, {member: (kind, parameters without self)})
    "DurableOrchestrationContext": (
        "DurableOrchestrationContext",
        {
            "__init__": (
                "init",
                _method(
                    "history",
                    "instanceId",
                    "isReplaying",
                    "parentInstanceId",
                    ("input", None),
                    ("upperSchemaVersion", 0),
                    ("maximumShortTimerDuration", None),
                    ("longRunningTimerIntervalDuration", None),
                    ("upperSchemaVersionNew", None),
                ),
            ),
            "from_json": ("classmethod", _method("json_string")),
            "call_activity": ("method", _method("name", ("input_", None), ("expected_type", None))),
            "call_activity_with_retry": (
                "method",
                _method("name", "retry_options", ("input_", None), ("expected_type", None)),
            ),
            "call_http": (
                "method",
                _method(
                    "method", "uri", ("content", None), ("headers", None), ("token_source", None), ("is_raw_str", False)
                ),
            ),
            "call_sub_orchestrator": (
                "method",
                _method("name", ("input_", None), ("instance_id", None), ("version", None), ("expected_type", None)),
            ),
            "call_sub_orchestrator_with_retry": (
                "method",
                _method(
                    "name",
                    "retry_options",
                    ("input_", None),
                    ("instance_id", None),
                    ("version", None),
                    ("expected_type", None),
                ),
            ),
            "get_input": ("method", _method(("expected_type", None))),
            "new_uuid": ("method", _method()),
            "task_all": ("method", _method("activities")),
            "task_any": ("method", _method("activities")),
            "set_custom_status": ("method", _method("status")),
            "custom_status": PROPERTY,
            "histories": PROPERTY,
            "instance_id": PROPERTY,
            "is_replaying": PROPERTY,
            "parent_instance_id": PROPERTY,
            "current_utc_datetime": PROPERTY,
            "function_context": PROPERTY,
            "call_entity": (
                "method",
                _method("entityId", "operationName", ("operationInput", None), ("expected_type", None)),
            ),
            "signal_entity": ("method", _method("entityId", "operationName", ("operationInput", None))),
            "will_continue_as_new": PROPERTY,
            "create_timer": ("method", _method("fire_at")),
            "wait_for_external_event": ("method", _method("name", ("expected_type", None))),
            "continue_as_new": ("method", _method("input_")),
            "new_guid": ("method", _method()),
            "version": PROPERTY,
            # Public instance attributes of the SDK's context (set in its __init__), properties here.
            "decision_started_event": PROPERTY,
            "open_tasks": PROPERTY,
            "deferred_tasks": PROPERTY,
        },
    ),
    "DurableOrchestrationClient": (
        "DurableOrchestrationClient",
        {
            "__init__": ("init", _method("context", ("function_invocation_id", None))),
            "start_new": (
                "async",
                _method(
                    "orchestration_function_name", ("instance_id", None), ("client_input", None), ("version", None)
                ),
            ),
            "create_check_status_response": ("method", _method("request", "instance_id")),
            "create_http_management_payload": ("method", _method("instance_id")),
            "read_entity_state": ("async", _method("entityId", ("task_hub_name", None), ("connection_name", None))),
            "get_client_response_links": ("method", _method("request", "instance_id")),
            "raise_event": (
                "async",
                _method(
                    "instance_id",
                    "event_name",
                    ("event_data", None),
                    ("task_hub_name", None),
                    ("connection_name", None),
                ),
            ),
            "get_status": (
                "async",
                _method("instance_id", ("show_history", False), ("show_history_output", False), ("show_input", False)),
            ),
            "get_status_all": ("async", _method()),
            "get_status_by": (
                "async",
                _method(
                    ("created_time_from", None),
                    ("created_time_to", None),
                    ("runtime_status", None),
                    ("instance_id_prefix", None),
                ),
            ),
            "purge_instance_history": ("async", _method("instance_id")),
            "purge_instance_history_by": (
                "async",
                _method(("created_time_from", None), ("created_time_to", None), ("runtime_status", None)),
            ),
            "terminate": ("async", _method("instance_id", "reason")),
            "wait_for_completion_or_create_check_status_response": (
                "async",
                _method(
                    "request",
                    "instance_id",
                    ("timeout_in_milliseconds", 10000),
                    ("retry_interval_in_milliseconds", 1000),
                ),
            ),
            "signal_entity": (
                "async",
                _method(
                    "entityId",
                    "operation_name",
                    ("operation_input", None),
                    ("task_hub_name", None),
                    ("connection_name", None),
                ),
            ),
            "rewind": ("async", _method("instance_id", "reason", ("task_hub_name", None), ("connection_name", None))),
            "suspend": ("async", _method("instance_id", "reason")),
            "restart": ("async", _method("instance_id", ("restart_with_new_instance_id", True))),
            "resume": ("async", _method("instance_id", "reason")),
            "task_hub_name": PROPERTY,  # an instance attribute of the SDK's client, from the binding
        },
    ),
    "RetryOptions": (
        "RetryOptions",
        {
            "__init__": ("init", _method("first_retry_interval_in_milliseconds", "max_number_of_attempts")),
            "first_retry_interval_in_milliseconds": PROPERTY,
            "max_number_of_attempts": PROPERTY,
            "to_json": ("method", _method()),
        },
    ),
    "DurableOrchestrationStatus": (
        "DurableOrchestrationStatus",
        {
            "__init__": (
                "init",
                _method(
                    ("name", None),
                    ("instanceId", None),
                    ("createdTime", None),
                    ("lastUpdatedTime", None),
                    ("input", None),
                    ("output", None),
                    ("runtimeStatus", None),
                    ("customStatus", None),
                    ("history", None),
                    ("**kwargs", None),
                ),
            ),
            "from_json": ("classmethod", _method("json_obj")),
            "to_json": ("method", _method()),
            "name": PROPERTY,
            "instance_id": PROPERTY,
            "created_time": PROPERTY,
            "last_updated_time": PROPERTY,
            "input_": PROPERTY,
            "output": PROPERTY,
            "runtime_status": PROPERTY,
            "custom_status": PROPERTY,
            "history": PROPERTY,
        },
    ),
    "PurgeHistoryResult": (
        "PurgeHistoryResult",
        {
            "__init__": ("init", _method("instancesDeleted", ("**kwargs", None))),
            "from_json": ("classmethod", _method("json_obj")),
            "instances_deleted": PROPERTY,
        },
    ),
    "OrchestrationRuntimeStatus": ("OrchestrationRuntimeStatus", {}),
    "DurableHttpRequest": (
        "DurableHttpRequest",
        {
            "__init__": (
                "init",
                _method("method", "uri", ("content", None), ("headers", None), ("token_source", None)),
            ),
            "method": PROPERTY,
            "uri": PROPERTY,
            "content": PROPERTY,
            "headers": PROPERTY,
            "token_source": PROPERTY,
            "to_json": ("method", _method()),
        },
    ),
    "TokenSource": ("TokenSource", {"__init__": ("init", _method())}),
    "TaskBase": (
        "Task",
        {
            # Public instance attributes of the SDK's TaskBase (its __init__), properties here.
            "id": PROPERTY,
            "state": PROPERTY,
            "is_played": PROPERTY,
            "result": PROPERTY,
            "is_completed": PROPERTY,
        },
    ),
    "ManagedIdentityTokenSource": (
        "TokenSource",
        {
            "__init__": ("init", _method("resource")),
            "resource": PROPERTY,
            "to_json": ("method", _method()),
        },
    ),
}

SDK_CLASSES.update(
    {
        "DurableEntityContext": (
            "DurableEntityContext",
            {
                "__init__": ("init", _method("name", "key", "exists", "state")),
                "entity_name": PROPERTY,
                "entity_key": PROPERTY,
                "operation_name": PROPERTY,
                "is_newly_constructed": PROPERTY,
                "from_json": ("classmethod", _method("json_str")),
                "set_state": ("method", _method("state")),
                "get_state": ("method", _method(("initializer", None), ("expected_type", None))),
                "get_input": ("method", _method(("expected_type", None))),
                "set_result": ("method", _method("result")),
                "destruct_on_exit": ("method", _method()),
            },
        ),
        "EntityId": (
            "utils.entity_utils",
            {
                "__init__": ("init", _method("name", "key")),
                "get_scheduler_id": ("method", _method("entity_id")),
                "get_entity_id": ("method", _method("scheduler_id")),
                "get_entity_id_url_path": ("method", _method("entity_id")),
            },
        ),
        "EntityStateResponse": (
            "EntityStateResponse",
            {
                "__init__": ("init", _method("entity_exists", ("entity_state", None))),
                "entity_exists": PROPERTY,
                "entity_state": PROPERTY,
            },
        ),
    }
)
"""The entity classes (issue 13)."""

SDK_RUNTIME_STATUSES = {
    "Running": "Running",
    "Completed": "Completed",
    "ContinuedAsNew": "ContinuedAsNew",
    "Failed": "Failed",
    "Canceled": "Canceled",
    "Terminated": "Terminated",
    "Pending": "Pending",
    "Suspended": "Suspended",
}

ALL_MEMBERS = "*"

_NOT_SUPPORTED = {
    ("DurableOrchestrationContext", "__init__"): (
        "the SDK builds the context from the extension's trigger JSON (history, instanceId, ...); here the "
        "engine builds it from the history it replays, so user code never constructs one"
    ),
}
"""Documented in the README's compatibility table, each with its reason."""


def _excluded(class_name: str, member: str) -> bool:
    keys = {(class_name, member), (class_name, ALL_MEMBERS)}
    return bool(keys & set(_NOT_SUPPORTED))


MEMBER_CASES = [
    pytest.param(class_name, member, spec, id=f"{class_name}.{member}")
    for class_name, (_, members) in SDK_CLASSES.items()
    for member, spec in members.items()
    if not _excluded(class_name, member)
]
CLASS_CASES = [name for name in SDK_CLASSES if not _excluded(name, ALL_MEMBERS)]


SDK_MODELS_ONLY = {"TaskBase"}
"""Classes the SDK exports from `azure.durable_functions.models` only, not from the package's top level."""

SDK_TOP_LEVEL_NAMES = {
    "Orchestrator",
    "Entity",
    "EntityId",
    "DurableOrchestrationClient",
    "DurableEntityContext",
    "DurableOrchestrationContext",
    "DurableFunctionsCompatibilityWarning",
    "ManagedIdentityTokenSource",
    "OrchestrationRuntimeStatus",
    "RetryOptions",
    "DFApp",
    "Blueprint",
}
"""azure.durable_functions.__all__ (1.7)."""

_ENTITY_NAMES_ISSUE_13 = {"Entity", "EntityId", "DurableEntityContext"}


def ours(class_name: str) -> type:
    package = durable_azure.models if class_name in SDK_MODELS_ONLY else durable_azure
    return getattr(package, class_name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("class_name", CLASS_CASES)
def test_the_class_is_importable_from_the_package_and_its_sdk_module_path(class_name: str) -> None:
    module_name, _ = SDK_CLASSES[class_name]
    models = importlib.import_module("durable_azure.models")
    module = importlib.import_module(f"durable_azure.models.{module_name}")
    assert getattr(module, class_name) is ours(class_name)
    assert getattr(models, class_name) is ours(class_name)  # also after its module was imported, as in the SDK
    assert class_name in models.__all__
    assert durable_azure.models is models


@pytest.mark.parametrize("name", sorted(SDK_TOP_LEVEL_NAMES - _ENTITY_NAMES_ISSUE_13))
def test_every_top_level_sdk_name_is_there(name: str) -> None:
    assert name in durable_azure.__all__
    assert getattr(durable_azure, name) is not None


def test_the_compatibility_warning_is_a_user_warning_apps_can_filter() -> None:
    import warnings

    category = durable_azure.DurableFunctionsCompatibilityWarning
    assert issubclass(category, UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=category)
        warnings.warn("v1 model", category, stacklevel=1)
    assert caught == []


@pytest.mark.parametrize(("class_name", "member", "spec"), MEMBER_CASES)
def test_every_sdk_member_exists_with_the_same_parameters(class_name: str, member: str, spec: Member) -> None:
    cls = ours(class_name)
    kind, params = spec
    assert hasattr(cls, member), f"{class_name}.{member} is missing"
    static = inspect.getattr_static(cls, member)
    if kind == "property":
        # A property, or a field of a frozen dataclass (RetryOptions): readable on instances, by that name.
        assert isinstance(static, property) or member in getattr(cls, "__dataclass_fields__", {}), member
        return
    if kind == "classmethod":
        assert isinstance(static, classmethod), f"{class_name}.{member} must be a classmethod"
    function = getattr(cls, member)
    assert inspect.iscoroutinefunction(function) == (kind == "async"), f"{class_name}.{member}: async must match"
    signature = inspect.signature(function)
    ours_params = [p for p in signature.parameters.values() if p.name not in ("self", "cls")]
    assert params is not None
    _check_parameters(f"{class_name}.{member}", params, ours_params)


def _check_parameters(where: str, sdk: Params, ours_params: list[inspect.Parameter]) -> None:
    positional = [(name, default) for name, default in sdk if not name.startswith("**")]
    for index, (name, default) in enumerate(positional):
        assert index < len(ours_params), f"{where}: parameter {name!r} is missing"
        param = ours_params[index]
        assert param.name == name, f"{where}: parameter {index} is {param.name!r}, the SDK's is {name!r}"
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, f"{where}: {name!r} must be positional too"
        assert param.default == default, f"{where}: {name!r} defaults to {param.default!r}, the SDK's to {default!r}"
    for param in ours_params[len(positional) :]:
        extra_ok = param.kind is inspect.Parameter.VAR_KEYWORD or param.default is not REQUIRED
        assert extra_ok, f"{where}: our extra parameter {param.name!r} needs a default"
    if any(name.startswith("**") for name, _ in sdk):
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ours_params), f"{where}: must accept **kwargs"


def test_runtime_status_members_and_values_are_the_sdks() -> None:
    status = ours("OrchestrationRuntimeStatus")
    assert {member.name: member.value for member in status} == SDK_RUNTIME_STATUSES


def test_the_unsupported_context_constructor_and_from_json_say_why() -> None:
    context_class = ours("DurableOrchestrationContext")
    with pytest.raises(NotImplementedError, match="OrchestrationExecutor"):
        context_class.from_json('{"history": []}')


def test_exclusions_name_only_real_sdk_members() -> None:
    """A typo in an exclusion would silently skip nothing; every excluded pair must be in the spec."""
    for class_name, member in _NOT_SUPPORTED:
        assert class_name in SDK_CLASSES
        assert member == ALL_MEMBERS or member in SDK_CLASSES[class_name][1]
