"""Loading mistakes stop `durable-azure start` with one line naming the file: exit code 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functions.test_host_startup import one_error_line, start

APPS = {
    "two apps": (
        "import azure.functions as func\nimport durable_azure as df\nfirst = df.DFApp()\nsecond = func.FunctionApp()\n",
        "defines 2 function apps",
    ),
    "no app": ("import azure.functions as func\n", "defines no function app"),
    "both SDKs' orchestrators": (
        "import azure.durable_functions as official\nimport durable_azure as df\nimport azure.functions as func\n"
        "app = func.FunctionApp()\nported = df.Blueprint()\nunported = official.Blueprint()\n\n"
        "@ported.orchestration_trigger(context_name='context')\ndef a(context):\n    return 1\n\n"
        "@unported.orchestration_trigger(context_name='context')\ndef b(context):\n    return 2\n\n"
        "app.register_functions(ported)\napp.register_functions(unported)\n",
        "a worker runs one SDK's orchestrators",
    ),
}


@pytest.mark.parametrize(("source", "expected"), APPS.values(), ids=APPS.keys())
def test_start_refuses_with_one_line_naming_the_file(
    tmp_path: Path, connection_string: str, source: str, expected: str
) -> None:
    (tmp_path / "function_app.py").write_text(source)
    line = one_error_line(start(tmp_path, connection_string))
    assert str(tmp_path / "function_app.py") in line
    assert expected in line
