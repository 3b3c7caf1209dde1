"""Where the local RPC endpoint is opened, and what binding strings say when host.json turns it off.

`durable-azure worker` opens one when a function it runs has a client binding (here an activity); with
`localRpcEndpointEnabled: false` the host opens none, binding strings say `rpcBaseUrl: null`, and the
official client refuses its calls as it does on the original.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from azure.durable_functions import DurableOrchestrationClient as OfficialClient
from azure.durable_functions import OrchestrationRuntimeStatus

from durable_azure.client import DurableOrchestrationClient
from tests.conftest import unique_hub_name
from tests.functions.host_process import (
    WAIT_SECONDS,
    HostProcess,
    delete_hub,
    running_host,
    running_worker,
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
    with running_worker(connection_string, hub_name, APP_DIR) as output:
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
