"""The `durable-azure` command line: arguments, and one clear line (exit 1) for each startup mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from durable_azure.cli import build_parser, main


def test_start_new_arguments() -> None:
    arguments = build_parser().parse_args(
        ["start-new", "--function-name", "hello_sequence", "--id", "abc", "--input", '{"a": 1}', "--app-dir", "app"]
    )
    assert arguments.command == "start-new"
    assert arguments.function_name == "hello_sequence"
    assert arguments.id == "abc"
    assert arguments.input == '{"a": 1}'
    assert arguments.app_dir == Path("app")


def test_defaults() -> None:
    arguments = build_parser().parse_args(["worker"])
    assert arguments.app_dir == Path(".")
    assert arguments.log_level == "INFO"
    wait = build_parser().parse_args(["--log-level", "debug", "wait", "--id", "x"])
    assert wait.timeout == 60.0
    assert wait.log_level == "DEBUG"
    status = build_parser().parse_args(["get-runtime-status", "--id", "x", "--show-history"])
    assert status.show_history


@pytest.mark.parametrize(
    "argv",
    [[], ["start-new"], ["get-runtime-status"], ["wait", "--id", "x", "--timeout", "soon"], ["no-such-command"]],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    error_output = capsys.readouterr().err.strip()
    assert "Traceback" not in error_output
    lines = [line for line in error_output.splitlines() if line.startswith("durable-azure: error:")]
    assert len(lines) == 1, error_output
    return lines[0]


def test_worker_without_function_app_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--app-dir", str(tmp_path)]) == 1
    assert f"no function_app.py and no function folders (*/function.json) in {tmp_path.resolve()}" in one_error_line(
        capsys
    )


def test_bad_host_json_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0",\n "extensions": }\n')
    (tmp_path / "function_app.py").write_text("import durable_azure as df\napp = df.DFApp()\n")
    assert main(["worker", "--app-dir", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert "host.json" in line
    assert "line 2" in line


def test_invalid_setting_prints_key_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "host.json").write_text('{"extensions": {"durableTask": {"storageProvider": {"partitionCount": 40}}}}')
    assert main(["get-runtime-status", "--id", "x", "--app-dir", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert "partitionCount" in line
    assert "40" in line


def test_broken_app_prints_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "function_app.py").write_text("import durable_azure as df\n\n1 / 0\n")
    assert main(["worker", "--app-dir", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert "function_app.py, line 3" in line
    assert "ZeroDivisionError" in line


def test_invalid_input_json_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["start-new", "--function-name", "x", "--input", "{not json", "--app-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "--input is not valid JSON" in one_error_line(capsys)


def test_missing_input_file_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    argv = ["start-new", "--function-name", "x", "--input", f"@{missing}", "--app-dir", str(tmp_path)]
    assert main(argv) == 1
    assert str(missing) in one_error_line(capsys)


def test_python_dash_m_runs_the_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "durable_azure", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0
    for command in ("worker", "start-new", "get-runtime-status", "wait"):
        assert command in completed.stdout
