"""The HTTP management API of a running host: paths, status codes, headers and bodies of the extension.

One host subprocess serves the whole module (tests/functions/host_app on the session's Azurite); every test
uses instance ids of its own, so tests do not see each other's instances except through listing filters.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.functions.host_process import (
    APP_DIR,
    WEBHOOK,
    HostProcess,
    Reply,
    eventually,
    host_environment,
    run_cli,
)

INSTANCES = f"{WEBHOOK}/instances"


@pytest.fixture(scope="module")
def keys(host: HostProcess, connection_string: str) -> dict[str, str]:
    completed = run_cli(["keys", "--app-dir", str(APP_DIR)], host_environment(connection_string, host.hub_name))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    return {
        "system": document["systemKeys"]["durabletask_extension"],
        "master": document["masterKey"],
        "function": document["functionKeys"]["default"],
    }


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Api:
    """The management API with the system key, as a user with the check-status URLs would call it."""

    def __init__(self, host: HostProcess, key: str) -> None:
        self.host, self.key = host, key

    def call(self, method: str, path: str, *, query: dict[str, str] | None = None, **options) -> Reply:
        return self.host.request(method, path, query={"code": self.key, **(query or {})}, **options)

    def start(self, name: str, instance_id: str, payload: object = None) -> Reply:
        body = None if payload is None else json.dumps(payload)
        headers = {"Content-Type": "application/json"}
        return self.call("POST", f"{WEBHOOK}/orchestrators/{name}/{instance_id}", body=body, headers=headers)

    def status(self, instance_id: str, **query: str) -> Reply:
        return self.call("GET", f"{INSTANCES}/{instance_id}", query=query)

    def wait_for(self, instance_id: str, runtime_status: str) -> Reply:
        return eventually(
            lambda: self.status(instance_id),
            lambda reply: reply.status != 404 and reply.json()["runtimeStatus"] == runtime_status,
            f"{instance_id} to be {runtime_status}",
        )

    def raise_event(self, instance_id: str, name: str, data: object) -> Reply:
        headers = {"Content-Type": "application/json"}
        return self.call("POST", f"{INSTANCES}/{instance_id}/raiseEvent/{name}", body=json.dumps(data), headers=headers)


@pytest.fixture
def api(host: HostProcess, keys: dict[str, str]) -> Api:
    return Api(host, keys["system"])


def test_start_returns_check_status_payload_and_headers(api: Api) -> None:
    instance_id = new_id()
    reply = api.start("hello_sequence", instance_id, {"n": 1})
    assert reply.status == 202
    payload = reply.json()
    assert payload["id"] == instance_id
    assert reply.headers["location"] == payload["statusQueryGetUri"]
    assert reply.headers["retry-after"] == "10"
    for name in ("sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri"):
        assert f"/instances/{instance_id}" in payload[name]
    assert payload["statusQueryGetUri"].startswith(f"{api.host.base_url}{INSTANCES}/{instance_id}?taskHub=")
    done = eventually(lambda: api.call("GET", payload["statusQueryGetUri"]), lambda r: r.status == 200, "completion")
    body = done.json()
    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert body["input"] == {"n": 1}
    assert body["createdTime"].endswith("Z") and "." not in body["createdTime"]


def test_start_with_a_generated_id_and_wait(api: Api) -> None:
    reply = api.call(
        "POST", f"{WEBHOOK}/orchestrators/hello_sequence", query={"timeout": "30", "pollingInterval": "0.2"}
    )
    assert reply.status == 200
    assert reply.json() == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_status_while_running_is_202_with_location(api: Api) -> None:
    instance_id = new_id()
    assert api.start("wait_for_approval", instance_id).status == 202
    reply = api.wait_for(instance_id, "Running")
    assert reply.status == 202
    assert reply.headers["retry-after"] == "5"
    assert f"/instances/{instance_id}" in reply.headers["location"]
    assert api.raise_event(instance_id, "Approval", {"by": "ann"}).status == 202
    done = api.wait_for(instance_id, "Completed")
    assert done.status == 200
    assert done.json()["output"] == {"approved": {"by": "ann"}}


def test_a_custom_object_input_is_shown_in_its_envelope(api: Api) -> None:
    """The host decodes the input to the app's own class (function_app.Ticket); the API shows it as stored."""
    instance_id = new_id()
    envelope = {"__class__": "Ticket", "__module__": "function_app", "__data__": "7"}
    assert api.start("wait_for_approval", instance_id, envelope).status == 202
    reply = api.wait_for(instance_id, "Running")
    assert reply.json()["input"] == envelope
    assert api.raise_event(instance_id, "Approval", True).status == 202
    assert api.wait_for(instance_id, "Completed").status == 200


def test_finished_instance_refuses_events_and_terminate_with_410(api: Api) -> None:
    instance_id = new_id()
    api.start("hello_sequence", instance_id)
    api.wait_for(instance_id, "Completed")
    event = api.raise_event(instance_id, "Approval", True)
    assert event.status == 410
    assert instance_id in event.json()["Message"]
    assert api.call("POST", f"{INSTANCES}/{instance_id}/terminate", query={"reason": "late"}).status == 410


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/terminate"),
        ("POST", "/suspend"),
        ("POST", "/resume"),
        ("POST", "/rewind"),
        ("POST", "/restart"),
        ("POST", "/raiseEvent/Approval"),
    ],
)
def test_unknown_instance_is_404(api: Api, method: str, suffix: str) -> None:
    headers = {"Content-Type": "application/json"}
    reply = api.call(
        method, f"{INSTANCES}/no-such-instance{suffix}", body="1" if "raise" in suffix else None, headers=headers
    )
    assert reply.status == 404
    assert "no-such-instance" in reply.json()["Message"]


def test_terminate_suspend_resume(api: Api) -> None:
    instance_id = new_id()
    api.start("wait_for_approval", instance_id)
    api.wait_for(instance_id, "Running")
    assert api.call("POST", f"{INSTANCES}/{instance_id}/suspend", query={"reason": "pause"}).status == 202
    api.wait_for(instance_id, "Suspended")
    assert api.call("POST", f"{INSTANCES}/{instance_id}/resume", query={"reason": "go"}).status == 202
    api.wait_for(instance_id, "Running")
    assert api.call("POST", f"{INSTANCES}/{instance_id}/terminate", query={"reason": "enough"}).status == 202
    terminated = api.wait_for(instance_id, "Terminated")
    assert terminated.status == 200
    assert terminated.json()["output"] == "enough"


def test_failed_status_rewind_and_history(api: Api) -> None:
    instance_id = new_id()
    api.start("fail_until_rewound", instance_id)
    failed = api.wait_for(instance_id, "Failed")
    assert failed.status == 200
    assert api.status(instance_id, returnInternalServerErrorOnFailure="true").status == 500
    assert api.call("POST", f"{INSTANCES}/{instance_id}/rewind", query={"reason": "retry"}).status == 202
    done = api.wait_for(instance_id, "Completed")
    assert done.json()["output"] == "attempt 2"
    history = api.status(instance_id, showHistory="true", showHistoryOutput="true").json()["historyEvents"]
    assert history[0]["EventType"] == "ExecutionStarted"
    assert history[-1]["EventType"] == "ExecutionCompleted"
    assert history[-1]["Result"] == "attempt 2"
    assert "historyEvents" not in api.status(instance_id).json()


def test_restart_gives_check_status_of_new_instance(api: Api) -> None:
    instance_id = new_id()
    api.start("hello_sequence", instance_id, {"again": True})
    api.wait_for(instance_id, "Completed")
    reply = api.call("POST", f"{INSTANCES}/{instance_id}/restart")
    assert reply.status == 202
    new_instance = reply.json()["id"]
    assert new_instance != instance_id
    assert api.wait_for(new_instance, "Completed").json()["input"] == {"again": True}
    same = api.call("POST", f"{INSTANCES}/{instance_id}/restart", query={"restartWithNewInstanceId": "false"})
    assert same.status == 202
    assert same.json()["id"] == instance_id


def test_list_filters_and_continuation_header(api: Api) -> None:
    prefix = new_id("list")
    for number in range(3):
        api.start("hello_sequence", f"{prefix}-{number}")
    for number in range(3):
        api.wait_for(f"{prefix}-{number}", "Completed")
    seen: list[str] = []
    token = None
    while True:
        headers = {"x-ms-continuation-token": token} if token else {}
        reply = api.call("GET", INSTANCES, query={"instanceIdPrefix": prefix, "top": "2"}, headers=headers)
        assert reply.status == 200
        seen += [status["instanceId"] for status in reply.json()]
        token = reply.headers["x-ms-continuation-token"]
        if token == "null":
            break
    assert sorted(seen) == [f"{prefix}-{number}" for number in range(3)]
    created_from = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    running = api.call(
        "GET",
        INSTANCES,
        query={"instanceIdPrefix": prefix, "runtimeStatus": "Running,Pending", "createdTimeFrom": created_from},
    )
    assert running.json() == []


def test_purge_one_and_by_filter(api: Api) -> None:
    instance_id = new_id("purge")
    api.start("hello_sequence", instance_id)
    api.wait_for(instance_id, "Completed")
    reply = api.call("DELETE", f"{INSTANCES}/{instance_id}")
    assert reply.status == 200
    assert reply.json() == {"instancesDeleted": 1}
    assert api.status(instance_id).status == 404
    assert api.call("DELETE", f"{INSTANCES}/{instance_id}").status == 404
    assert api.call("DELETE", INSTANCES).status == 400
    other = new_id("purge")
    api.start("hello_sequence", other)
    api.wait_for(other, "Completed")
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    purged = api.call("DELETE", INSTANCES, query={"createdTimeFrom": since, "runtimeStatus": "Completed"})
    assert purged.status == 200
    assert purged.json()["instancesDeleted"] >= 1
    assert api.status(other).status == 404


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "fragment"),
    [
        ("POST", "/orchestrators/no_such_orchestrator", {}, None, "doesn't exist"),
        ("POST", "/orchestrators/hello_sequence", {}, "{not json", "Invalid JSON"),
        ("POST", "/orchestrators/hello_sequence/@entity", {}, None, "@"),
        ("GET", "/instances", {"runtimeStatus": "Bogus"}, None, "Bogus"),
        ("GET", "/instances", {"top": "many"}, None, "top"),
        ("GET", "/instances", {"createdTimeFrom": "yesterday"}, None, "createdTimeFrom"),
        ("GET", "/instances/x", {"showHistory": "maybe"}, None, "showHistory"),
    ],
)
def test_bad_requests_are_400_with_a_message(
    api: Api, method: str, path: str, query: dict[str, str], body: str | None, fragment: str
) -> None:
    reply = api.call(method, WEBHOOK + path, query=query, body=body, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert fragment in reply.json()["Message"]


def test_raise_event_needs_json_content_type(api: Api) -> None:
    instance_id = new_id()
    api.start("wait_for_approval", instance_id)
    path = f"{INSTANCES}/{instance_id}/raiseEvent/Approval"
    plain = api.call("POST", path, body="yes", headers={"Content-Type": "text/plain"})
    assert plain.status == 400
    assert "application/json" in plain.json()["Message"]
    broken = api.call("POST", path, body="{", headers={"Content-Type": "application/json"})
    assert broken.status == 400
    assert api.raise_event(instance_id, "Approval", "yes").status == 202
    assert api.wait_for(instance_id, "Completed").json()["output"] == {"approved": "yes"}


def test_starting_a_running_id_again_is_409(api: Api) -> None:
    instance_id = new_id()
    api.start("wait_for_approval", instance_id)
    reply = api.start("wait_for_approval", instance_id)
    assert reply.status == 409
    assert instance_id in reply.json()["Message"]
    api.call("POST", f"{INSTANCES}/{instance_id}/terminate", query={"reason": "cleanup"})


def test_keys_guard_the_api(host: HostProcess, keys: dict[str, str]) -> None:
    path = f"{INSTANCES}/anything"
    assert host.request("GET", path).status == 401
    wrong = host.request("GET", path, query={"code": keys["system"] + "x"})
    assert wrong.status == 401
    assert keys["system"] not in wrong.body.decode()
    assert host.request("GET", path, query={"code": keys["function"]}).status == 401
    assert host.request("GET", path, headers={"x-functions-key": keys["system"]}).status == 404
    assert host.request("GET", path, query={"code": keys["master"]}).status == 404


def test_unknown_endpoint_is_404(api: Api) -> None:
    assert api.call("GET", f"{WEBHOOK}/nothing-here").status == 404
    assert api.call("PUT", f"{INSTANCES}/x").status == 404
    assert api.call("POST", f"{INSTANCES}/x/explode").status == 404
