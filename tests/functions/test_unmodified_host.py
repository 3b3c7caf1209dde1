"""Unmodified apps (`import azure.durable_functions as df`) run end to end on `durable-azure start` and `worker`.

Each app (tests/functions/sdk_apps) runs in a host subprocess on the session's Azurite. Its HTTP starter uses
the official client (built from the binding string by the SDK's own middleware, talking to the host's local
RPC endpoint); its orchestrators run through the official SDK's protocol. Results are read through the
management HTTP API and through the official client's `get_status` (the app's `read_status` route).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functions.host_process import (
    HostProcess,
    delete_hub,
    eventually,
    running_host,
    running_worker,
)

SDK_APPS = Path(__file__).resolve().parent / "sdk_apps"
FINISHED = {"Completed", "Failed", "Terminated"}


@pytest.fixture(scope="module")
def v2_host(connection_string: str) -> Iterator[HostProcess]:
    with running_host(connection_string, app_dir=SDK_APPS / "v2_app") as process:
        yield process
    asyncio.run(delete_hub(connection_string, process.hub_name))


def start(host: HostProcess, orchestrator: str, body: Any = None) -> dict[str, Any]:
    """POST to the app's starter; asserts the 202 check-status reply and returns its payload."""
    data = None if body is None else json.dumps(body)
    reply = host.request(
        "POST", f"/api/orchestrators/{orchestrator}", body=data, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 202, reply.body
    payload = reply.json()
    assert reply.headers["location"] == payload["statusQueryGetUri"]
    for key in ("statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri"):
        assert payload[key].startswith(f"{host.base_url}/runtime/webhooks/durabletask/instances/{payload['id']}")
    return payload


def finished(host: HostProcess, payload: dict[str, Any]) -> dict[str, Any]:
    """The instance's status from the management API, once it has finished."""
    return eventually(
        lambda: host.request("GET", payload["statusQueryGetUri"]).json(),
        lambda status: status.get("runtimeStatus") in FINISHED,
        f"instance {payload['id']} to finish",
    )


def official_status(host: HostProcess, instance_id: str) -> dict[str, Any]:
    """What the official client's `get_status` reports, through the app's own route."""
    reply = host.request("GET", f"/api/status/{instance_id}")
    assert reply.status == 200, reply.body
    return reply.json()


def test_chain_completes(v2_host: HostProcess) -> None:
    payload = start(v2_host, "travel_chain")
    status = finished(v2_host, payload)
    expected = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert (status["runtimeStatus"], status["name"], status["output"]) == ("Completed", "travel_chain", expected)
    assert official_status(v2_host, payload["id"]) == {
        "name": "travel_chain",
        "runtimeStatus": "Completed",
        "input": None,
        "output": expected,
    }


def test_fan_out_fan_in_completes_and_the_input_is_stored_as_the_official_client_sent_it(
    v2_host: HostProcess,
) -> None:
    words = ["durable", "functions", "unchanged"]
    payload = start(v2_host, "word_lengths", words)
    status = finished(v2_host, payload)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {"total": 25, "lengths": [7, 9, 9]}
    # As the extension stores it: the client's JSON text, encoded once more (reference §7.3).
    assert status["input"] == json.dumps(words)
    seen = official_status(v2_host, payload["id"])
    assert (seen["runtimeStatus"], seen["input"], seen["output"]) == ("Completed", json.dumps(words), status["output"])


def test_event_data_from_the_official_client_reaches_the_orchestrator_as_the_extension_delivers_it(
    v2_host: HostProcess,
) -> None:
    payload = start(v2_host, "wait_for_approval", {"order": 7})
    eventually(
        lambda: v2_host.request("GET", payload["statusQueryGetUri"]).json().get("runtimeStatus"),
        lambda runtime_status: runtime_status == "Running",
        "the orchestrator to wait",
    )
    reply = v2_host.request(
        "POST",
        f"/api/events/{payload['id']}/Approval",
        body=json.dumps({"ok": True}),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 202, reply.body
    status = finished(v2_host, payload)
    assert status["runtimeStatus"] == "Completed", status
    # The SDK decodes once what the extension stores as received: the event data arrives as its JSON text
    # (a str, not a dict; PY#295), the input as the value.
    assert status["output"] == {"decision": json.dumps({"ok": True}), "input": {"order": 7}}


def test_the_management_api_starts_an_sdk_orchestrator_as_the_extension_would(v2_host: HostProcess) -> None:
    def start_with(body: str) -> dict[str, Any]:
        reply = v2_host.request(
            "POST",
            "/runtime/webhooks/durabletask/orchestrators/word_lengths",
            body=body,
            headers={"Content-Type": "application/json", "x-functions-key": key},
        )
        assert reply.status == 202, reply.body
        return finished(v2_host, reply.json())

    key = _system_key(v2_host)
    # JSON text in a JSON string, as the official client posts it: the SDK decodes it to the list.
    status = start_with(json.dumps(json.dumps(["ab"])))
    assert (status["runtimeStatus"], status["output"]) == ("Completed", {"total": 2, "lengths": [2]})
    # A bare array is stored as it is and the SDK's get_input() cannot read it (reference §3.4): it fails
    # on the original too, so it fails here, with the SDK's own error.
    status = start_with(json.dumps(["ab"]))
    assert status["runtimeStatus"] == "Failed"
    assert "the JSON object must be str, bytes or bytearray, not list" in status["output"]


def test_the_official_client_and_the_management_api_control_an_unmodified_apps_instances(
    v2_host: HostProcess,
) -> None:
    def runtime_status(payload: dict[str, Any]) -> Any:
        reply = v2_host.request("GET", payload["statusQueryGetUri"])
        return reply.json().get("runtimeStatus") if reply.status in (200, 202) else reply.status

    def official(instance_id: str, action: str) -> Any:
        reply = v2_host.request("POST", f"/api/manage/{instance_id}/{action}")
        assert reply.status in (200, 202), reply.body
        return reply.json() if reply.status == 200 else None

    payload = start(v2_host, "wait_for_approval", {"order": 8})
    eventually(lambda: runtime_status(payload), lambda value: value == "Running", "the orchestrator to wait")
    official(payload["id"], "suspend")
    eventually(lambda: runtime_status(payload), lambda value: value == "Suspended", "the suspension")
    official(payload["id"], "resume")
    eventually(lambda: runtime_status(payload), lambda value: value == "Running", "the resumption")
    official(payload["id"], "terminate")
    assert finished(v2_host, payload)["runtimeStatus"] == "Terminated"
    assert official(payload["id"], "purge") == {"deleted": 1}
    assert runtime_status(payload) == 404
    # The extension's own links, from the check-status payload: terminate, then purge.
    other = start(v2_host, "wait_for_approval", {"order": 9})
    eventually(lambda: runtime_status(other), lambda value: value == "Running", "the orchestrator to wait")
    terminate_uri = other["terminatePostUri"].replace("{text}", "done")
    assert v2_host.request("POST", terminate_uri).status == 202
    assert finished(v2_host, other)["runtimeStatus"] == "Terminated"
    assert v2_host.request("DELETE", other["purgeHistoryDeleteUri"]).status == 200
    assert runtime_status(other) == 404


def test_the_official_client_signals_and_reads_an_unmodified_entity(v2_host: HostProcess) -> None:
    for amount in (5, 2):
        reply = v2_host.request(
            "POST", "/api/tally/shared", body=json.dumps({"add": amount}), headers={"Content-Type": "application/json"}
        )
        assert reply.status == 202, reply.body
    # The SDK's get_input decodes the stored operation input twice, as it is stored by the extension: a number.
    state = eventually(
        lambda: v2_host.request("GET", "/api/tally/shared").json(),
        lambda body: body.get("state") == 7,
        "the entity to apply both signals",
    )
    assert state == {"exists": True, "state": 7}


def _system_key(host: HostProcess) -> str:
    """The durabletask_extension key, from a check-status link the host handed out."""
    payload = start(host, "travel_chain")
    return payload["statusQueryGetUri"].split("code=")[1]


def test_v1_app_runs_unchanged(connection_string: str) -> None:
    with running_host(connection_string, app_dir=SDK_APPS / "v1_app") as host:
        try:
            payload = start(host, "Chain", {"cities": ["Oslo", "Lima"]})
            status = finished(host, payload)
            assert (status["runtimeStatus"], status["output"]) == ("Completed", ["Hi Oslo", "Hi Lima"]), status
        finally:
            host.stop()
    asyncio.run(delete_hub(connection_string, host.hub_name))


def test_a_separate_worker_runs_the_sdk_orchestrators(connection_string: str) -> None:
    # `durable-azure worker` runs the orchestrators and activities; the host only serves HTTP.
    with (
        running_host(connection_string, app_dir=SDK_APPS / "v2_app", extra=["--no-worker"]) as host,
        running_worker(connection_string, host.hub_name, SDK_APPS / "v2_app"),
    ):
        payload = start(host, "travel_chain")
        status = finished(host, payload)
        assert status["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"], status
    asyncio.run(delete_hub(connection_string, host.hub_name))
