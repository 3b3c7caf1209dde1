"""Load a v1 app: one folder per function, each with function.json and its script (`__init__.py`).

Imported as the Python worker imports them: the app folder is the package `__app__`, and a function's script
is the module of its path under the app folder: `Folder/__init__.py` is `__app__.Folder` (the package itself,
imported once), `Folder/main.py` is `__app__.Folder.main`, and a `scriptFile` of `../shared/entry.py` is
`__app__.shared.entry`. So `from . import helpers`, `from ..shared_code.mod import X` and
`from __app__.shared_code.mod import X` all work, and `import shared_code` too (the app folder is on
sys.path). `scriptFile` is relative to the function's folder and must be a .py file inside the app folder,
as the worker requires; `entryPoint` (default `main`) names the callable.

A function's name is its folder's name; an orchestrator's or activity's `orchestration` / `activity` binding
field overrides the name it is called by. A trigger or binding type this host does not run is a start-up
error naming the function (`functions/bindings`).

An orchestrator whose entry point is the official SDK's handler (`main = df.Orchestrator.create(fn)`) runs
unchanged through the SDK's protocol (official_sdk.py); an entity built with `df.Entity.create` is refused.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from durable_azure.entities import EntityFunction, entity_function_of
from durable_azure.errors import ConfigurationError
from durable_azure.functions import official_sdk
from durable_azure.functions.activity_converters import with_worker_converters
from durable_azure.functions.indexing import AppIndex, IndexBuilder, ProgrammingModel
from durable_azure.functions.loader import APP_PACKAGE, app_imports, user_import_errors
from durable_azure.protocol import SdkEntity, SdkOrchestrator
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
    orchestrators: dict[str, Callable[..., Any]] = {}
    sdk_orchestrators: dict[str, SdkOrchestrator] = {}
    activities: dict[str, ActivityFunction] = {}
    entities: dict[str, EntityFunction] = {}
    loaded: list[tuple[Path, Callable[..., Any], list[Mapping[str, Any]]]] = []
    with app_imports(app_dir):
        for folder in _function_folders(app_dir):
            document = _read_function_json(folder)
            bindings = document["bindings"]
            trigger = _trigger(folder, bindings)
            trigger_type = str(trigger.get("type", "")).lower()
            function = _load_entry_point(folder, document, app_dir, trigger_type)
            if trigger_type == "orchestrationtrigger":
                name = trigger.get("orchestration") or folder.name
                if any(existing.lower() == name.lower() for existing in [*orchestrators, *sdk_orchestrators]):
                    raise ConfigurationError(f"two orchestrator functions are named {name!r}")
                if official_sdk.is_sdk_orchestrator(function):  # `main = df.Orchestrator.create(fn)`
                    sdk_orchestrators[name] = SdkOrchestrator(name=name, handle=function)
                else:
                    orchestrators[name] = function
            elif trigger_type == "activitytrigger":
                name = trigger.get("activity") or folder.name
                activity = ActivityFunction(name=name, function=function, input_name=trigger["name"])
                _add_unique(activities, name, activity, "activity")
            elif trigger_type == "entitytrigger":
                name = (trigger.get("entityName") or folder.name).lower()
                # `main = df.Entity.create(fn)`: the SDK's handler, one call per batch (protocol/entity.py)
                entity = SdkEntity(name, function) if official_sdk.is_sdk_entity(function) else None
                _add_unique(entities, name, entity or entity_function_of(function), "entity")
            loaded.append((folder, function, bindings))
    official_sdk.check_not_mixed(orchestrators, sdk_orchestrators)
    if sdk_orchestrators:  # an unmodified app: its activities see what the Python worker's converter gives
        activities = {name: with_worker_converters(activity) for name, activity in activities.items()}
    registry = Registry(
        orchestrators=orchestrators, activities=activities, entities=entities, sdk_orchestrators=sdk_orchestrators
    )
    builder = IndexBuilder(registry, declared_with_sdk=bool(sdk_orchestrators))
    for folder, function, bindings in loaded:
        builder.add(folder.name, function, bindings, ProgrammingModel.V1, folder)
    return builder.build()


def _function_folders(app_dir: Path) -> list[Path]:
    return sorted(path.parent for path in Path(app_dir).glob(f"*/{FUNCTION_JSON}"))


def _read_function_json(folder: Path) -> dict[str, Any]:
    path = folder / FUNCTION_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from error
    bindings = document.get("bindings") if isinstance(document, dict) else None
    if not isinstance(bindings, list) or not all(isinstance(binding, dict) for binding in bindings):
        raise ConfigurationError(f"{path}: expected an object with a 'bindings' list of objects")
    return document


def _trigger(folder: Path, bindings: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    triggers = [binding for binding in bindings if str(binding.get("type", "")).lower().endswith("trigger")]
    if len(triggers) != 1:
        raise ConfigurationError(
            f"{folder / FUNCTION_JSON}: a function needs exactly one trigger binding, found {len(triggers)}"
        )
    if not isinstance(triggers[0].get("name"), str):
        raise ConfigurationError(f"{folder / FUNCTION_JSON}: the trigger binding needs a 'name'")
    return triggers[0]


def _load_entry_point(
    folder: Path, document: Mapping[str, Any], app_dir: Path, trigger_type: str
) -> Callable[..., Any]:
    script = _script_path(folder, document, app_dir)
    entry_point = document.get("entryPoint") or DEFAULT_ENTRY_POINT
    with user_import_errors(script, app_dir):
        module = importlib.import_module(script_module_name(script, app_dir))
    function = getattr(module, entry_point, None)
    if not callable(function):
        raise ConfigurationError(
            f"{script} defines no function {entry_point!r} (the entryPoint of {folder / FUNCTION_JSON})"
        )
    official_sdk.check_module(module, script, trigger_type=trigger_type, entry_point=function)
    return function


def _script_path(folder: Path, document: Mapping[str, Any], app_dir: Path) -> Path:
    """`scriptFile`, relative to the function's folder, checked as the worker checks it."""
    where = folder / FUNCTION_JSON
    script_file = document.get("scriptFile") or DEFAULT_SCRIPT
    if not isinstance(script_file, str):
        raise ConfigurationError(f"{where}: scriptFile must be a string, got {script_file!r}")
    script = (folder / script_file).resolve()
    if not script.is_relative_to(app_dir):
        raise ConfigurationError(
            f"{where}: scriptFile {script_file!r} is outside the app folder {app_dir}; the Python worker imports "
            f"scripts as modules of the {APP_PACKAGE} package rooted there"
        )
    if script.suffix != ".py":
        raise ConfigurationError(f"{where}: scriptFile {script_file!r} is not a Python file (.py)")
    if not script.is_file():
        raise ConfigurationError(f"{where}: script {script_file!r} not found ({script})")
    return script


def script_module_name(script: Path, app_dir: Path) -> str:
    """The module a script is imported as: `__app__.<path>`, a package's `__init__.py` as the package itself."""
    relative = script.relative_to(app_dir)
    parts = [APP_PACKAGE, *relative.parts[:-1]]
    if relative.stem.lower() != "__init__":
        parts.append(relative.stem)
    return ".".join(parts)


def _add_unique(functions: dict[str, Any], name: str, value: Any, kind: str) -> None:
    if any(existing.lower() == name.lower() for existing in functions):
        raise ConfigurationError(f"two {kind} functions are named {name!r}")
    functions[name] = value
