"""Apps still written against azure.durable_functions, the official SDK: refused at start-up, naming the fix.

The official decorators wrap each orchestrator in `Orchestrator.create`, a handler that speaks the .NET host's
JSON protocol, and each client function in a middleware that builds the SDK's HTTP client from a JSON string;
neither runs on this host's engine. Its activities would run, but an app is ported as a whole by changing one
import, so any function declared through the official SDK's decorators is a start-up error naming that import
and the file it is in. (Running such apps unchanged is a separate piece of work: the SDK's protocol, served by
this host.) A v1 script is refused only when it is an orchestrator or an entity: an HTTP starter (or any other
function) may keep building the official SDK's client from its binding string, which talks to this host's
local RPC endpoint.

Recognised by where the objects' classes come from; this module never imports azure.durable_functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions.decorators.function_app import Function

from durable_azure.errors import ConfigurationError

OFFICIAL_PACKAGE = "azure.durable_functions"
ENGINE_TRIGGERS = frozenset({"orchestrationtrigger", "entitytrigger"})
"""Triggers of functions our engine runs (replays): their code must be written against durable_azure."""
FIX = "change `import azure.durable_functions as df` to `import durable_azure as df`"


def is_official(value: object) -> bool:
    """Whether `value` is an instance of a class of azure.durable_functions (an app, blueprint or binding)."""
    return _is_official_module(type(value).__module__)


def is_official_module_error(error: BaseException) -> bool:
    """A ModuleNotFoundError for azure.durable_functions: the app was not ported yet."""
    return isinstance(error, ModuleNotFoundError) and _is_official_module(error.name or "")


def check_app_object(app: object, script: Path) -> None:
    """ConfigurationError when the app object itself is the official SDK's DFApp."""
    if is_official(app):
        raise ConfigurationError(
            f"{script}: the app is azure.durable_functions' {type(app).__name__}, whose functions run only under "
            f"the .NET Functions host; {FIX}"
        )


def check_function(function: Function, script: Path) -> None:
    """ConfigurationError naming the function and its file when the official SDK's decorators declared it."""
    if not any(is_official(binding) for binding in function.get_bindings()):
        return
    user_function = function.get_user_function()
    name = function.get_function_name() or user_function.__name__
    declared_in = _source_file(user_function) or str(script)
    raise ConfigurationError(
        f"function {name!r} ({declared_in}) was declared with azure.durable_functions' decorators, which prepare "
        f"it for the .NET Functions host; {FIX} there"
    )


def check_module(module: ModuleType, script: Path, *, trigger_type: str) -> None:
    """ConfigurationError when a v1 orchestrator's or entity's script uses the official SDK (`df.Orchestrator.create`):
    it imported the package, or a name from it. Other functions may keep it: the official
    `DurableOrchestrationClient(starter)` works against the host's local RPC endpoint (rpc_listener.py)."""
    if trigger_type.lower() not in ENGINE_TRIGGERS:
        return
    for name, value in vars(module).items():
        origin = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(origin, str) and _is_official_module(origin) and not name.startswith("__"):
            raise ConfigurationError(f"{script} uses azure.durable_functions ({name}); {FIX}")


def _is_official_module(module: str) -> bool:
    return module == OFFICIAL_PACKAGE or module.startswith(OFFICIAL_PACKAGE + ".")


def _source_file(wrapped: Callable[..., Any]) -> str | None:
    """The user's file behind an official wrapper: a client middleware's `__wrapped__`, or the function an
    orchestrator handler closes over."""
    user_function: Any = getattr(wrapped, "__wrapped__", wrapped)
    if _is_official_module(getattr(user_function, "__module__", None) or ""):
        closed_over = inspect.getclosurevars(user_function).nonlocals.values()
        user_function = next((value for value in closed_over if inspect.isfunction(value)), None)
    try:
        return inspect.getsourcefile(user_function) if user_function is not None else None
    except TypeError:
        return None


__all__ = ["FIX", "check_app_object", "check_function", "check_module", "is_official", "is_official_module_error"]
