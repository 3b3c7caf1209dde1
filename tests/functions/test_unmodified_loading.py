"""Apps that keep `import azure.durable_functions as df` load unchanged: what they become, and what is refused.

No storage: these index app folders (tests/functions/sdk_apps and apps written into tmp_path) and read the index.
The official SDK is a dev dependency, so the apps are built with the real SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.activity_converters import decode_activity_input, encode_activity_output
from durable_azure.functions.indexing import index_app
from durable_azure.functions.urls import ManagementUrls
from durable_azure.protocol import SdkEntity, SdkOrchestrator
from tests.functions.host_process import PROJECT_DIR, free_port

SDK_APPS = Path(__file__).resolve().parent / "sdk_apps"


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def write_function(folder: Path, trigger: dict[str, str], script: str) -> Path:
    write(folder / "function.json", json.dumps({"bindings": [{"direction": "in", **trigger}]}))
    return write(folder / "__init__.py", script)


def load_error(app_dir: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        index_app(app_dir)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_v2_dfapp_orchestrators_become_sdk_orchestrators_and_activities_stay_plain() -> None:
    index = index_app(SDK_APPS / "v2_app")
    registry = index.registry
    assert registry.orchestrators == {}
    assert set(registry.sdk_orchestrators) == {"travel_chain", "word_lengths", "wait_for_approval"}
    assert all(isinstance(value, SdkOrchestrator) for value in registry.sdk_orchestrators.values())
    # The handle is the SDK's Orchestrator.create(fn): it carries the user's generator.
    assert registry.sdk_orchestrators["travel_chain"].handle.orchestrator_function.__name__ == "travel_chain"
    assert {name: activity.input_name for name, activity in registry.activities.items()} == {
        "hello": "city",
        "measure": "word",
    }
    assert {function.name for function in index.http_functions} == {
        "http_start",
        "read_status",
        "send_event",
        "manage",
        "tally_route",
    }
    assert set(registry.entities) == {"tally"}
    assert index.unmodified
    assert index.orchestrator_names == {"travel_chain", "word_lengths", "wait_for_approval"}
    # HTTP functions are told every orchestrator (an output-binding start checks names against them).
    assert index.http_functions[0].orchestrator_names == {"travel_chain", "word_lengths", "wait_for_approval"}


def test_v1_orchestrator_created_with_the_official_sdk_becomes_an_sdk_orchestrator() -> None:
    index = index_app(SDK_APPS / "v1_app")
    assert set(index.registry.sdk_orchestrators) == {"Chain"}
    assert index.registry.orchestrators == {}
    assert set(index.registry.activities) == {"SayHello"}
    assert [function.name for function in index.http_functions] == ["HttpStart"]
    assert index.unmodified


def test_official_blueprints_on_a_function_app_load(tmp_path: Path) -> None:
    write(
        tmp_path / "function_app.py",
        """
        import azure.functions as func
        from official_parts import parts
        app = func.FunctionApp()
        app.register_functions(parts)
        """,
    )
    write(
        tmp_path / "official_parts.py",
        """
        import azure.durable_functions as df
        parts = df.Blueprint()

        @parts.function_name("Renamed")
        @parts.orchestration_trigger(context_name="context")
        def chain(context):
            yield context.call_activity("echo", 1)

        @parts.activity_trigger(input_name="value", activity="echo")
        def echo_activity(value):
            return value

        @parts.route(route="start")
        @parts.durable_client_input(client_name="client")
        async def start(req, client):
            return None
        """,
    )
    index = index_app(tmp_path)
    assert set(index.registry.sdk_orchestrators) == {"Renamed"}
    assert index.registry.activities["echo"].input_name == "value"
    assert [function.name for function in index.http_functions] == ["start"]
    assert index.unmodified


def test_mixing_both_sdks_orchestrators_names_one_of_each_and_their_files(tmp_path: Path) -> None:
    write(
        tmp_path / "function_app.py",
        """
        import azure.functions as func
        from native_parts import native
        from official_parts import official
        app = func.FunctionApp()
        app.register_functions(native)
        app.register_functions(official)
        """,
    )
    native = write(
        tmp_path / "native_parts.py",
        """
        import durable_azure as df
        native = df.Blueprint()

        @native.orchestration_trigger(context_name="context")
        def ported(context):
            yield context.call_activity("echo", 1)
        """,
    )
    official = write(
        tmp_path / "official_parts.py",
        """
        import azure.durable_functions as df
        official = df.Blueprint()

        @official.orchestration_trigger(context_name="context")
        def unported(context):
            yield context.call_activity("echo", 1)
        """,
    )
    message = load_error(tmp_path)
    assert f"durable_azure ('ported' in {native})" in message
    assert f"azure.durable_functions ('unported' in {official})" in message
    assert "port every orchestrator" in message


def test_mixing_in_a_v1_app_names_both_scripts(tmp_path: Path) -> None:
    trigger = {"name": "context", "type": "orchestrationTrigger"}
    native = write_function(
        tmp_path / "Ported",
        trigger,
        "def main(context):\n    yield context.call_activity('echo', 1)\n",
    )
    official = write_function(
        tmp_path / "Unported",
        trigger,
        """
        import azure.durable_functions as df

        def chain(context):
            yield context.call_activity("echo", 1)

        main = df.Orchestrator.create(chain)
        """,
    )
    message = load_error(tmp_path)
    assert f"('Ported' in {native})" in message
    assert f"('Unported' in {official})" in message


def test_a_v2_official_entity_runs_through_the_sdks_handler_and_activities_get_the_workers_converter(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "function_app.py",
        """
        import azure.durable_functions as df
        app = df.DFApp()

        @app.entity_trigger(context_name="context", entity_name="Counter")
        def counter(context):
            context.set_result(None)

        @app.orchestration_trigger(context_name="context")
        def chain(context):
            return (yield context.call_activity("hello", "x"))

        @app.activity_trigger(input_name="city")
        def hello(city):
            return city
        """,
    )
    registry = index_app(tmp_path).registry
    entity = registry.entities["counter"]
    assert isinstance(entity, SdkEntity) and entity.handle.entity_function.__name__ == "counter"
    assert registry.activities["hello"].decode_input is decode_activity_input
    assert registry.activities["hello"].encode_output is encode_activity_output


def test_a_v1_official_entity_runs_through_the_sdks_handler(tmp_path: Path) -> None:
    write_function(
        tmp_path / "Counter",
        {"name": "context", "type": "entityTrigger"},
        """
        import azure.durable_functions as df

        def counter(context):
            context.set_result(None)

        main = df.Entity.create(counter)
        """,
    )
    entity = index_app(tmp_path).registry.entities["counter"]
    assert isinstance(entity, SdkEntity) and entity.name == "counter"


def test_a_v1_orchestrator_importing_the_sdk_without_its_handler_is_refused(tmp_path: Path) -> None:
    script = write_function(
        tmp_path / "Chain",
        {"name": "context", "type": "orchestrationTrigger"},
        """
        import azure.durable_functions as df

        def main(context: df.DurableOrchestrationContext):
            yield context.call_activity("echo", 1)
        """,
    )
    message = load_error(tmp_path)
    assert message.startswith(f"{script} uses azure.durable_functions (df) but its entry point is not")
    assert "df.Orchestrator.create" in message


def test_a_native_app_with_the_official_client_is_not_unmodified(tmp_path: Path) -> None:
    """Our orchestrators decode once: the RPC listener keeps unwrapping the official client's bodies for them."""
    write(
        tmp_path / "function_app.py",
        """
        import azure.functions as func
        from official_client import clients
        import durable_azure as df
        app = df.DFApp()
        app.register_functions(clients)

        @app.orchestration_trigger(context_name="context")
        def chain(context):
            yield context.call_activity("echo", 1)
        """,
    )
    write(
        tmp_path / "official_client.py",
        """
        import azure.durable_functions as df
        clients = df.Blueprint()

        @clients.route(route="start")
        @clients.durable_client_input(client_name="client")
        async def start(req, client):
            return None
        """,
    )
    index = index_app(tmp_path)
    assert set(index.registry.orchestrators) == {"chain"}
    assert not index.unmodified


def test_rpc_services_unwrap_only_for_our_orchestrators() -> None:
    from durable_azure.functions.keys import HostKeys
    from durable_azure.functions.management_services import ManagementServices

    async def no_client(task_hub: str | None, connection: str | None) -> object:
        raise AssertionError("not called")

    def services(unmodified: bool) -> ManagementServices:
        return ManagementServices(
            client_for=no_client,  # type: ignore[arg-type]
            urls=ManagementUrls(base_url="http://127.0.0.1:7071", task_hub="hub"),
            keys=HostKeys(master_key="m", function_keys={}, system_keys={}),
            orchestrator_names=frozenset(),
            unmodified_app=unmodified,
        )

    assert services(unmodified=False).for_rpc().unwraps_sdk_json
    assert not services(unmodified=True).for_rpc().unwraps_sdk_json
    assert not services(unmodified=False).unwraps_sdk_json  # the public API never unwraps


def test_without_the_sdk_installed_the_import_error_says_to_install_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail exactly as for a package that is not installed.
    monkeypatch.setitem(sys.modules, "azure.durable_functions", None)
    script = write(tmp_path / "function_app.py", "import azure.functions\nimport azure.durable_functions as df\n")
    message = load_error(tmp_path)
    assert message.startswith(f"cannot import {script}, line 2: ModuleNotFoundError")
    assert "pip install durable-azure[sdk]" in message


def test_a_v1_app_without_the_sdk_installed_names_the_script_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.durable_functions", None)
    message = load_error(SDK_APPS / "v1_app")
    assert message.startswith(f"cannot import {SDK_APPS / 'v1_app' / 'Chain' / '__init__.py'}, line 1")
    assert "pip install durable-azure[sdk]" in message


BLOCKER = """
import importlib.abc, sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "azure.durable_functions" or name.startswith("azure.durable_functions."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def run_without_sdk(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter in which azure.durable_functions cannot be imported, as when not installed."""
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=PROJECT_DIR,
        env={**os.environ, "TEST_HUB_NAME": "UnmodifiedNoSdk"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_without_the_sdk_installed_fails_with_one_line_naming_the_extra() -> None:
    app_dir = SDK_APPS / "v2_app"
    completed = run_without_sdk(
        f"""
        from durable_azure.cli import main
        raise SystemExit(main(["start", "--app-dir", {str(app_dir)!r}, "--port", "{free_port()}"]))
        """
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith("durable-azure: error:")]
    assert len(lines) == 1, completed.stderr
    assert str(app_dir / "function_app.py") in lines[0]
    assert "pip install durable-azure[sdk]" in lines[0]


def test_native_apps_never_import_the_official_sdk() -> None:
    completed = run_without_sdk(
        f"""
        import durable_azure.cli, durable_azure.functions.host, durable_azure.functions.worker_host
        from durable_azure.functions.indexing import index_app
        index = index_app({str(Path(__file__).resolve().parent / "blueprint_app")!r})
        assert index.registry.orchestrators and not index.unmodified
        assert "azure.durable_functions" not in sys.modules
        print("ok")
        """
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
