"""DFApp registers the same function metadata as azure.durable_functions' DFApp (df-python-api.md §2.3)."""

from __future__ import annotations

import json

import azure.functions as func

import durable_azure as df


def function_json(app: func.FunctionApp) -> dict[str, dict]:
    """What the Functions host indexes: each function's JSON, by function name."""
    return {function.get_function_name(): json.loads(function.get_function_json()) for function in app.get_functions()}


def test_orchestrator_activity_and_client_metadata() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="orchestrators/{functionName}")
    @app.durable_client_input(client_name="client")
    async def http_start(req: func.HttpRequest, client):
        return None

    @app.orchestration_trigger(context_name="context")
    def hello_orchestrator(context):
        yield None

    @app.activity_trigger(input_name="city")
    def hello(city: str) -> str:
        return city

    assert function_json(app) == {
        "http_start": {
            "scriptFile": "function_app.py",
            "bindings": [
                {"direction": "IN", "type": "durableClient", "name": "client"},
                {
                    "direction": "IN",
                    "type": "httpTrigger",
                    "name": "req",
                    "authLevel": "ANONYMOUS",
                    "route": "orchestrators/{functionName}",
                },
                {"direction": "OUT", "type": "http", "name": "$return"},
            ],
        },
        "hello_orchestrator": {
            "scriptFile": "function_app.py",
            "bindings": [{"direction": "IN", "type": "orchestrationTrigger", "name": "context"}],
        },
        "hello": {
            "scriptFile": "function_app.py",
            "bindings": [{"direction": "IN", "type": "activityTrigger", "name": "city"}],
        },
    }


def test_name_overrides_and_client_options_appear_in_metadata() -> None:
    app = df.DFApp()

    @app.orchestration_trigger(context_name="context", orchestration="Renamed")
    def orchestrator(context):
        yield None

    @app.activity_trigger(input_name="payload", activity="DoWork")
    def activity(payload):
        return payload

    @app.queue_trigger(arg_name="message", queue_name="jobs", connection="AzureWebJobsStorage")
    @app.durable_client_input(client_name="starter", task_hub="OtherHub", connection_name="OtherStorage")
    def queue_start(message, starter):
        return None

    functions = function_json(app)
    assert functions["orchestrator"]["bindings"] == [
        {"direction": "IN", "type": "orchestrationTrigger", "name": "context", "orchestration": "Renamed"}
    ]
    assert functions["activity"]["bindings"] == [
        {"direction": "IN", "type": "activityTrigger", "name": "payload", "activity": "DoWork"}
    ]
    assert functions["queue_start"]["bindings"][0] == {
        "direction": "IN",
        "type": "durableClient",
        "name": "starter",
        "taskHub": "OtherHub",
        "connectionName": "OtherStorage",
    }


def test_decorator_order_with_route_does_not_matter() -> None:
    app = df.DFApp()

    @app.durable_client_input(client_name="client")
    @app.route(route="start")
    async def start(req, client):
        return None

    types = [binding["type"] for binding in function_json(app)["start"]["bindings"]]
    assert sorted(types) == ["durableClient", "http", "httpTrigger"]


def test_blueprint_functions_are_indexed_by_the_app() -> None:
    blueprint = df.Blueprint()

    @blueprint.activity_trigger(input_name="value")
    def double(value: int) -> int:
        return 2 * value

    app = df.DFApp()
    app.register_blueprint(blueprint)
    assert function_json(app)["double"]["bindings"] == [{"direction": "IN", "type": "activityTrigger", "name": "value"}]


def test_decorated_functions_stay_callable_for_unit_tests() -> None:
    app = df.DFApp()

    @app.activity_trigger(input_name="city")
    def say_hello(city: str) -> str:
        return f"Hello {city}!"

    assert say_hello("Tokyo") == "Hello Tokyo!"


def test_entity_trigger_registers_the_sdks_binding_and_the_entity_by_lower_case_name() -> None:
    app = df.DFApp()

    @app.entity_trigger(context_name="context", entity_name="Counter")
    def counter_function(context: df.DurableEntityContext) -> None:
        context.set_state(1)

    (function,) = app.get_functions()
    assert json.loads(function.get_function_json())["bindings"] == [
        {"direction": "IN", "type": "entityTrigger", "name": "context", "entityName": "Counter"}
    ]
    registered = app.build_registry().entities
    assert list(registered) == ["counter"] and registered["counter"].__name__ == "counter_function"
