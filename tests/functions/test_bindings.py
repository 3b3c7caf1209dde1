"""invoke_http_function: the durableClient input binding, the orchestration-client output binding and responses.

Runs tests/functions/bindings_app against a worker on a fresh task hub in Azurite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import azure.functions as func
import pytest
import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.errors import FunctionInvocationError
from durable_azure.functions.http_invocation import invoke_http_function
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name
from tests.functions.harness import RunningApp, body_json, running_app

APP_DIR = Path(__file__).parent / "bindings_app"


@pytest_asyncio.fixture
async def app(task_hub: TaskHub) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub) as running:
        yield running


async def instance_ids(app: RunningApp) -> set[str]:
    return {status.instance_id for status in await app.client.get_status_all()}


async def test_node_style_payload_starts_one_instance_per_entry(app: RunningApp) -> None:
    payload = [
        {"FunctionName": "echo", "Input": {"n": 1}, "InstanceId": "node-1"},
        {"functionName": "echo", "input": [2], "instanceId": "node-2"},
        {"FunctionName": "echo"},
    ]
    response = await app.call("output_start", body=payload)
    assert response.status_code == 202
    first = await app.client.wait_for_completion("node-1", timeout=60)
    second = await app.client.wait_for_completion("node-2", timeout=60)
    assert (first.output, second.output) == ({"n": 1}, [2])
    generated = (await instance_ids(app)) - {"node-1", "node-2"}
    assert len(generated) == 1 and len(generated.pop()) == 32


async def test_legacy_type_and_single_object(app: RunningApp) -> None:
    await app.call("output_legacy", body={"FunctionName": "echo", "Input": "x", "InstanceId": "legacy-1"})
    status = await app.client.wait_for_completion("legacy-1", timeout=60)
    assert status.output == "x"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([{"FunctionName": "echo", "InstanceId": "ok-1"}, {"Input": 1}], "entry 1: FunctionName is missing"),
        ([{"FunctionName": 7}], "entry 0: FunctionName must be a non-empty string, got the number 7"),
        ([{"FunctionName": "echo", "InstanceId": "a/b"}], "entry 0: InstanceId is invalid"),
        ([{"FunctionName": "echo", "InstanceId": 5}], "entry 0: InstanceId must be a string"),
        ([{"FunctionName": "echo"}, 3], "entry 1: expected an object with FunctionName, got the number 3"),
        ("just text", "expected an object with FunctionName or a list of them, got a string"),
        ([{"FunctionName": "nope"}], "entry 0: FunctionName 'nope' is not an orchestrator function of this app"),
        ([{"FunctionName": "echo", "InstanceId": "d"}, {"FunctionName": "echo", "InstanceId": "d"}], "repeats entry 0"),
    ],
)
async def test_bad_payload_fails_naming_entry_and_field_and_starts_nothing(
    app: RunningApp, payload: object, message: str
) -> None:
    with pytest.raises(FunctionInvocationError, match="output binding 'starter'") as raised:
        await app.call("output_start", body=payload)
    assert message in str(raised.value)
    assert await instance_ids(app) == set()


async def test_invalid_json_fails_and_starts_nothing(app: RunningApp) -> None:
    function = app.function("output_start")
    request = func.HttpRequest(method="POST", url="http://localhost/api/output/start", body=b"[{oops")
    with pytest.raises(FunctionInvocationError, match="output binding 'starter': invalid JSON"):
        await invoke_http_function(function, request, app.services)
    assert await instance_ids(app) == set()


async def test_running_instance_id_refuses_the_whole_payload(app: RunningApp) -> None:
    await app.client.start_new("gated", "busy")
    payload = [{"FunctionName": "echo", "InstanceId": "fresh"}, {"FunctionName": "echo", "InstanceId": "busy"}]
    with pytest.raises(FunctionInvocationError, match="entry 1: InstanceId 'busy' is already"):
        await app.call("output_start", body=payload)
    assert await instance_ids(app) == {"busy"}


async def test_wait_for_completion_returns_the_output(app: RunningApp) -> None:
    response = await app.call("start_and_wait", route_params={"instanceId": "w1"}, body={"a": 1})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert body_json(response) == {"a": 1}


async def test_wait_for_completion_of_a_failure_is_500_with_the_status(app: RunningApp) -> None:
    response = await app.call("start_and_wait", route_params={"instanceId": "w2"}, body="fail")
    assert response.status_code == 500
    status = body_json(response)
    assert status["runtimeStatus"] == OrchestrationRuntimeStatus.Failed.value
    assert "asked to fail" in json.dumps(status["output"])


async def test_wait_for_completion_times_out_to_the_check_status_response(app: RunningApp) -> None:
    response = await app.call("start_gated", origin="https://example.test:8443")
    assert response.status_code == 202
    payload = body_json(response)
    assert response.headers["Retry-After"] == "10"
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    hub = app.services.management.task_hub
    assert payload["statusQueryGetUri"] == (
        f"https://example.test:8443/runtime/webhooks/durabletask/instances/{payload['id']}"
        f"?taskHub={hub}&connection=Storage"
    )
    assert set(payload) == {
        "id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
        "restartPostUri", "suspendPostUri", "resumePostUri", "rewindPostUri",
    }  # fmt: skip


async def test_client_binding_with_task_hub_setting_uses_that_hub(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = unique_hub_name()
    monkeypatch.setenv("OTHER_HUB", other)
    response = await app.call("payload_of_other_hub", method="GET", route_params={"instanceId": "x y"})
    payload = body_json(response)
    assert payload["id"] == "x y"
    assert payload["terminatePostUri"] == (
        "http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/x%20y/terminate"
        f"?reason={{text}}&taskHub={other}&connection=Storage"
    )


async def test_return_values_become_responses(app: RunningApp) -> None:
    response = await app.call("plain", method="GET")
    assert (response.status_code, response.get_body()) == (200, b"hello")
    with pytest.raises(FunctionInvocationError, match="'bad_return' returned object"):
        await app.call("bad_return", method="GET")


def test_index_reports_routes_methods_and_auth(app: RunningApp) -> None:
    starter = app.function("start_and_wait")
    assert (starter.route, starter.methods, starter.auth_level) == ("wait/{instanceId}", ("POST",), "anonymous")
    assert set(app.index.registry.orchestrators) == {"echo", "gated"}
