"""The command line with an identity-based connection in local.settings.json: no Azurite in the app folder.

This is the issue's case: an app folder whose settings hold only `AzureWebJobsStorage__*` service URIs and
`__credential=managedidentity`. The commands must use that connection (here the OAuth Azurite, through the
loopback managed-identity endpoint), or fail with one line naming the setting, never start a local Azurite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import unique_hub_name
from tests.identity.token_endpoint import TokenEndpoint

PROJECT_DIR = Path(__file__).resolve().parents[2]
COMMAND_SECONDS = 90.0
FUNCTION_APP = """
import durable_azure as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def greet(context):
    return (yield context.call_activity("hello", context.get_input()))


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"
"""


@pytest.fixture
def app_dir(tmp_path: Path, identity_settings: dict[str, str]) -> Path:
    (tmp_path / "function_app.py").write_text(FUNCTION_APP)
    durable_task = {"hubName": unique_hub_name("Cli"), "storageProvider": {"partitionCount": 1}}
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable_task}}))
    write_local_settings(tmp_path, identity_settings)
    return tmp_path


def write_local_settings(app_dir: Path, values: dict[str, str]) -> None:
    (app_dir / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))


def cli(app_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`durable-azure ARGUMENTS --app-dir APP_DIR` in a new process, with this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "durable_azure", *arguments, "--app-dir", str(app_dir)],
        env=dict(os.environ),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


def one_error_line(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith("durable-azure: error:")]
    assert len(lines) == 1, completed.stderr
    return lines[0]


def test_worker_and_commands_use_the_identity_connection(app_dir: Path, token_endpoint: TokenEndpoint) -> None:
    started = cli(app_dir, "start-new", "--function-name", "greet", "--input", '"identity"')
    assert started.returncode == 0, started.stderr
    instance_id = json.loads(started.stdout)["id"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "durable_azure", "worker", "--app-dir", str(app_dir)],
        env=dict(os.environ),
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        waited = cli(app_dir, "wait", "--id", instance_id, "--timeout", "60")
    finally:
        worker.send_signal(signal.SIGINT)
        _, worker_log = worker.communicate(timeout=COMMAND_SECONDS)
    assert waited.returncode == 0, waited.stderr + worker_log
    status = json.loads(waited.stdout)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", "Hello identity!")
    assert "connection=app settings AzureWebJobsStorage__*" in worker_log
    assert cli(app_dir, "delete-task-hub").returncode == 0
    assert not (app_dir / ".azurite").exists()
    assert len(token_endpoint.requests) >= 4  # each process asked for its own token


def test_a_failing_identity_stops_the_worker_with_one_line_naming_the_setting(
    app_dir: Path, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.failing = True
    line = one_error_line(cli(app_dir, "worker"))
    assert "app settings AzureWebJobsStorage__*: ManagedIdentityCredential could not get a token" in line
    assert not (app_dir / ".azurite").exists()


@pytest.mark.parametrize("command", [["worker"], ["start-new", "--function-name", "greet"], ["keys"]])
def test_an_unusable_section_is_an_error_not_a_local_azurite(
    app_dir: Path, identity_settings: dict[str, str], command: list[str]
) -> None:
    del identity_settings["AzureWebJobsStorage__queueServiceUri"]
    write_local_settings(app_dir, identity_settings)
    line = one_error_line(cli(app_dir, *command))
    assert "AzureWebJobsStorage__queueServiceUri" in line
    assert not (app_dir / ".azurite").exists()
