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
