"""Apps still written against azure.durable_functions, the official SDK: recognised, and run unchanged.

An unmodified app keeps `import azure.durable_functions as df`. The official decorators (and v1's
`df.Orchestrator.create`) wrap each orchestrator in a handler that speaks the extension's out-of-process
JSON protocol; this host serves that protocol (`durable_azure.protocol`), so such an orchestrator becomes an
`SdkOrchestrator`, and each entity (`df.Entity.create`, `@app.entity_trigger`) an `SdkEntity`, given the
extension's batches. Its activities are plain functions, given the Python worker's converter. Its client
functions are wrapped in a middleware that builds the official client from the binding's JSON string, which
the host hands them (bindings/client.py); that client talks to the host's local RPC endpoint (rpc_listener.py).

What does not run, and is a start-up error naming the function and its file rather than a silent skip: an
app mixing our orchestrators with the official SDK's, since a worker runs one protocol (and each expects the
official client's inputs in a different encoding).

Recognised by where objects and functions come from (their module); this module never imports
azure.durable_functions, so native apps run without it installed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions.decorators.function_app import Function

from durable_azure.errors import ConfigurationError
from durable_azure.protocol import SdkOrchestrator

OFFICIAL_PACKAGE = "azure.durable_functions"
FIX = "change `import azure.durable_functions as df` to `import durable_azure as df`"
INSTALL_FIX = "install it with `pip install durable-azure[sdk]` to run the app unchanged"


def is_official(value: object) -> bool:
    """Whether `value` is an instance of a class of azure.durable_functions (an app, blueprint or binding)."""
    return _is_official_module(type(value).__module__)


def is_official_module_error(error: BaseException) -> bool:
    """A ModuleNotFoundError for azure.durable_functions: an unmodified app without the `sdk` extra."""
    return isinstance(error, ModuleNotFoundError) and _is_official_module(error.name or "")


def missing_sdk_hint() -> str:
    """What to add to an import error when azure.durable_functions is not installed."""
    return f"the app uses the official Durable Functions SDK (azure-functions-durable): {INSTALL_FIX}"


def is_sdk_code(function: object) -> bool:
    """Whether `function` is code of azure.durable_functions itself: an orchestrator or entity handler
    (`Orchestrator.create`, `Entity.create`) or a client middleware (`durable_client_input`). Read from the
    module whose globals the code runs in, since `functools.wraps` copies the user's `__module__` over."""
    function_globals = getattr(function, "__globals__", None)
    name = function_globals.get("__name__") if isinstance(function_globals, dict) else None
    return isinstance(name, str) and _is_official_module(name)


def is_sdk_orchestrator(function: object) -> bool:
    """An `Orchestrator.create(fn)` handler: it carries the user's generator as `orchestrator_function`."""
    return is_sdk_code(function) and hasattr(function, "orchestrator_function")


def is_sdk_entity(function: object) -> bool:
    """An `Entity.create(fn)` handler: it carries the user's function as `entity_function`."""
    return is_sdk_code(function) and hasattr(function, "entity_function")


def declared_with_sdk(function: Function) -> bool:
    """Whether any binding of a v2 function comes from the official SDK's decorators."""
    return any(is_official(binding) for binding in function.get_bindings()) or is_sdk_code(function.get_user_function())


def check_module(module: ModuleType, script: Path, *, trigger_type: str, entry_point: object) -> None:
    """A v1 orchestrator whose script imports the official SDK must export its handler (`main =
    df.Orchestrator.create(fn)`); one that imports it but exports a plain generator mixes the two SDKs in one
    function, which neither runs: ConfigurationError naming the script. Other functions may use it freely
    (the official `DurableOrchestrationClient(starter)` works against the local RPC endpoint)."""
    if trigger_type.lower() != "orchestrationtrigger" or is_sdk_orchestrator(entry_point):
        return
    for name, value in vars(module).items():
        origin = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(origin, str) and _is_official_module(origin) and not name.startswith("__"):
            raise ConfigurationError(
                f"{script} uses azure.durable_functions ({name}) but its entry point is not "
                "`df.Orchestrator.create(...)`: export the official handler (`main = df.Orchestrator.create(fn)`) "
                f"to run it unchanged, or {FIX}"
            )


def check_not_mixed(native: Mapping[str, Callable[..., Any]], official: Mapping[str, SdkOrchestrator]) -> None:
    """ConfigurationError naming one orchestrator of each SDK and its file when an app has both."""
    if not native or not official:
        return
    native_name, official_name = sorted(native)[0], sorted(official)[0]
    native_file = source_file(native[native_name]) or "?"
    official_file = source_file(official[official_name].handle) or "?"
    raise ConfigurationError(
        f"the app mixes orchestrators of durable_azure ({native_name!r} in {native_file}) and of "
        f"azure.durable_functions ({official_name!r} in {official_file}): a worker runs one SDK's orchestrators; "
        f"port every orchestrator ({FIX}) or none"
    )


def source_file(function: Callable[..., Any]) -> str | None:
    """The user's file behind a function: an official handler's user function (`orchestrator_function`,
    `entity_function`), a client middleware's `__wrapped__`, or the function itself."""
    user_function: Any = function
    for attribute in ("orchestrator_function", "entity_function", "__wrapped__"):
        user_function = getattr(user_function, attribute, user_function)
    try:
        return inspect.getsourcefile(user_function)
    except TypeError:
        return None


def _is_official_module(module: str) -> bool:
    return module == OFFICIAL_PACKAGE or module.startswith(OFFICIAL_PACKAGE + ".")


__all__ = [
    "FIX",
    "INSTALL_FIX",
    "check_module",
    "check_not_mixed",
    "declared_with_sdk",
    "is_official",
    "is_official_module_error",
    "is_sdk_code",
    "is_sdk_entity",
    "is_sdk_orchestrator",
    "missing_sdk_hint",
    "source_file",
]
