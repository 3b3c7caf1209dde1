"""A blueprint app on a plain `func.FunctionApp` (tests/functions/blueprint_app), run end to end against Azurite.

The official blueprint pattern: durable functions on a `df.Blueprint`, an HTTP route on a `func.Blueprint`, both
registered into `app = func.FunctionApp()`, which also declares a durable function through its own decorators.
Also where `func.Context` reaches an HTTP function and an activity, and an activity's durableClient input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.functions.indexing import index_app
from durable_azure.status import OrchestrationRuntimeStatus
from tests.functions.harness import body_json, running_app

APP_DIR = Path(__file__).resolve().parent / "blueprint_app"


def test_functions_of_both_blueprints_and_the_app_are_indexed() -> None:
    index = index_app(APP_DIR)
    assert set(index.registry.orchestrators) == {"process_order", "inspect_invocations"}
    assert set(index.registry.activities) == {"price_items", "shout", "describe_invocation", "read_own_status"}
    routes = {
        function.name: (function.route, function.methods, function.auth_level) for function in index.http_functions
    }
    assert routes == {
        "start_order": ("orders/{customer}", ("POST",), "anonymous"),
        "whoami": ("whoami", ("GET",), "anonymous"),
        "ping": ("ping", ("GET",), "anonymous"),
    }
    # Plain activities go to the worker as written; those with a client binding or a func.Context are wrapped.
    assert set(index.bound_activities) == {"describe_invocation", "read_own_status"}


async def test_orchestration_started_from_a_blueprint_route_completes(task_hub: TaskHub) -> None:
    items = [{"quantity": 2, "price": 5}, {"quantity": 1, "price": 7}]
    async with running_app(APP_DIR, task_hub) as app:
        response = await app.call("start_order", route_params={"customer": "ada"}, body=items)
        assert response.status_code == 202
        instance_id = body_json(response)["id"]
        status = await app.client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status is OrchestrationRuntimeStatus.Completed
    assert status.name == "process_order"
    assert status.output == {"total": 17, "greeting": "THANKS ADA!"}


async def test_func_blueprint_route_and_app_route_answer(task_hub: TaskHub) -> None:
    async with running_app(APP_DIR, task_hub, with_worker=False) as app:
        pong = await app.call("ping", method="GET")
        assert (pong.status_code, pong.get_body()) == (200, b"pong")


async def test_func_context_reaches_an_http_function(task_hub: TaskHub) -> None:
    async with running_app(APP_DIR, task_hub, with_worker=False) as app:
        first = await app.call("whoami", method="GET")
        second = await app.call("whoami", method="GET")
    body = body_json(first)
    assert body["function_name"] == "whoami"
    assert body["function_directory"] == str(APP_DIR)
    assert body["retry_count"] == 0
    assert body["trace_parent"].startswith("00-")
    assert body["invocation_id"] != body_json(second)["invocation_id"]


async def test_func_context_and_a_client_reach_activities(task_hub: TaskHub) -> None:
    async with running_app(APP_DIR, task_hub) as app:
        instance_id = await app.client.start_new("inspect_invocations")
        status = await app.client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status is OrchestrationRuntimeStatus.Completed, status.output
    described = status.output["described"]
    assert described["note"] == "from an orchestration"
    assert described["function_name"] == "describe_invocation"
    assert described["function_directory"] == str(APP_DIR)
    assert described["invocation_id"]
    # Read in the (sync) activity's own thread, as logging helpers do.
    assert described["thread_invocation_id"] == described["invocation_id"]
    # The activity's durableClient input is a client of the app's own task hub: it sees its caller running.
    assert status.output["own_status"] == "Running"


@pytest.mark.parametrize("register", ["register_functions", "register_blueprint"])
def test_both_registration_methods_take_either_blueprint(tmp_path: Path, register: str) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "import durable_azure as df\n"
        "durable_part = df.Blueprint()\n"
        "plain_part = func.Blueprint()\n"
        "@durable_part.activity_trigger(input_name='value')\n"
        "def echo(value):\n"
        "    return value\n"
        "@durable_part.route(route='a')\n"
        "def route_a(req):\n"
        "    return 'a'\n"
        "@plain_part.route(route='b')\n"
        "def route_b(req):\n"
        "    return 'b'\n"
        "app = df.DFApp()\n"
        f"app.{register}(durable_part)\n"
        f"app.{register}(plain_part)\n"
    )
    index = index_app(tmp_path)
    assert set(index.registry.activities) == {"echo"}
    assert {function.route for function in index.http_functions} == {"a", "b"}
