"""Import a user's app as the Python worker does, and find its app object, with errors that point at the user's line.

v2: function_app.py is imported as the module `function_app` with the app folder first on sys.path (so it can
import its sibling modules), and exactly one module-level function app, a `df.DFApp` or an azure.functions
`FunctionApp` with any number of blueprints registered, is the app (durable_azure's, or azure.durable_functions'
for an app run unchanged). v1 function folders (`v1.py`) are imported as submodules of the package `__app__`
rooted at the app folder, as the worker names them.

One app per process, as in a Functions worker: loading an app forgets the modules the previously loaded app
imported from its folder (and takes that folder off sys.path), so two apps with a `helpers.py` each never see
each other's. A failing import is reported as one line naming the user's file and line, not as a traceback
through our loader.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from azure.functions.decorators.function_app import FunctionRegister

from durable_azure.errors import ConfigurationError
from durable_azure.functions import official_sdk
from durable_azure.functions.app import durable_decorators_on_azure_functions

APP_FILE = "function_app.py"
APP_MODULE = "function_app"
APP_PACKAGE = "__app__"
"""The package the Python worker imports v1 function folders under: `__app__.<folder>`."""


def load_function_app(app_dir: Path) -> FunctionRegister:
    """Import `app_dir/function_app.py` and return its one module-level function app (`df.DFApp` or `func.FunctionApp`).

    Raises ConfigurationError naming the file when it is missing, its import fails (with line and the original
    error; for azure.durable_functions not installed, how to install it), it defines no function app or more
    than one, or a function is malformed (no trigger, ...). The app may be azure.durable_functions' `DFApp`
    (an unmodified app, official_sdk.py): `durable_registry` sorts its functions.
    """
    app_dir = Path(app_dir).resolve()
    script = app_dir / APP_FILE
    if not script.is_file():
        raise ConfigurationError(f"no {APP_FILE} in {app_dir}: pass --app-dir with the folder of your function app")
    with app_imports(app_dir):
        module = import_user_module(APP_MODULE, script, app_dir)
    app = _find_app(module, script)
    try:
        for builder in app._function_builders:
            builder.build(app.auth_level)
    except ValueError as error:  # azure.functions' own checks, e.g. "Function x does not have a trigger"
        raise ConfigurationError(f"{script}: {error}") from error
    return app


@dataclass
class _ImportedApp:
    folder: Path
    added_to_path: bool
    modules: set[str] = field(default_factory=set)


_imported: list[_ImportedApp] = []
"""The app this process imported last (at most one entry)."""


@contextmanager
def app_imports(app_dir: Path) -> Iterator[None]:
    """The block in which one app's files are imported: its folder first on sys.path, `__app__` rooted at it, and
    `func.FunctionApp`'s durable decorators building ours. The previous app's modules are forgotten first."""
    _forget_previous_app()
    folder = str(app_dir)
    added_to_path = folder not in sys.path
    if added_to_path:
        sys.path.insert(0, folder)
    importlib.invalidate_caches()
    sys.modules[APP_PACKAGE] = _app_package(app_dir)
    imported = _ImportedApp(folder=app_dir, added_to_path=added_to_path)
    _imported.append(imported)
    before = set(sys.modules)
    try:
        with durable_decorators_on_azure_functions():
            yield
    finally:
        imported.modules = {name for name in set(sys.modules) - before if _is_app_module(name, app_dir)}


def import_user_module(name: str, script: Path, app_dir: Path) -> ModuleType:
    """Import one of the user's files (function_app.py) under `name`, whatever is cached under that name.

    Any error in it becomes one ConfigurationError naming the user's file and line.
    """
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    # Registered before running, as a normal import would, so the app can be imported by its own modules.
    sys.modules[name] = module
    try:
        with user_import_errors(script, app_dir):
            spec.loader.exec_module(module)
    except ConfigurationError:
        del sys.modules[name]
        raise
    return module


@contextmanager
def user_import_errors(script: Path, app_dir: Path) -> Iterator[None]:
    """Any exception while importing the user's `script` becomes one ConfigurationError naming file and line."""
    try:
        yield
    except Exception as error:
        message = f"cannot import {_error_location(error, script, app_dir)}: {_describe(error)}"
        if official_sdk.is_official_module_error(error):
            message += f" ({official_sdk.missing_sdk_hint()})"
        raise ConfigurationError(message) from error


def _app_package(app_dir: Path) -> ModuleType:
    """The `__app__` package, rooted at the app folder, as the worker creates it before loading v1 functions."""
    spec = importlib.machinery.ModuleSpec(APP_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(app_dir)]
    return importlib.util.module_from_spec(spec)


def _forget_previous_app() -> None:
    while _imported:
        previous = _imported.pop()
        for name in previous.modules | {APP_MODULE, APP_PACKAGE}:
            sys.modules.pop(name, None)
        if previous.added_to_path and str(previous.folder) in sys.path:
            sys.path.remove(str(previous.folder))


def _is_app_module(name: str, app_dir: Path) -> bool:
    """A module imported from the app's own files. Libraries are never forgotten (some cannot be imported
    twice): packages installed inside the app folder (.venv, .python_packages), and durable_azure itself,
    which an app folder holds when it is this repository (its sample app)."""
    if name == APP_PACKAGE or name.startswith(APP_PACKAGE + "."):
        return True
    if name.partition(".")[0] == __name__.partition(".")[0]:
        return False
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    locations = [getattr(module, "__file__", None), *(getattr(spec, "submodule_search_locations", None) or [])]
    for location in locations:
        if not location:
            continue
        path = Path(location).resolve()
        if path.is_relative_to(app_dir):
            parts = path.relative_to(app_dir).parts
            return bool(parts) and not parts[0].startswith(".") and "site-packages" not in parts
    return False


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


def _find_app(module: ModuleType, script: Path) -> FunctionRegister:
    """The one module-level function app, as the worker finds it (the same object under two names is one app)."""
    names: dict[int, list[str]] = {}
    apps: dict[int, FunctionRegister] = {}
    for name, value in vars(module).items():
        if isinstance(value, FunctionRegister):
            apps[id(value)] = value
            names.setdefault(id(value), []).append(name)
    if len(apps) == 1:
        return next(iter(apps.values()))
    if apps:
        listed = ", ".join(f"{found[0]} ({type(apps[key]).__name__})" for key, found in names.items())
        raise ConfigurationError(f"{script} defines {len(apps)} function apps at module level ({listed}); keep one")
    raise ConfigurationError(
        f"{script} defines no function app: add `app = df.DFApp()` (with `import durable_azure as df`) "
        "or `app = func.FunctionApp()` at module level"
    )
