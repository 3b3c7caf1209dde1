"""The official `azure.durable_functions.DurableOrchestrationClient` (SDK 1.7, unchanged) against a running host.

The client is built, as in a Functions app, from the binding string the host hands a function.json function
(`starter: str`, here returned by the `Binding` function), and sends every call to the binding's `rpcBaseUrl`:
the host's local RPC endpoint. Each test calls one of its methods and asserts what its user sees. The
orchestrators are this project's own (`import durable_azure as df`), in the style of the SDK's samples.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
import pytest
from azure.durable_functions import DurableOrchestrationClient, EntityId, OrchestrationRuntimeStatus
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from tests.functions.host_process import WAIT_SECONDS, WEBHOOK, HostProcess, Reply, eventually

FINISHED = {
    OrchestrationRuntimeStatus.Completed,
    OrchestrationRuntimeStatus.Failed,
    OrchestrationRuntimeStatus.Terminated,
    OrchestrationRuntimeStatus.Canceled,
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def until(
    client: DurableOrchestrationClient, instance_id: str, accept: Callable[[DurableOrchestrationStatus], bool]
) -> DurableOrchestrationStatus:
    """The first status of `instance_id` that `accept`s; fails only after a generous timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        status = await client.get_status(instance_id)
        if status and accept(status):
            return status
        if loop.time() > deadline:
            raise AssertionError(f"instance {instance_id} never reached the state; last status: {status.to_json()}")
        await asyncio.sleep(0.1)


async def finished(client: DurableOrchestrationClient, instance_id: str) -> DurableOrchestrationStatus:
    return await until(client, instance_id, lambda status: status.runtime_status in FINISHED)


def request_to(url: str) -> func.HttpRequest:
    return func.HttpRequest(method="POST", url=url, body=b"")


# -- the binding string and the listener --------------------------------------------------------------------


def test_binding_string_has_the_extension_fields(host: HostProcess, binding_fields: dict[str, Any]) -> None:
    rpc = binding_fields["rpcBaseUrl"]
    assert rpc.startswith("http://127.0.0.1:") and rpc.endswith("/durabletask/")
    base = f"{host.base_url}{WEBHOOK}"
    code = binding_fields["requiredQueryStringParameters"]
    assert code.startswith("code=") and len(code) > len("code=")
    assert binding_fields["baseUrl"] == base
    assert binding_fields["taskHubName"] == host.hub_name
    assert binding_fields["creationUrls"] == {
        "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?{code}",
        "createAndWaitOnNewInstancePostUri": (
            f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
            f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{code}"
        ),
    }
    management = binding_fields["managementUrls"]
    assert management["id"] == "INSTANCEID"
    query = f"taskHub={host.hub_name}&connection=Storage&{code}"
    assert management["statusQueryGetUri"] == f"{base}/instances/INSTANCEID?{query}"
    assert management["rewindPostUri"] == f"{base}/instances/INSTANCEID/rewind?reason={{text}}&{query}"
    assert binding_fields["connectionName"] is None
    assert "durableAzureBindingId" in binding_fields
    assert f"Local RPC endpoint (loopback, no key): {rpc}" in host.text_output()


async def test_listener_answers_on_loopback_only_and_without_a_key(
    host: HostProcess, binding_fields: dict[str, Any]
) -> None:
    rpc = binding_fields["rpcBaseUrl"]
    port = int(rpc.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /durabletask/instances/{new_id('none')} HTTP/1.0\r\n\r\n".encode())
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"404"  # not 401: no key needed
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.2", port)  # bound to 127.0.0.1 alone, not to every address
    assert host.request("GET", f"{WEBHOOK}/instances/{new_id('none')}").status == 401  # the public API needs one


# -- start_new and get_status -------------------------------------------------------------------------------


async def test_start_new_without_input_or_id(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Chain")
    assert len(instance_id) == 32 and int(instance_id, 16) >= 0
    status = await finished(client, instance_id)
    assert status.runtime_status is OrchestrationRuntimeStatus.Completed
    assert status.output == ["Hello Tokyo!", "Hello Seattle!"]
    assert status.name == "Chain" and status.instance_id == instance_id


@pytest.mark.parametrize(
    "client_input",
    [{"a": 1, "b": [True, None, "x"]}, "hello", "42", '{"looks": "like json"}', 0, [1, 2], False],
    ids=["dict", "str", "numeric-str", "json-str", "zero", "list", "false"],
)
async def test_start_new_orchestrator_gets_the_value_passed(binding: str, client_input: Any) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = new_id("echo")
    assert await client.start_new("Echo", instance_id, client_input) == instance_id
    status = await finished(client, instance_id)
    assert status.output == {"input": client_input, "type": type(client_input).__name__}
    assert (await client.get_status(instance_id, show_input=True)).input_ == client_input


async def test_start_new_of_an_unknown_orchestrator_raises_the_hosts_message(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    with pytest.raises(Exception, match="The function 'Nope' doesn't exist"):
        await client.start_new("Nope")


async def test_start_new_with_a_version_gives_the_orchestrator_that_version(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    versioned = await client.start_new("Versioned", new_id("version"), version="2.0 beta/1")
    plain = await client.start_new("Versioned", new_id("no-version"))
    assert (await finished(client, versioned)).output == {"version": "2.0 beta/1"}
    assert (await finished(client, plain)).output == {"version": None}


def test_the_public_api_takes_the_version_from_the_query(host: HostProcess, binding_fields: dict[str, Any]) -> None:
    code = binding_fields["requiredQueryStringParameters"]
    reply = host.request("POST", f"{WEBHOOK}/orchestrators/Versioned?version=3&timeout=30&pollingInterval=0.1&{code}")
    assert reply.status == 200 and reply.json() == {"version": "3"}


async def test_start_new_with_the_id_of_a_running_instance_raises(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Approval", new_id("dup"))
    with pytest.raises(Exception, match=instance_id):
        await client.start_new("Approval", instance_id)
    await client.terminate(instance_id, "cleanup")


async def test_get_status_of_an_unknown_instance_is_falsy(binding: str) -> None:
    status = await DurableOrchestrationClient(binding).get_status(new_id("missing"))
    assert not status
    assert status.runtime_status is None


async def test_get_status_with_history_and_input(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Echo", new_id("hist"), {"n": 1})
    await finished(client, instance_id)
    plain = await client.get_status(instance_id)
    # show_input=False sends no showInput parameter, and the API's default is true: the input is there, as
    # from the extension.
    assert plain.input_ == {"n": 1}
    assert not hasattr(plain, "historyEvents")
    full = await client.get_status(instance_id, show_history=True, show_history_output=True, show_input=True)
    assert full.input_ == {"n": 1}
    events = full.historyEvents  # the SDK keeps the extension's key as an attribute (its status.history is None)
    assert events[0]["EventType"] == "ExecutionStarted"
    assert events[-1]["EventType"] == "ExecutionCompleted"
    assert full.created_time is not None and full.last_updated_time >= full.created_time


async def test_get_status_all_and_by(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    prefix = new_id("list")
    before = datetime.now(UTC) - timedelta(seconds=1)
    ids = [await client.start_new("Chain", f"{prefix}-{n}") for n in range(2)]
    waiting = await client.start_new("Approval", f"{prefix}-waiting")
    for instance_id in ids:
        await finished(client, instance_id)
    every = {status.instance_id for status in await client.get_status_all()}
    assert {*ids, waiting} <= every
    completed = await client.get_status_by(
        created_time_from=before,
        created_time_to=datetime.now(UTC) + timedelta(seconds=1),
        runtime_status=[OrchestrationRuntimeStatus.Completed],
        instance_id_prefix=prefix,
    )
    assert sorted(status.instance_id for status in completed) == sorted(ids)
    by_prefix = await client.get_status_by(instance_id_prefix=prefix)
    assert {status.instance_id for status in by_prefix} == {*ids, waiting}
    await client.terminate(waiting, "cleanup")


# -- events, terminate, suspend, resume, rewind, restart ----------------------------------------------------


async def waiting_for_approval(client: DurableOrchestrationClient, instance_id: str) -> None:
    await until(client, instance_id, lambda status: status.custom_status == "waiting for approval")


@pytest.mark.parametrize("event_data", [{"ok": True}, "yes", None, 7])
async def test_raise_event_delivers_the_value_passed(binding: str, event_data: Any) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Approval", new_id("event"))
    await waiting_for_approval(client, instance_id)
    await client.raise_event(instance_id, "Approval", event_data)
    status = await finished(client, instance_id)
    assert status.output == {"approval": event_data, "type": type(event_data).__name__}
    assert status.custom_status == "approved"


def post_json_text(url: str, body: str, user_agent: str | None = None) -> Reply:
    """POST `body` as application/json with http.client: a client other than the official SDK's aiohttp."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=WAIT_SECONDS)
    try:
        headers = {"Content-Type": "application/json"}
        if user_agent is not None:
            headers["User-Agent"] = user_agent
        connection.request("POST", f"{parts.path}?{parts.query}", body=body.encode(), headers=headers)
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("posted", ['"42"', '"{\\"a\\": 1}"', '"null"'], ids=["numeric", "json-text", "null-text"])
async def test_other_clients_json_strings_stay_strings_on_both_endpoints(
    host: HostProcess, binding: str, binding_fields: dict[str, Any], posted: str
) -> None:
    """Only the official client double-encodes; a JSON string from anyone else is that string."""
    client = DurableOrchestrationClient(binding)
    meant = json.loads(posted)
    rpc, public = binding_fields["rpcBaseUrl"], f"{host.base_url}{WEBHOOK}/"
    code = binding_fields["requiredQueryStringParameters"]
    for base, query in [(rpc, ""), (public, code)]:
        started = new_id("plain-start")
        assert post_json_text(f"{base}orchestrators/Echo/{started}?{query}", posted).status == 202
        assert (await finished(client, started)).output == {"input": meant, "type": "str"}
        waiting = await client.start_new("Approval", new_id("plain-event"))
        await waiting_for_approval(client, waiting)
        assert post_json_text(f"{base}instances/{waiting}/raiseEvent/Approval?{query}", posted).status == 202
        assert (await finished(client, waiting)).output == {"approval": meant, "type": "str"}
    # An aiohttp-like client on the public API is still read as plain JSON: only the listener unwraps.
    started = new_id("aiohttp-public")
    agent = "Python/3.11 aiohttp/3.9.5"
    assert post_json_text(f"{public}orchestrators/Echo/{started}?{code}", posted, agent).status == 202
    assert (await finished(client, started)).output == {"input": meant, "type": "str"}


async def test_raise_event_errors(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    with pytest.raises(Exception, match="No instance with ID"):
        await client.raise_event(new_id("missing"), "Approval", 1)
    with pytest.raises(ValueError, match="event_name"):
        await client.raise_event(new_id("missing"), "", 1)
    done = await client.start_new("Chain", new_id("done"))
    await finished(client, done)
    with pytest.raises(Exception, match="is gone"):
        await client.raise_event(done, "Approval", 1)


async def test_terminate(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Approval", new_id("term"))
    await waiting_for_approval(client, instance_id)
    await client.terminate(instance_id, "no longer needed")
    status = await finished(client, instance_id)
    assert status.runtime_status is OrchestrationRuntimeStatus.Terminated
    assert status.output == "no longer needed"
    await client.terminate(instance_id, "again")  # 410 for a finished instance: the SDK accepts it
    with pytest.raises(Exception, match="No instance with ID"):
        await client.terminate(new_id("missing"), "x")


async def test_suspend_and_resume(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Approval", new_id("susp"))
    await waiting_for_approval(client, instance_id)
    await client.suspend(instance_id, "pause")
    await until(client, instance_id, lambda status: status.runtime_status is OrchestrationRuntimeStatus.Suspended)
    await client.resume(instance_id, "go on")
    await until(client, instance_id, lambda status: status.runtime_status is OrchestrationRuntimeStatus.Running)
    await client.raise_event(instance_id, "Approval", "after resume")
    assert (await finished(client, instance_id)).output["approval"] == "after resume"
    await client.suspend(instance_id, "too late")  # 410: accepted by the SDK, nothing happens
    await client.resume(instance_id, "too late")
    assert (await client.get_status(instance_id)).runtime_status is OrchestrationRuntimeStatus.Completed
    for method in (client.suspend, client.resume):
        with pytest.raises(Exception, match="No instance with ID"):
            await method(new_id("missing"), "x")


async def test_rewind_a_failed_instance(binding: str, tmp_path: Path) -> None:
    client = DurableOrchestrationClient(binding)
    marker = tmp_path / "fixed"
    instance_id = await client.start_new("Rewindable", new_id("rewind"), str(marker))
    failed = await finished(client, instance_id)
    assert failed.runtime_status is OrchestrationRuntimeStatus.Failed
    marker.touch()
    await client.rewind(instance_id, "fixed the file")
    status = await until(
        client, instance_id, lambda status: status.runtime_status is OrchestrationRuntimeStatus.Completed
    )
    assert status.output == "recovered"
    with pytest.raises(Exception, match="only supported on failed orchestration instances"):
        await client.rewind(instance_id, "not failed")
    with pytest.raises(Exception, match="No instance with ID"):
        await client.rewind(new_id("missing"), "x")


async def test_restart(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Echo", new_id("restart"), {"again": True})
    await finished(client, instance_id)
    payload: Any = await client.restart(instance_id)
    # As from the extension, the body of the 202 is the new instance's check-status payload, and the SDK
    # returns that body.
    new_instance = payload["id"]
    assert new_instance != instance_id
    assert (await finished(client, new_instance)).output == {"input": {"again": True}, "type": "dict"}
    same: Any = await client.restart(instance_id, restart_with_new_instance_id=False)
    assert same["id"] == instance_id
    with pytest.raises(Exception, match="No instance with ID"):
        await client.restart(new_id("missing"))


# -- purge --------------------------------------------------------------------------------------------------


async def test_purge_instance_history(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Chain", new_id("purge"))
    await finished(client, instance_id)
    assert (await client.purge_instance_history(instance_id)).instances_deleted == 1
    assert not await client.get_status(instance_id)
    assert (await client.purge_instance_history(instance_id)).instances_deleted == 0


async def test_purge_instance_history_by(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    with pytest.raises(ValueError, match="created_time_from"):
        await client.purge_instance_history_by()
    since = datetime.now(UTC)
    ids = [await client.start_new("Chain", new_id("purgeby")) for _ in range(2)]
    for instance_id in ids:
        await finished(client, instance_id)
    until_now = datetime.now(UTC) + timedelta(seconds=1)
    result = await client.purge_instance_history_by(since, until_now, [OrchestrationRuntimeStatus.Completed])
    assert result.instances_deleted == 2
    assert not any([await client.get_status(instance_id) for instance_id in ids])
    nothing = await client.purge_instance_history_by(since, until_now, [OrchestrationRuntimeStatus.Completed])
    assert nothing.instances_deleted == 0


# -- HTTP helpers -------------------------------------------------------------------------------------------


async def test_create_check_status_response_links_work(host: HostProcess, binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    instance_id = await client.start_new("Chain", new_id("links"))
    response = client.create_check_status_response(request_to(f"{host.base_url}/api/anything"), instance_id)
    assert response.status_code == 202
    payload = json.loads(response.get_body())
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert payload["id"] == instance_id
    assert set(payload) == {
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "rewindPostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    }
    await finished(client, instance_id)
    status = host.request("GET", payload["statusQueryGetUri"])  # carries the system key: the public API opens
    assert status.status == 200 and status.json()["output"] == ["Hello Tokyo!", "Hello Seattle!"]


async def test_management_payload_and_response_links(host: HostProcess, binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    payload = client.create_http_management_payload("some-id")
    assert payload["id"] == "some-id"
    assert payload["statusQueryGetUri"].startswith(f"{host.base_url}{WEBHOOK}/instances/some-id?taskHub=")
    assert client.get_client_response_links(None, "some-id") == payload
    moved = client.get_client_response_links(request_to("https://example.org:8443/api/x"), "some-id")
    assert moved["sendEventPostUri"].startswith("https://example.org:8443/runtime/webhooks/durabletask/")


async def test_wait_for_completion_or_create_check_status_response(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    request = request_to("http://example.org/api/start")
    done = await client.start_new("Chain", new_id("wait"))
    response = await client.wait_for_completion_or_create_check_status_response(request, done, 30_000, 100)
    assert response.status_code == 200
    assert json.loads(response.get_body()) == ["Hello Tokyo!", "Hello Seattle!"]
    waiting = await client.start_new("Approval", new_id("wait"))
    pending = await client.wait_for_completion_or_create_check_status_response(request, waiting, 300, 100)
    assert pending.status_code == 202
    assert pending.headers["Location"].startswith(
        f"http://example.org/runtime/webhooks/durabletask/instances/{waiting}"
    )
    await client.terminate(waiting, "stop")
    terminated = await client.wait_for_completion_or_create_check_status_response(request, waiting, 30_000, 100)
    assert terminated.status_code == 200
    assert json.loads(terminated.get_body())["runtimeStatus"] == "Terminated"


# -- entities: signal_entity and read_entity_state ----------------------------------------------------------


async def entity_state(client: DurableOrchestrationClient, entity: EntityId, accept: Callable[[Any], bool]) -> Any:
    """The entity's state once it exists and `accept`s it; fails only after a generous timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        response = await client.read_entity_state(entity)
        if response.entity_exists and accept(response.entity_state):
            return response.entity_state
        if loop.time() > deadline:
            raise AssertionError(f"entity {entity} never reached the state; last: {response.entity_state!r}")
        await asyncio.sleep(0.1)


async def test_signal_entity_then_read_entity_state(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    entity = EntityId("Recorder", new_id("count"))
    missing = await client.read_entity_state(entity)
    assert missing.entity_exists is False and missing.entity_state is None
    await client.signal_entity(entity, "add", 5)
    await client.signal_entity(entity, "add", 2)
    assert await entity_state(client, entity, lambda state: state == 7) == 7


@pytest.mark.parametrize(
    "operation_input",
    [{"a": 1, "b": [True, None, "x"]}, "hello", "42", '{"looks": "like json"}', [1, 2], 3.5],
    ids=["dict", "str", "numeric-str", "json-str", "list", "float"],
)
async def test_signal_entity_delivers_the_value_passed(binding: str, operation_input: Any) -> None:
    """The SDK posts json.dumps(value) as a JSON string; the entity receives the value itself."""
    client = DurableOrchestrationClient(binding)
    entity = EntityId("Recorder", new_id("input"))
    await client.signal_entity(entity, "note", operation_input)
    state = await entity_state(client, entity, lambda state: True)
    assert state == {"operation": "note", "input": operation_input, "type": type(operation_input).__name__}


@pytest.mark.parametrize("operation_input", [None, 0, False, ""], ids=["none", "zero", "false", "empty-str"])
async def test_signal_entity_with_a_falsy_value_arrives_without_input(binding: str, operation_input: Any) -> None:
    """The SDK sends no body for any falsy input (`json.dumps(x) if x else None`): the entity gets None."""
    client = DurableOrchestrationClient(binding)
    entity = EntityId("Recorder", new_id("falsy"))
    await client.signal_entity(entity, "note", operation_input)
    state = await entity_state(client, entity, lambda state: True)
    assert state == {"operation": "note", "input": None, "type": "NoneType"}


async def test_signal_entity_to_an_unknown_entity_function_raises(binding: str) -> None:
    client = DurableOrchestrationClient(binding)
    with pytest.raises(Exception, match="unexpected status code 400"):
        await client.signal_entity(EntityId("NoSuchEntity", "k"), "add", 1)


# -- an HTTP starter in the samples' style, with the official client outside ---------------------------------


async def test_instances_started_by_the_apps_starter_are_seen_by_the_official_client(
    host: HostProcess, binding: str
) -> None:
    reply = host.request("POST", "/api/orchestrators/Echo", body=json.dumps({"city": "Tokyo"}))
    assert reply.status == 202, reply.body
    instance_id = reply.json()["id"]
    client = DurableOrchestrationClient(binding)
    status = await finished(client, instance_id)
    assert status.output == {"input": {"city": "Tokyo"}, "type": "dict"}
    assert status.input_ == {"city": "Tokyo"}


async def test_an_http_starter_that_keeps_the_official_client_runs_in_the_host(host: HostProcess) -> None:
    for city in ("Tokyo", "Seattle"):  # twice: the SDK's shared HTTP session lives on in the host
        reply = host.request("POST", "/api/official/Echo", body=json.dumps({"city": city}))
        assert reply.status == 202, reply.body
        payload = reply.json()
        assert reply.headers["location"] == payload["statusQueryGetUri"]
        assert payload["statusQueryGetUri"].startswith(f"{host.base_url}{WEBHOOK}/instances/{payload['id']}?")
        status_url = payload["statusQueryGetUri"]
        status = eventually(
            lambda url=status_url: host.request("GET", url),
            lambda reply: reply.status != 202,
            f"instance {payload['id']} to finish",
        )
        assert status.json()["output"] == {"input": {"city": city}, "type": "dict"}
