"""function.json apps: indexed with the same bindings as v2 apps, and run end to end against Azurite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.errors import ConfigurationError
from durable_azure.functions.indexing import ProgrammingModel, index_app
from tests.functions.harness import body_json, running_app

APP_DIR = Path(__file__).parent / "v1_app"


def test_index_finds_each_folder_by_name() -> None:
    index = index_app(APP_DIR)
    assert set(index.registry.orchestrators) == {"HelloOrchestrator"}
    assert set(index.registry.activities) == {"Hello"}
    assert index.registry.activities["Hello"].input_name == "name"
    functions = {function.name: function for function in index.http_functions}
    assert set(functions) == {"HttpStart", "NodeStarter"}
    assert functions["HttpStart"].methods == ("POST", "GET")
    assert functions["NodeStarter"].route == "NodeStarter"
    assert functions["NodeStarter"].auth_level == "function"
    assert functions["HttpStart"].model is ProgrammingModel.V1


async def test_client_built_from_the_binding_string_starts_and_links(task_hub: TaskHub) -> None:
    async with running_app(APP_DIR, task_hub) as app:
        response = await app.call("HttpStart", route_params={"functionName": "HelloOrchestrator"})
        assert response.status_code == 202
        instance_id = body_json(response)["id"]
        status = await app.client.wait_for_completion(instance_id, timeout=60)
    assert status.output == ["Hello Tokyo!", "Hello Seattle!"]


async def test_orchestration_client_output_binding_and_named_http_output(task_hub: TaskHub) -> None:
    async with running_app(APP_DIR, task_hub) as app:
        response = await app.call("NodeStarter", params={"id": "from-node"})
        assert (response.status_code, response.get_body()) == (202, b"accepted")
        status = await app.client.wait_for_completion("from-node", timeout=60)
    assert status.output == ["Hello Tokyo!", "Hello Seattle!"]


def test_folder_without_apps_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no function_app\.py and no function folders"):
        index_app(tmp_path)


def test_malformed_function_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "Broken").mkdir()
    (tmp_path / "Broken" / "function.json").write_text(json.dumps({"bindings": "nope"}))
    with pytest.raises(ConfigurationError, match=r"Broken/function.json: expected an object with a 'bindings' list"):
        index_app(tmp_path)


def test_import_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "Fails").mkdir()
    (tmp_path / "Fails" / "function.json").write_text(
        json.dumps({"bindings": [{"name": "x", "type": "activityTrigger", "direction": "in"}]})
    )
    (tmp_path / "Fails" / "__init__.py").write_text("import no_such_module_here\n")
    with pytest.raises(ConfigurationError, match=r"Fails/__init__.py, line 1: ModuleNotFoundError"):
        index_app(tmp_path)


SHARED_APP_DIR = Path(__file__).resolve().parent / "v1_shared_app"


def function_folder(app_dir: Path, name: str, bindings: list[dict[str, str]], **document: str) -> Path:
    folder = app_dir / name
    folder.mkdir(parents=True)
    (folder / "function.json").write_text(json.dumps({**document, "bindings": bindings}))
    return folder


ACTIVITY = [{"name": "value", "type": "activityTrigger", "direction": "in"}]


def test_shared_code_app_indexes_scripts_as_modules_of_the_app_package() -> None:
    index = index_app(SHARED_APP_DIR)
    assert set(index.registry.orchestrators) == {"OrderOrchestrator"}
    assert set(index.registry.activities) == {"PriceOrder", "DescribeInvocation"}
    price = index.registry.activities["PriceOrder"].function
    assert (price.__module__, price.__name__) == ("__app__.PriceOrder.pricing", "price")
    starter = next(function for function in index.http_functions if function.name == "OrderStarter")
    assert starter.function.__module__ == "__app__.OrderStarter"
    assert starter.directory == SHARED_APP_DIR / "OrderStarter"
    # scriptFile outside the function's folder, and a func.Context parameter: wrapped, so its context is filled.
    assert set(index.bound_activities) == {"DescribeInvocation"}


async def test_shared_code_app_runs_end_to_end(task_hub: TaskHub) -> None:
    items = [{"quantity": 3, "price": 4}]
    async with running_app(SHARED_APP_DIR, task_hub) as app:
        response = await app.call("OrderStarter", route_params={"customer": "grace"}, body=items)
        assert response.status_code == 202
        status = await app.client.wait_for_completion(body_json(response)["id"], timeout=60)
    assert status.output == {
        "total": 12,
        "described": {
            "note": "grace",
            "module": "__app__.shared_code.entry_points",
            "function_name": "DescribeInvocation",
            "function_directory": str(SHARED_APP_DIR / "DescribeInvocation"),
        },
        "absolute_import": "shared_code.orders",
    }


def test_relative_import_beyond_the_app_package_names_the_line(tmp_path: Path) -> None:
    folder = function_folder(tmp_path, "Climbs", ACTIVITY)
    (folder / "__init__.py").write_text("from ...elsewhere import thing\n\ndef main(value):\n    return value\n")
    with pytest.raises(ConfigurationError, match=r"Climbs/__init__.py, line 1: ImportError"):
        index_app(tmp_path)


def test_entry_point_missing_names_script_and_function_json(tmp_path: Path) -> None:
    folder = function_folder(tmp_path, "Named", ACTIVITY, entryPoint="run")
    (folder / "__init__.py").write_text("def main(value):\n    return value\n")
    with pytest.raises(ConfigurationError, match=r"Named/__init__.py defines no function 'run' \(the entryPoint of"):
        index_app(tmp_path)


@pytest.mark.parametrize(
    ("script_file", "message"),
    [
        ("../../outside.py", "is outside the app folder"),
        ("run.ps1", "is not a Python file"),
        ("missing.py", "script 'missing.py' not found"),
    ],
)
def test_unusable_script_file_is_a_start_up_error(tmp_path: Path, script_file: str, message: str) -> None:
    app_dir = tmp_path / "app"
    folder = function_folder(app_dir, "Scripted", ACTIVITY, scriptFile=script_file)
    (tmp_path / "outside.py").write_text("def main(value):\n    return value\n")
    (folder / "run.ps1").write_text("")
    with pytest.raises(ConfigurationError, match=message) as caught:
        index_app(app_dir)
    assert str(caught.value).startswith(f"{app_dir / 'Scripted' / 'function.json'}: script")


def test_two_apps_with_same_named_modules_each_see_their_own(tmp_path: Path) -> None:
    """One app per process, as in a worker: loading an app forgets the modules the previous one imported."""
    for app_name, word in (("first", "one"), ("second", "two")):
        app_dir = tmp_path / app_name
        folder = function_folder(app_dir, "Say", ACTIVITY)
        (app_dir / "helpers_shared_by_name.py").write_text(f"WORD = {word!r}\n")
        (folder / "__init__.py").write_text("import helpers_shared_by_name\n\ndef main(value):\n    return 0\n")
    words = []
    for app_name in ("first", "second", "first"):
        function = index_app(tmp_path / app_name).registry.activities["Say"].function
        words.append(function.__globals__["helpers_shared_by_name"].WORD)
    assert words == ["one", "two", "one"]
