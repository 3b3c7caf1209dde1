"""A trigger or binding type this host does not run is a start-up error, in v2 and v1 apps alike.

The message names the function, the binding and the types that are supported. The supported list grows as
binding handlers are added, so these tests assert on the names and on the word "supported", not on the list.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.bindings import check_function
from durable_azure.functions.indexing import IndexBuilder, ProgrammingModel, index_app
from durable_azure.worker.registry import Registry

V2_TRIGGERS = {
    "serviceBusTrigger": 'service_bus_queue_trigger(arg_name="message", connection="Bus", queue_name="orders")',
    "eventHubTrigger": 'event_hub_message_trigger(arg_name="message", connection="Hub", event_hub_name="events")',
    "cosmosDBTrigger": (
        'cosmos_db_trigger(arg_name="message", connection="Cosmos", database_name="db", container_name="items")'
    ),
    "eventGridTrigger": 'event_grid_trigger(arg_name="message")',
}

V2_BINDINGS = {
    "cosmosDB": 'cosmos_db_input(arg_name="documents", connection="Cosmos", database_name="db", container_name="c")',
    "serviceBus": 'service_bus_topic_output(arg_name="documents", connection="Bus", topic_name="topic")',
}


def start_up_error(app_dir: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        index_app(app_dir)
    message = str(caught.value)
    assert "\n" not in message
    return message


def write_v2_app(app_dir: Path, body: str) -> None:
    header = "import azure.functions as func\nimport durable_azure as df\napp = func.FunctionApp()\n"
    (app_dir / "function_app.py").write_text(header + textwrap.dedent(body))


@pytest.mark.parametrize(("trigger_type", "decorator"), V2_TRIGGERS.items())
def test_v2_unsupported_trigger(tmp_path: Path, trigger_type: str, decorator: str) -> None:
    write_v2_app(tmp_path, f"@app.function_name('Consume')\n@app.{decorator}\ndef consume(message):\n    pass\n")
    message = start_up_error(tmp_path)
    assert "function 'Consume'" in message
    assert "'message'" in message and repr(trigger_type) in message
    assert "supported triggers:" in message and "httpTrigger" in message


@pytest.mark.parametrize(("binding_type", "decorator"), V2_BINDINGS.items())
def test_v2_unsupported_binding_on_an_http_function(tmp_path: Path, binding_type: str, decorator: str) -> None:
    write_v2_app(tmp_path, f"@app.route(route='read')\n@app.{decorator}\ndef read(req, documents):\n    return 'x'\n")
    message = start_up_error(tmp_path)
    assert "function 'read'" in message
    assert "binding 'documents'" in message and repr(binding_type) in message
    assert "supported" in message


def test_v2_unsupported_binding_on_a_blueprint_activity(tmp_path: Path) -> None:
    (tmp_path / "parts_for_unsupported_test.py").write_text(
        textwrap.dedent(
            f"""
            import durable_azure as df
            parts = df.Blueprint()

            @parts.activity_trigger(input_name="value")
            @parts.{V2_BINDINGS["cosmosDB"]}
            def lookup(value, documents):
                return value
            """
        )
    )
    write_v2_app(tmp_path, "from parts_for_unsupported_test import parts\napp.register_functions(parts)\n")
    message = start_up_error(tmp_path)
    assert "function 'lookup'" in message and "binding 'documents'" in message and "supported" in message


def write_v1_function(app_dir: Path, name: str, bindings: list[dict[str, object]]) -> None:
    folder = app_dir / name
    folder.mkdir()
    (folder / "function.json").write_text(json.dumps({"bindings": bindings}))
    (folder / "__init__.py").write_text("def main(*args, **kwargs):\n    return None\n")


@pytest.mark.parametrize("trigger_type", ["serviceBusTrigger", "eventHubTrigger", "cosmosDBTrigger"])
def test_v1_unsupported_trigger(tmp_path: Path, trigger_type: str) -> None:
    write_v1_function(tmp_path, "Consume", [{"name": "item", "type": trigger_type, "direction": "in"}])
    message = start_up_error(tmp_path)
    assert "function 'Consume'" in message and "'item'" in message and repr(trigger_type) in message
    assert "supported triggers:" in message


def test_v1_unsupported_input_binding(tmp_path: Path) -> None:
    write_v1_function(
        tmp_path,
        "Lookup",
        [
            {"name": "req", "type": "httpTrigger", "direction": "in"},
            {"name": "$return", "type": "http", "direction": "out"},
            {"name": "documents", "type": "cosmosDB", "direction": "in", "databaseName": "db"},
        ],
    )
    message = start_up_error(tmp_path)
    assert "function 'Lookup'" in message and "binding 'documents'" in message and "'cosmosDB'" in message
    assert "supported inputs:" in message


def test_v1_unsupported_output_on_an_activity(tmp_path: Path) -> None:
    write_v1_function(
        tmp_path,
        "Notify",
        [
            {"name": "value", "type": "activityTrigger", "direction": "in"},
            {"name": "message", "type": "serviceBus", "direction": "out", "queueName": "q"},
        ],
    )
    message = start_up_error(tmp_path)
    assert "function 'Notify'" in message and "binding 'message'" in message and "supported outputs:" in message


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        ({"type": "blob", "name": "data", "direction": "inout", "path": "c/x"}, "direction inout"),
        ({"type": "queue", "name": "$return", "direction": "in", "queueName": "q"}, "must have direction out"),
    ],
)
def test_inout_and_input_return_bindings_are_refused(binding: dict[str, str], message: str) -> None:
    trigger = {"type": "httpTrigger", "name": "req", "direction": "in"}
    with pytest.raises(ConfigurationError, match=rf"function 'f': .*{message}"):
        check_function("f", [trigger, binding])


def test_an_orchestrator_with_another_binding_is_refused() -> None:
    builder = IndexBuilder(Registry())
    trigger = {"type": "orchestrationTrigger", "name": "context", "direction": "in"}
    queue = {"type": "queue", "name": "out", "direction": "out", "queueName": "q"}
    with pytest.raises(ConfigurationError, match=r"function 'orchestrate': an orchestrator takes no bindings.*'out'"):
        builder.add("orchestrate", lambda context: None, [trigger, queue], ProgrammingModel.V2, Path("."))


def test_an_http_output_on_a_function_no_request_starts_is_refused() -> None:
    builder = IndexBuilder(Registry())
    trigger = {"type": "queueTrigger", "name": "msg", "direction": "in", "queueName": "q"}
    http = {"type": "http", "name": "$return", "direction": "out"}
    with pytest.raises(ConfigurationError, match=r"function 'on_message': binding '\$return' is an http output"):
        builder.add("on_message", lambda msg: None, [trigger, http], ProgrammingModel.V2, Path("."))
