"""`durable-azure worker` with the v1 app that shares code through `__app__` (tests/functions/v1_shared_app).

One subprocess: the worker imports the function folders as `__app__` submodules, and an orchestration started
by a client on the same task hub completes, through a relative import, an `__app__` import, a scriptFile
outside the function's folder and an activity with a func.Context.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from durable_azure.client import DurableOrchestrationClient
from tests.conftest import unique_hub_name
from tests.functions.host_process import PROJECT_DIR, START_SECONDS, WAIT_SECONDS, delete_hub, host_environment

APP_DIR = Path(__file__).resolve().parent / "v1_shared_app"
READY_LINE = "host.started"


async def test_worker_runs_a_v1_app_with_shared_code(connection_string: str) -> None:
    hub_name = unique_hub_name("V1Worker")
    process = subprocess.Popen(
        [sys.executable, "-m", "durable_azure", "worker", "--app-dir", str(APP_DIR)],
        env=host_environment(connection_string, hub_name),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_pump, args=(process, output, ready), daemon=True).start()
    try:
        assert ready.wait(START_SECONDS), "".join(output)
        assert "orchestrators=1 activities=2" in "".join(output)
        # host.json says 2 partitions; the client must agree to address the right control queue.
        async with DurableOrchestrationClient.from_connection_string(
            connection_string, hub_name, partition_count=2
        ) as client:
            order = {"customer": "ken", "items": [{"quantity": 2, "price": 21}]}
            instance_id = await client.start_new("OrderOrchestrator", None, order)
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output["total"] == 42, "".join(output)
        assert status.output["described"]["module"] == "__app__.shared_code.entry_points"
        assert status.output["described"]["function_directory"] == str(APP_DIR / "DescribeInvocation")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
        await delete_hub(connection_string, hub_name)
    assert process.returncode == 0, "".join(output)


def _pump(process: subprocess.Popen[str], output: list[str], ready: threading.Event) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if READY_LINE in line:
            ready.set()
    ready.set()
