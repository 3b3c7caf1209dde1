"""`durable-azure start` serving HTTP triggers: routes, auth levels, the starter's check-status payload, failures
that must not stop the host, Ctrl-C, and what never appears in a response or a log line."""

from __future__ import annotations

import asyncio
import json

import pytest

from durable_azure.azure_storage import StorageAccount
from durable_azure.azure_storage.names import TaskHubNames
from durable_azure.functions.http_triggers import keys_checked
from tests.functions.host_process import (
    APP_DIR,
    WEBHOOK,
    HostProcess,
    delete_hub,
    eventually,
    host_environment,
    run_cli,
    running_host,
)


@pytest.fixture(scope="module")
def keys(host: HostProcess, connection_string: str) -> dict[str, str]:
    completed = run_cli(["keys", "--app-dir", str(APP_DIR)], host_environment(connection_string, host.hub_name))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["location"].endswith("/azure-webjobs-secrets/host-app/host.json")
    return {
        "master": document["masterKey"],
        "function": document["functionKeys"]["default"],
        "system": document["systemKeys"]["durabletask_extension"],
    }


def test_anonymous_trigger_with_query_and_route_constraint(host: HostProcess) -> None:
    reply = host.request("GET", "/api/ping", query={"name": "ann"})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {"pong": "ann"}
    assert host.request("GET", "/api/items/42").body == b"item 42"
    assert host.request("GET", "/api/items/forty-two").status == 404
    assert host.request("POST", "/api/ping").status == 404
    assert host.request("GET", "/api/nothing").status == 404


def test_function_and_admin_levels_need_keys(host: HostProcess, keys: dict[str, str]) -> None:
    assert host.request("POST", "/api/orchestrators/hello_sequence").status == 401
    assert host.request("POST", "/api/orchestrators/hello_sequence", query={"code": "nope"}).status == 401
    assert host.request("GET", "/api/admin-only", query={"code": keys["function"]}).status == 401
    assert host.request("GET", "/api/admin-only", query={"code": keys["master"]}).body == b"admin ok"
    with_header = host.request("GET", "/api/admin-only", headers={"x-functions-key": keys["master"]})
    assert with_header.status == 200


def test_starter_returns_working_check_status_urls(host: HostProcess, keys: dict[str, str]) -> None:
    reply = host.request(
        "POST", "/api/orchestrators/hello_sequence", query={"code": keys["function"]}, body=json.dumps({"a": 1})
    )
    assert reply.status == 202
    payload = reply.json()
    assert reply.headers["location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith(host.base_url)
    done = eventually(
        lambda: host.request("GET", payload["statusQueryGetUri"]), lambda r: r.status == 200, "the instance to finish"
    )
    assert done.json()["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_failures_answer_500_and_the_host_keeps_serving(host: HostProcess) -> None:
    crash = host.request("GET", "/api/crash")
    assert crash.status == 500
    assert "secret sauce" not in crash.body.decode()
    bad_output = host.request("POST", "/api/bad-output")
    assert bad_output.status == 500
    message = bad_output.json()["Message"]
    assert "starter" in message and "FunctionName" in message
    assert host.request("GET", "/api/ping").status == 200


def test_no_key_or_connection_string_in_output(host: HostProcess, keys: dict[str, str], connection_string: str) -> None:
    host.request("GET", "/api/crash")
    output = host.text_output()
    assert "Created host keys in" in output or "Host listening on" in output
    account_key = connection_string.split("AccountKey=")[1].split(";")[0]
    assert account_key not in output
    for key in (keys["master"], keys["function"]):
        assert key not in output


def test_keys_command_prints_one_key(host: HostProcess, keys: dict[str, str], connection_string: str) -> None:
    environment = host_environment(connection_string, host.hub_name)
    completed = run_cli(["keys", "--app-dir", str(APP_DIR), "--key", "master"], environment)
    assert completed.stdout.strip() == keys["master"]
    unknown = run_cli(["keys", "--app-dir", str(APP_DIR), "--key", "nobody"], environment)
    assert unknown.returncode == 1
    assert "no key named 'nobody'" in unknown.stderr
    assert keys["master"] not in unknown.stderr


def test_ctrl_c_stops_gracefully_and_releases_leases(connection_string: str) -> None:
    with running_host(connection_string) as process:
        assert process.request("GET", "/api/ping").status == 200
        assert process.stop() == 0
    assert "host.stopped" in process.text_output()
    states = asyncio.run(_lease_states(connection_string, process.hub_name))
    assert states and all(state != "leased" for state in states), states
    asyncio.run(delete_hub(connection_string, process.hub_name))


async def _lease_states(connection_string: str, hub_name: str) -> list[str]:
    async with StorageAccount.from_connection_string(connection_string) as account:
        container = TaskHubNames(hub_name).leases_container
        blobs = await account.blobs.list_blobs(container, prefix="default/")
        return ["leased" if blob.is_leased else "available" for blob in blobs]


def test_no_worker_serves_http_only(connection_string: str) -> None:
    with running_host(connection_string, extra=["--no-worker"]) as process:
        assert process.request("GET", "/api/ping").status == 200
        assert "worker.started" not in process.text_output()
        assert process.stop() == 0
    asyncio.run(delete_hub(connection_string, process.hub_name))


def test_a_loopback_host_does_not_check_function_keys_as_func_start(connection_string: str) -> None:
    """`func start` serves function- and admin-level routes without keys; the management API keeps its key."""
    with running_host(connection_string) as process:
        assert any("keys not checked" in line for line in process.output)
        assert process.request("GET", "/api/admin-only").body == b"admin ok"
        started = process.request("POST", "/api/orchestrators/hello_sequence")
        assert started.status == 202
        status_url = started.json()["statusQueryGetUri"]
        assert process.request("GET", status_url).status in (200, 202)  # its links carry the system key
        assert process.request("GET", f"{WEBHOOK}/instances/{started.json()['id']}").status == 401
    asyncio.run(delete_hub(connection_string, process.hub_name))


@pytest.mark.parametrize(
    ("host", "enable_auth", "checked"),
    [
        ("127.0.0.1", False, False),
        ("localhost", False, False),
        ("::1", False, False),
        ("127.0.0.1", True, True),
        ("0.0.0.0", False, True),
        ("10.1.2.3", False, True),
        ("myhost.example", False, True),
    ],
)
def test_keys_are_checked_unless_the_host_listens_on_loopback_only(host: str, enable_auth: bool, checked: bool) -> None:
    assert keys_checked(host, enable_auth=enable_auth) is checked
