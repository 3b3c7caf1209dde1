"""Start-up mistakes of `durable-azure start`: each is one line naming the fix, exit code 1, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from durable_azure.azurite import development_connection_string
from tests.functions.host_process import free_port, host_environment, run_cli

MINIMAL_APP = "import durable_azure as df\n\napp = df.DFApp()\n"


def start(app_dir: Path, connection_string: str, *extra: str) -> subprocess.CompletedProcess[str]:
    environment = host_environment(connection_string, "StartupHub")
    return run_cli(["start", "--app-dir", str(app_dir), "--port", str(free_port()), *extra], environment)


def one_error_line(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith("durable-azure: error:")]
    assert len(lines) == 1, completed.stderr
    return lines[0]


def test_missing_function_app(tmp_path: Path, connection_string: str) -> None:
    line = one_error_line(start(tmp_path, connection_string))
    assert "no function_app.py" in line
    assert "--app-dir" in line


def test_import_error_names_file_and_line(tmp_path: Path, connection_string: str) -> None:
    (tmp_path / "function_app.py").write_text("import durable_azure as df\n\nimport no_such_module\n")
    line = one_error_line(start(tmp_path, connection_string))
    assert "function_app.py, line 3" in line
    assert "no_such_module" in line


def test_bad_host_json(tmp_path: Path, connection_string: str) -> None:
    (tmp_path / "function_app.py").write_text(MINIMAL_APP)
    (tmp_path / "host.json").write_text('{"version": "2.0", "extensions": {"http": {"routePrefix": 7}}}')
    line = one_error_line(start(tmp_path, connection_string))
    assert "host.json" in line and "routePrefix" in line


def test_port_in_use(tmp_path: Path, connection_string: str) -> None:
    (tmp_path / "function_app.py").write_text(MINIMAL_APP)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        environment = host_environment(connection_string, "StartupHub")
        completed = run_cli(["start", "--app-dir", str(tmp_path), "--port", str(port)], environment)
    line = one_error_line(completed)
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "--port" in line


def test_unreachable_storage(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(MINIMAL_APP)
    nowhere = development_connection_string("127.0.0.1", free_port(), free_port(), free_port())
    line = one_error_line(start(tmp_path, nowhere))
    assert "cannot use storage account devstoreaccount1" in line
    assert "AzureWebJobsStorage" in line
    account_key = nowhere.split("AccountKey=")[1].split(";")[0]
    assert account_key not in line


@pytest.mark.parametrize("port", ["70000", "http"])
def test_bad_port_argument_is_a_usage_error(tmp_path: Path, connection_string: str, port: str) -> None:
    (tmp_path / "function_app.py").write_text(MINIMAL_APP)
    environment = host_environment(connection_string, "StartupHub")
    completed = run_cli(["start", "--app-dir", str(tmp_path), "--port", port], environment)
    assert completed.returncode == 2
    assert "not a port number" in completed.stderr
    assert "Traceback" not in completed.stderr
