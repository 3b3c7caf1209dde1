"""Load a user's function_app.py and find its `DFApp`, with errors that point at the user's line.

The app folder goes on sys.path (as the Functions host does), so function_app.py can import its sibling
modules. A failing import is reported as one line naming the user's file and line, not as a traceback
through our loader.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

import azure.functions as func

from durable_azure.errors import ConfigurationError
from durable_azure.functions.app import DFApp

APP_FILE = "function_app.py"
APP_MODULE = "function_app"


def load_function_app(app_dir: Path) -> DFApp:
    """Import `app_dir/function_app.py` and return its module-level `DFApp`.

    Raises ConfigurationError when the file is missing, its import fails (naming file, line and the
    original error), or it defines no `DFApp` (or more than one).
    """
    app_dir = Path(app_dir).resolve()
    script = app_dir / APP_FILE
    if not script.is_file():
        raise ConfigurationError(f"no {APP_FILE} in {app_dir}: pass --app-dir with the folder of your function app")
    module = _import_script(script, app_dir)
    return _find_app(module, script)


def _import_script(script: Path, app_dir: Path) -> ModuleType:
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    return import_user_module(APP_MODULE, script, app_dir)


def import_user_module(name: str, script: Path, app_dir: Path, *, package_dir: Path | None = None) -> ModuleType:
    """Import one of the user's files (a v2 function_app.py, a v1 function folder) under `name`.

    Any error in it becomes one ConfigurationError naming the user's file and line.
    """
    locations = [str(package_dir)] if package_dir is not None else None
    spec = importlib.util.spec_from_file_location(name, script, submodule_search_locations=locations)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    # Registered before running, as a normal import would, so the app can be imported by its own modules.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise ConfigurationError(
            f"cannot import {_error_location(error, script, app_dir)}: {_describe(error)}"
        ) from error
    return module


def _error_location(error: BaseException, script: Path, app_dir: Path) -> str:
    """The deepest frame in the user's own files, else the script itself."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}, line {error.lineno}"
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if Path(frame.filename).resolve().is_relative_to(app_dir):
            return f"{frame.filename}, line {frame.lineno}"
    return str(script)


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg}"
    return f"{type(error).__name__}: {error}"


def _find_app(module: ModuleType, script: Path) -> DFApp:
    apps = {id(value): value for value in vars(module).values() if isinstance(value, func.FunctionApp)}
    durable_apps = [app for app in apps.values() if isinstance(app, DFApp)]
    if len(durable_apps) == 1:
        return durable_apps[0]
    if len(durable_apps) > 1:
        raise ConfigurationError(f"{script} defines {len(durable_apps)} DFApp objects; keep exactly one")
    if apps:
        raise ConfigurationError(
            f"{script} defines an azure.functions FunctionApp; durable-azure needs `app = durable_azure.DFApp()`"
        )
    raise ConfigurationError(f"{script} defines no app: add `app = durable_azure.DFApp()` at module level")
