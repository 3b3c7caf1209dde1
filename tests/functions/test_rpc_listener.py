"""The pure parts of the local RPC endpoint: its port choice, its URL, the binding fields, the SDK's body
encoding and the host.json switch. (tests/compat runs the endpoint with the official client.)"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.management_payloads import is_official_sdk_request, unwrap_sdk_json
from durable_azure.functions.rpc_listener import FALLBACK_PORTS, bind_rpc_socket, rpc_base_url
from durable_azure.functions.urls import ManagementUrls
from durable_azure.settings import DurableTaskSettings


def test_rpc_socket_takes_the_port_asked_for_when_free() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with bind_rpc_socket(port) as listener:
        assert listener.getsockname() == ("127.0.0.1", port)
        assert rpc_base_url(listener) == f"http://127.0.0.1:{port}/durabletask/"


def test_rpc_socket_falls_back_to_a_free_port_in_the_extensions_range_when_busy() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with bind_rpc_socket(port) as listener:
            host, chosen = listener.getsockname()
    assert host == "127.0.0.1"
    assert chosen != port
    assert chosen in FALLBACK_PORTS


def test_binding_fields_without_a_key_or_endpoint() -> None:
    urls = ManagementUrls(base_url="http://localhost:7071", task_hub="Hub")
    fields = urls.client_binding_fields(connection_attribute="Other")
    assert fields["rpcBaseUrl"] is None
    assert fields["requiredQueryStringParameters"] == ""
    assert fields["connectionName"] == "Other"
    assert fields["creationUrls"]["createNewInstancePostUri"] == (
        "http://localhost:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?"
    )
    assert fields["managementUrls"]["terminatePostUri"] == (
        "http://localhost:7071/runtime/webhooks/durabletask/instances/INSTANCEID/terminate"
        "?reason={text}&taskHub=Hub&connection=Storage"
    )


def test_binding_fields_with_key_and_endpoint() -> None:
    urls = ManagementUrls(
        base_url="http://127.0.0.1:7071",
        task_hub="Hub",
        system_key="k/y=",
        rpc_base_url="http://127.0.0.1:17071/durabletask/",
    )
    fields = urls.client_binding_fields()
    assert fields["rpcBaseUrl"] == "http://127.0.0.1:17071/durabletask/"
    assert fields["requiredQueryStringParameters"] == "code=k%2Fy%3D"
    assert fields["baseUrl"] == fields["httpBaseUrl"] == "http://127.0.0.1:7071/runtime/webhooks/durabletask"
    assert fields["creationUrls"]["createAndWaitOnNewInstancePostUri"].endswith(
        "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=k%2Fy%3D"
    )
    assert fields["connectionName"] is None


@pytest.mark.parametrize(
    ("posted", "meant"),
    [
        ('{"a": 1}', {"a": 1}),  # the official client's form: JSON text inside a JSON string
        ('"hello"', "hello"),
        ("null", None),
        ("42", 42),
        ("not json", "not json"),  # a plain string from another client stays as it is
        ({"a": 1}, {"a": 1}),  # plain JSON from another client
        (7, 7),
        (None, None),
    ],
)
def test_unwrap_sdk_json(posted: Any, meant: Any) -> None:
    assert unwrap_sdk_json(posted) == meant


@pytest.mark.parametrize(
    ("user_agent", "official"),
    [
        ("Python/3.11 aiohttp/3.9.5", True),  # what azure.durable_functions' aiohttp session sends
        ("Python/3.12 aiohttp/3.14.5", True),
        ("curl/8.5.0", False),
        ("python-requests/2.32.3", False),
        ("python-httpx/0.28.1", False),
        (None, False),
    ],
)
def test_only_the_official_clients_requests_count_as_sdk_encoded(user_agent: str | None, official: bool) -> None:
    headers = {"Content-Type": "application/json"} | ({"User-Agent": user_agent} if user_agent else {})
    assert is_official_sdk_request(headers) is official


@pytest.mark.parametrize(
    ("value", "enabled"), [(None, True), (True, True), (False, False), ("false", False), ("True", True)]
)
def test_local_rpc_endpoint_setting(value: Any, enabled: bool) -> None:
    document = {"extensions": {"durableTask": {"localRpcEndpointEnabled": value}}}
    assert DurableTaskSettings.from_host_json(document, {}).local_rpc_endpoint_enabled is enabled


def test_local_rpc_endpoint_setting_is_on_by_default_and_refuses_other_values() -> None:
    assert DurableTaskSettings.from_host_json({}, {}).local_rpc_endpoint_enabled is True
    with pytest.raises(ConfigurationError, match="localRpcEndpointEnabled must be true, false or null, got 1"):
        DurableTaskSettings.from_host_json({"extensions": {"durableTask": {"localRpcEndpointEnabled": 1}}}, {})
