"""Apps still importing azure.durable_functions (the official SDK) are refused at start-up, naming the import to change.

The official decorators wrap orchestrators and client functions for the .NET host's protocol, so such an app
cannot run on this host's engine as it is; the error names the file and the one-line fix. azure-functions-durable
is a dev dependency, so these apps are built with the real SDK.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.indexing import index_app

FIX = "change `import azure.durable_functions as df` to `import durable_azure as df`"


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def one_line_error(app_dir: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        index_app(app_dir)
    message = str(caught.value)
    assert "\n" not in message
    assert FIX in message
    return message


def test_an_official_dfapp_names_the_file(tmp_path: Path) -> None:
    script = write(
        tmp_path / "function_app.py",
        """
        import azure.durable_functions as df
        app = df.DFApp()

        @app.activity_trigger(input_name="value")
        def echo(value):
            return value
        """,
    )
    message = one_line_error(tmp_path)
    assert message.startswith(f"{script}: the app is azure.durable_functions' DFApp")


@pytest.mark.parametrize("first", ["orchestrator", "client"])
def test_an_official_blueprint_on_a_function_app_names_the_function_and_its_file(tmp_path: Path, first: str) -> None:
    write(
        tmp_path / "function_app.py",
        """
        import azure.functions as func
        from official_parts_for_sdk_test import parts
        app = func.FunctionApp()
        app.register_functions(parts)
        """,
    )
    orchestrator = """
        @parts.orchestration_trigger(context_name="context")
        def chain(context):
            yield context.call_activity("echo", 1)
    """
    client = """
        @parts.route(route="start")
        @parts.durable_client_input(client_name="client")
        async def start(req, client):
            return None
    """
    body = orchestrator + client if first == "orchestrator" else client + orchestrator
    blueprint = write(
        tmp_path / "official_parts_for_sdk_test.py",
        "import azure.durable_functions as df\nparts = df.Blueprint()\n" + textwrap.dedent(body),
    )
    message = one_line_error(tmp_path)
    name = "chain" if first == "orchestrator" else "start"
    assert message.startswith(f"function {name!r} ({blueprint}) was declared with azure.durable_functions'")


def test_a_v1_script_using_the_official_sdk_names_the_script(tmp_path: Path) -> None:
    folder = tmp_path / "Chain"
    write(
        folder / "function.json",
        json.dumps({"bindings": [{"name": "context", "type": "orchestrationTrigger", "direction": "in"}]}),
    )
    script = write(
        folder / "__init__.py",
        """
        import azure.durable_functions as df

        def chain(context):
            yield context.call_activity("echo", 1)

        main = df.Orchestrator.create(chain)
        """,
    )
    assert one_line_error(tmp_path).startswith(f"{script} uses azure.durable_functions (df)")


def test_without_the_official_sdk_installed_the_import_error_says_what_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail exactly as for a package that is not installed.
    monkeypatch.setitem(sys.modules, "azure.durable_functions", None)
    script = write(
        tmp_path / "function_app.py", "import azure.functions as func\nimport azure.durable_functions as df\n"
    )
    message = one_line_error(tmp_path)
    assert message.startswith(f"cannot import {script}, line 2: ModuleNotFoundError")
    assert "durable-azure replaces azure-functions-durable" in message
