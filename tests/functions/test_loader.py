"""`load_function_app`: finds the one function app of function_app.py, and says exactly where an app fails to load."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import DecoratorApi

import durable_azure as df
from durable_azure.errors import ConfigurationError
from durable_azure.functions import load_function_app
from durable_azure.functions.app import durable_registry
from durable_azure.functions.indexing import index_app

ORIGINAL_GET_DURABLE_BLUEPRINT = DecoratorApi.__dict__["_get_durable_blueprint"]

REPOSITORY = Path(__file__).resolve().parents[2]


def write_app(folder: Path, source: str, name: str = "function_app.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def test_loads_the_app_object(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        """
        import durable_azure as df
        app = df.DFApp()

        @app.activity_trigger(input_name="value")
        def echo(value):
            return value
        """,
    )
    app = load_function_app(tmp_path)
    assert isinstance(app, df.DFApp)
    assert set(app.build_registry().activities) == {"echo"}


def test_app_may_import_its_sibling_modules(tmp_path: Path) -> None:
    write_app(tmp_path, "def greet(name):\n    return 'hi ' + name\n", name="helpers_for_loader_test.py")
    write_app(
        tmp_path,
        """
        import durable_azure as df
        from helpers_for_loader_test import greet
        app = df.DFApp()
        app.activity_trigger(input_name="name")(greet)
        """,
    )
    assert set(load_function_app(tmp_path).build_registry().activities) == {"greet"}


def test_the_sample_app_loads_with_its_five_orchestrators() -> None:
    registry = load_function_app(REPOSITORY).build_registry()
    assert set(registry.orchestrators) == {"hello_sequence", "fan_out_fan_in", "approval", "long_running", "countdown"}
    assert set(registry.activities) == {"say_hello", "square"}
    assert registry.activities["say_hello"].function("Tokyo") == "Hello Tokyo!"


def test_missing_function_app_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(f"no function_app.py in {tmp_path.resolve()}")):
        load_function_app(tmp_path)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    script = write_app(tmp_path, "import durable_azure as df\napp = df.DFApp()\ndef broken(:\n    pass\n")
    with pytest.raises(ConfigurationError) as caught:
        load_function_app(tmp_path)
    message = str(caught.value)
    assert f"{script}, line 3" in message
    assert "SyntaxError" in message


def test_exception_at_import_names_file_line_and_error(tmp_path: Path) -> None:
    script = write_app(tmp_path, "import durable_azure as df\napp = df.DFApp()\nraise ValueError('boom')\n")
    with pytest.raises(ConfigurationError) as caught:
        load_function_app(tmp_path)
    assert f"{script}, line 3" in str(caught.value)
    assert "ValueError: boom" in str(caught.value)


def test_error_in_a_sibling_module_names_that_module(tmp_path: Path) -> None:
    helper = write_app(tmp_path, "x = 1\nundefined_name\n", name="broken_helper_for_loader_test.py")
    write_app(tmp_path, "import broken_helper_for_loader_test\n")
    with pytest.raises(ConfigurationError) as caught:
        load_function_app(tmp_path)
    assert f"{helper}, line 2" in str(caught.value)
    assert "NameError" in str(caught.value)


def test_missing_package_is_reported_with_its_name(tmp_path: Path) -> None:
    write_app(tmp_path, "import package_that_does_not_exist_anywhere\n")
    with pytest.raises(ConfigurationError, match=r"ModuleNotFoundError.*package_that_does_not_exist_anywhere"):
        load_function_app(tmp_path)


def test_no_app_object_names_the_file_and_both_app_kinds(tmp_path: Path) -> None:
    script = write_app(tmp_path, "import azure.functions as func\nvalue = 1\n")
    with pytest.raises(ConfigurationError) as caught:
        load_function_app(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{script} defines no function app")
    assert "df.DFApp()" in message and "func.FunctionApp()" in message
    assert "\n" not in message


def test_two_apps_are_a_start_up_error_naming_the_file_and_both(tmp_path: Path) -> None:
    script = write_app(
        tmp_path,
        "import azure.functions as func\nimport durable_azure as df\nfirst = df.DFApp()\nsecond = func.FunctionApp()\n",
    )
    with pytest.raises(ConfigurationError) as caught:
        load_function_app(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{script} defines 2 function apps")
    assert "first (DFApp)" in message and "second (FunctionApp)" in message


def test_the_same_app_under_two_names_is_one_app(tmp_path: Path) -> None:
    write_app(tmp_path, "import durable_azure as df\napp = df.DFApp()\nalias = app\n")
    assert isinstance(load_function_app(tmp_path), df.DFApp)


def test_a_plain_function_app_with_a_durable_blueprint_is_the_app(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        """
        import azure.functions as func
        import durable_azure as df

        parts = df.Blueprint()

        @parts.orchestration_trigger(context_name="context")
        def chain(context):
            yield context.call_activity(echo, 1)

        @parts.activity_trigger(input_name="value", activity="Echo")
        def echo(value):
            return value

        app = func.FunctionApp()
        app.register_functions(parts)
        """,
    )
    app = load_function_app(tmp_path)
    assert type(app) is func.FunctionApp
    registry = durable_registry(app)
    assert set(registry.orchestrators) == {"chain"}
    assert set(registry.activities) == {"Echo"}
    assert registry.activities["Echo"].function._durable_name == "Echo"


def test_durable_decorators_of_a_plain_function_app_are_ours(tmp_path: Path) -> None:
    """func.FunctionApp's own durable decorators delegate to the installed Durable Functions SDK: here, ours."""
    write_app(
        tmp_path,
        """
        import azure.functions as func

        app = func.FunctionApp()

        @app.orchestration_trigger(context_name="context", orchestration="Chain")
        def chain(context):
            yield context.call_activity("echo", 1)

        @app.function_name("Starter")
        @app.route(route="start")
        @app.durable_client_input(client_name="client")
        async def start(req, client):
            return None
        """,
    )
    app = load_function_app(tmp_path)
    orchestrator = durable_registry(app).orchestrators["Chain"]
    assert (orchestrator.__module__, orchestrator.__name__) == ("function_app", "chain")  # not wrapped
    bindings = {binding.type for function in app.get_functions() for binding in function.get_bindings()}
    assert {"orchestrationTrigger", "durableClient", "httpTrigger"} <= bindings
    # Only while the app was imported: afterwards azure.functions is as it was.
    assert DecoratorApi.__dict__["_get_durable_blueprint"] is ORIGINAL_GET_DURABLE_BLUEPRINT


def test_an_app_object_imported_from_another_module_is_found(tmp_path: Path) -> None:
    write_app(tmp_path, "import durable_azure as df\napp = df.DFApp()\n", name="shared_app_for_loader_test.py")
    write_app(
        tmp_path,
        """
        from shared_app_for_loader_test import app

        @app.activity_trigger(input_name="value")
        def echo(value):
            return value
        """,
    )
    assert set(durable_registry(load_function_app(tmp_path)).activities) == {"echo"}


def test_two_functions_with_one_name_are_a_start_up_error_naming_the_file(tmp_path: Path) -> None:
    script = write_app(
        tmp_path,
        """
        import azure.functions as func
        app = func.FunctionApp()

        @app.function_name("Same")
        @app.route(route="a")
        def first(req):
            return "a"

        @app.function_name("Same")
        @app.route(route="b")
        def second(req):
            return "b"
        """,
    )
    with pytest.raises(ConfigurationError, match=re.escape(f"{script}: Function Same does not have a unique")):
        index_app(tmp_path)


def test_apps_with_same_named_sibling_modules_each_import_their_own(tmp_path: Path) -> None:
    """One app per process: the previous app's modules are forgotten, so its `helpers` cannot stand in."""
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        write_app(tmp_path / name, f"NAME = {name!r}\n", name="helpers_of_each_app.py")
        write_app(
            tmp_path / name,
            """
            import durable_azure as df
            from helpers_of_each_app import NAME
            app = df.DFApp()
            app.activity_trigger(input_name="value", activity=NAME)(lambda value: value)
            """,
        )
    names = [set(durable_registry(load_function_app(tmp_path / name)).activities) for name in ("first", "second")]
    assert names == [{"first"}, {"second"}]
    assert str(tmp_path / "first") not in sys.path


def test_a_function_without_a_trigger_is_a_start_up_error_naming_the_file(tmp_path: Path) -> None:
    script = write_app(
        tmp_path,
        """
        import azure.functions as func
        app = func.FunctionApp()

        @app.queue_output(arg_name="message", queue_name="out", connection="AzureWebJobsStorage")
        def lonely(message):
            pass
        """,
    )
    with pytest.raises(ConfigurationError, match=re.escape(f"{script}: Function lonely does not have a trigger")):
        load_function_app(tmp_path)
