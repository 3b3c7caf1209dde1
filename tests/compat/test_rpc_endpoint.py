"""Where the local RPC endpoint is opened, and what binding strings say when host.json turns it off.

`durable-azure worker` opens one when a function it runs has a client binding (here an activity); with
`localRpcEndpointEnabled: false` the host opens none, binding strings say `rpcBaseUrl: null`, and the
official client refuses its calls as it does on the original.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.durable_functions import DurableOrchestrationClient as OfficialClient
from azure.durable_functions import OrchestrationRuntimeStatus

from durable_azure.client import DurableOrchestrationClient
from tests.conftest import unique_hub_name
from tests.functions.host_process import (
    PROJECT_DIR,
    START_SECONDS,
    WAIT_SECONDS,
    HostProcess,
    delete_hub,
    host_environment,
    running_host,
)

APP_DIR = Path(__file__).resolve().parent / "official_client_app"


async def test_activity_binding_strings_name_the_same_endpoint(host: HostProcess, binding: str) -> None:
    client = OfficialClient(binding)
    instance_id = await client.start_new("WhoAmI")
    for _ in range(int(WAIT_SECONDS * 10)):
        status = await client.get_status(instance_id)
        if status.runtime_status is OrchestrationRuntimeStatus.Completed:
            break
        await asyncio.sleep(0.1)
    assert status.runtime_status is OrchestrationRuntimeStatus.Completed, status.to_json()
    activity_binding = json.loads(status.output)
    assert activity_binding["rpcBaseUrl"] == json.loads(binding)["rpcBaseUrl"]


async def test_worker_with_client_bindings_opens_its_own_endpoint(connection_string: str) -> None:
    hub_name = unique_hub_name("RpcWorker")
    with _worker(connection_string, hub_name) as output:
        started = next(line for line in output if "host.started" in line)
        rpc = started.split(" rpc=")[1].split()[0]
        assert rpc.startswith("http://127.0.0.1:") and rpc.endswith("/durabletask/")
        async with DurableOrchestrationClient.from_connection_string(
            connection_string, hub_name, partition_count=2
        ) as client:
            instance_id = await client.start_new("WhoAmI")
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        binding: dict[str, Any] = json.loads(status.output)
        assert binding["rpcBaseUrl"] == rpc
        official = OfficialClient(status.output)
        seen = await official.get_status(instance_id)
        assert seen.runtime_status is OrchestrationRuntimeStatus.Completed
    await delete_hub(connection_string, hub_name)


async def test_endpoint_turned_off_in_host_json(connection_string: str, tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(APP_DIR, app_dir)
    host_json = json.loads((app_dir / "host.json").read_text())
    host_json["extensions"]["durableTask"]["localRpcEndpointEnabled"] = False
    (app_dir / "host.json").write_text(json.dumps(host_json))
    with running_host(connection_string, app_dir=app_dir) as host:
        assert "Local RPC endpoint: off (host.json localRpcEndpointEnabled is false)" in host.text_output()
        binding = host.request("GET", "/api/Binding").body.decode()
        fields = json.loads(binding)
        assert fields["rpcBaseUrl"] is None
        assert fields["creationUrls"]["createNewInstancePostUri"].startswith(host.base_url)
        official = OfficialClient(binding)
        with pytest.raises(ValueError, match="has not RPC base url"):
            await official.get_status("anything")
        with pytest.raises(Exception, match="localRpcEnabled"):
            await official.rewind("anything", "reason")
        started = host.request("POST", "/api/orchestrators/Chain", body="null")  # our own client still works
        assert started.status == 202, started.body
    await delete_hub(connection_string, host.hub_name)


@contextmanager
def _worker(connection_string: str, hub_name: str) -> Iterator[list[str]]:
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
        yield output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()


def _pump(process: subprocess.Popen[str], output: list[str], ready: threading.Event) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if "host.started" in line:
            ready.set()
    ready.set()
