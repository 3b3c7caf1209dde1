"""Load a v1 app: one folder per function, each with function.json and its script (`__init__.py`).

As under the Functions host, the app folder goes on sys.path and each function folder is imported as a
package named after the folder, so `from . import helpers` and `import shared_code` work. A function's
name is its folder's name; `entryPoint` (default `main`) names the callable; an orchestrator's or
activity's `orchestration` / `activity` binding field overrides the name it is called by. A trigger or
binding type this host does not run is a start-up error naming the function (`functions/bindings`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError
from durable_azure.functions.indexing import AppIndex, IndexBuilder, ProgrammingModel
from durable_azure.functions.loader import import_user_module
from durable_azure.worker.registry import ActivityFunction, Registry

logger = logging.getLogger(__name__)

FUNCTION_JSON = "function.json"
DEFAULT_SCRIPT = "__init__.py"
DEFAULT_ENTRY_POINT = "main"


def has_function_folders(app_dir: Path) -> bool:
    return any(_function_folders(app_dir))


def index_v1_app(app_dir: Path) -> AppIndex:
    """Every function folder of `app_dir`, indexed. ConfigurationError names the folder and the problem."""
    app_dir = Path(app_dir).resolve()
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    orchestrators: dict[str, Callable[..., Any]] = {}
    activities: dict[str, ActivityFunction] = {}
    loaded: list[tuple[Path, Callable[..., Any], list[Mapping[str, Any]]]] = []
    for folder in _function_folders(app_dir):
        bindings = _read_bindings(folder)
        function = _load_entry_point(folder, app_dir)
        trigger = _trigger(folder, bindings)
        trigger_type = str(trigger.get("type", "")).lower()
        if trigger_type == "orchestrationtrigger":
            _add_unique(orchestrators, trigger.get("orchestration") or folder.name, function, "orchestrator")
        elif trigger_type == "activitytrigger":
            name = trigger.get("activity") or folder.name
            _add_unique(
                activities, name, ActivityFunction(name=name, function=function, input_name=trigger["name"]), "activity"
            )
        loaded.append((folder, function, bindings))
    builder = IndexBuilder(Registry(orchestrators=orchestrators, activities=activities))
    for folder, function, bindings in loaded:
        builder.add(folder.name, function, bindings, ProgrammingModel.V1, folder)
    return builder.build()


def _function_folders(app_dir: Path) -> list[Path]:
    return sorted(path.parent for path in Path(app_dir).glob(f"*/{FUNCTION_JSON}"))


def _read_bindings(folder: Path) -> list[Mapping[str, Any]]:
    path = folder / FUNCTION_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from error
    bindings = document.get("bindings") if isinstance(document, dict) else None
    if not isinstance(bindings, list) or not all(isinstance(binding, dict) for binding in bindings):
        raise ConfigurationError(f"{path}: expected an object with a 'bindings' list of objects")
    return bindings


def _trigger(folder: Path, bindings: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    triggers = [binding for binding in bindings if str(binding.get("type", "")).lower().endswith("trigger")]
    if len(triggers) != 1:
        raise ConfigurationError(
            f"{folder / FUNCTION_JSON}: a function needs exactly one trigger binding, found {len(triggers)}"
        )
    if not isinstance(triggers[0].get("name"), str):
        raise ConfigurationError(f"{folder / FUNCTION_JSON}: the trigger binding needs a 'name'")
    return triggers[0]


def _load_entry_point(folder: Path, app_dir: Path) -> Callable[..., Any]:
    document = json.loads((folder / FUNCTION_JSON).read_text(encoding="utf-8-sig"))
    script = (folder / document.get("scriptFile", DEFAULT_SCRIPT)).resolve()
    entry_point = document.get("entryPoint", DEFAULT_ENTRY_POINT)
    if not script.is_file():
        raise ConfigurationError(f"{folder / FUNCTION_JSON}: script {script.name} not found in {folder}")
    module = _import_package(folder, script, app_dir)
    function = getattr(module, entry_point, None)
    if not callable(function):
        raise ConfigurationError(f"{script} defines no function {entry_point!r} (the function's entryPoint)")
    return function


def _import_package(folder: Path, script: Path, app_dir: Path) -> Any:
    return import_user_module(folder.name, script, app_dir, package_dir=folder)


def _add_unique(functions: dict[str, Any], name: str, value: Any, kind: str) -> None:
    if any(existing.lower() == name.lower() for existing in functions):
        raise ConfigurationError(f"two {kind} functions are named {name!r}")
    functions[name] = value
