"""The Durable Functions docs' patterns, written for azure.durable_functions, run with only the import changed.

Each app under apps/ is indexed, served by a worker on a fresh task hub in Azurite, and started through its
own HTTP starter, whose check-status response must carry the documented links.
"""

from __future__ import annotations

import sys
from pathlib import Path

from durable_azure.azure_storage import TaskHub
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import eventually
from tests.functions.harness import RunningApp, body_json, running_app

APPS = Path(__file__).parent / "apps"
WAIT_SECONDS = 60


async def start(app: RunningApp, orchestrator: str, body: object = None) -> str:
    response = await app.call(app.index.http_functions[0].name, route_params={"functionName": orchestrator}, body=body)
    assert response.status_code == 202
    payload = body_json(response)
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith(
        f"http://localhost:7071/runtime/webhooks/durabletask/instances/{payload['id']}?"
    )
    return payload["id"]


async def test_function_chaining(task_hub: TaskHub) -> None:
    async with running_app(APPS / "function_chaining", task_hub) as app:
        instance_id = await start(app, "hello_orchestrator")
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == ["Hello Seattle", "Hello Tokyo", "Hello London"]


async def test_fan_out_fan_in(task_hub: TaskHub, tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"file{index}.txt").write_bytes(b"x" * (index + 1) * 10)
    async with running_app(APPS / "fan_out_fan_in", task_hub) as app:
        instance_id = await start(app, "E2_BackupSiteContent", str(tmp_path))
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == 10 + 20 + 30 + 40 + 50


async def test_human_interaction_accepts_the_right_code_after_a_wrong_one(task_hub: TaskHub) -> None:
    async with running_app(APPS / "human_interaction", task_hub) as app:
        instance_id = await start(app, "E4_SmsPhoneVerification", {"phoneNumber": "+1425555 1234"})
        await eventually(
            lambda: app.client.get_status(instance_id),
            lambda status: status.runtime_status == OrchestrationRuntimeStatus.Running,
            "the verification to wait",
        )
        await app.client.raise_event(instance_id, "SmsChallengeResponse", 9999)
        await app.client.raise_event(instance_id, "SmsChallengeResponse", 1234)
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.output is True


async def test_human_interaction_times_out_without_an_answer(task_hub: TaskHub) -> None:
    async with running_app(APPS / "human_interaction", task_hub) as app:
        instance_id = await start(app, "E4_SmsPhoneVerification", {"phoneNumber": "5550000", "timeoutSeconds": 1})
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output is False


async def test_monitor_polls_until_clear(task_hub: TaskHub) -> None:
    request = {"location": "Redmond", "phone": "5551234", "pollingIntervalSeconds": 1, "expirySeconds": 600}
    async with running_app(APPS / "monitor", task_hub) as app:
        instance_id = await start(app, "E3_Monitor", request)
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        app_module = sys.modules["function_app"]
        assert status.output == "alert sent"
        assert app_module.checks_made == ["Redmond"] * 3
        assert app_module.alerts_sent == ["5551234"]


async def test_eternal_orchestration_keeps_going_until_terminated(task_hub: TaskHub) -> None:
    async with running_app(APPS / "eternal", task_hub) as app:
        instance_id = await start(app, "Periodic_Cleanup_Loop")
        app_module = sys.modules["function_app"]
        await eventually(lambda: _async(len(app_module.cleanups)), lambda count: count >= 3, "three clean-ups")
        await app.client.terminate(instance_id, "maintenance over")
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.runtime_status == OrchestrationRuntimeStatus.Terminated
    assert app_module.cleanups[:3] == [0, 1, 2]


async def _async(value: object) -> object:
    return value


async def test_counter_entity_v1_app_signals_calls_and_reads_its_entity(task_hub: TaskHub) -> None:
    async with running_app(APPS / "counter_entity", task_hub) as app:
        missing = await app.call("ReadCounter", method="GET", route_params={"key": "visits"})
        assert missing.status_code == 404
        response = await app.call("HttpStart", route_params={"functionName": "CountTwice"})
        instance_id = body_json(response)["id"]
        status = await app.client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.runtime_status == OrchestrationRuntimeStatus.Completed
        assert status.output == 7  # both signals were applied before the call, in the order they were sent
        # The Instances row is written after the reply is sent (DTFx's commit order): read until it shows 7.
        read = await eventually(
            lambda: app.call("ReadCounter", method="GET", route_params={"key": "visits"}),
            lambda response: response.status_code == 200 and body_json(response) == {"total": 7},
            "the counter's row to show 7",
        )
        assert body_json(read) == {"total": 7}
