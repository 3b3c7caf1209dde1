"""context.call_http end to end: a worker on Azurite sends durable HTTP requests to a loopback server.

The server is an aiohttp application started by each test; it echoes what it received, answers the
asynchronous 202 + Location pattern, and counts requests, so the tests see what an API called by an
orchestration sees. The managed-identity test points azure-identity at the loopback App Service identity
endpoint of tests/identity.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

import durable_azure as df
from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import TaskFailedError
from durable_azure.history import TaskFailed, TaskScheduled, TimerCreated, TimerFired
from durable_azure.orchestration.http import HTTP_ACTIVITY_NAME
from durable_azure.worker import Registry, Worker, http_activity
from tests.identity.conftest import OTHER_IDENTITY_VARIABLES
from tests.identity.token_endpoint import TokenEndpoint
from tests.worker.conftest import TEST_SETTINGS

SECRET = "s3cr3t-SAS-signature"
ARM = "https://management.core.windows.net/"


@dataclass
class Api:
    """The loopback API: its base URL and what it was asked."""

    base: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)


API = web.AppKey("api", Api)


async def _echo(request: web.Request) -> web.Response:
    api: Api = request.app[API]
    body = await request.text()
    seen = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string,
        "body": body,
        "content_type": request.headers.get("Content-Type"),
        "custom": request.headers.get("X-Custom"),
        "authorization": request.headers.get("Authorization"),
        "functions_key": request.headers.get("x-functions-key"),
    }
    api.requests.append(seen)
    # The token stays here (the test reads it from `api.requests`): echoing it would put it in history.
    shown = {**seen, "authorization": seen["authorization"] is not None}
    return web.json_response(shown, headers={"X-Served-By": "loopback"})


async def _start_job(request: web.Request) -> web.Response:
    api: Api = request.app[API]
    await _echo(request)
    headers = {"Location": f"{api.base}/jobs/1?sig={SECRET}"}
    if request.query.get("retry_after"):
        headers["Retry-After"] = request.query["retry_after"]
    return web.Response(status=202, headers=headers)


async def _job_status(request: web.Request) -> web.Response:
    api: Api = request.app[API]
    await _echo(request)
    api.polls += 1
    if api.polls < 3:
        return web.Response(status=202, headers={"Location": f"{api.base}/jobs/1?sig={SECRET}"})
    return web.Response(status=200, text="job finished")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="too late")


@pytest_asyncio.fixture
async def api() -> AsyncIterator[Api]:
    state = Api()
    app = web.Application()
    app[API] = state
    app.router.add_route("*", "/echo", _echo)
    app.router.add_post("/jobs", _start_job)
    app.router.add_get("/jobs/1", _job_status)
    app.router.add_get("/slow", _slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


def json_call(context):
    url, payload = context.get_input()
    response = yield context.call_http(
        "POST", url, payload, {"Content-Type": "application/json", "X-Custom": "yes", "x-functions-key": "key"}
    )
    return {"status": response.status_code, "headers": response.headers, "echo": json.loads(response.content)}


def text_call(context):
    response = yield context.call_http("PUT", context.get_input(), "just text", is_raw_str=True)
    return json.loads(response["content"])


def long_job(context):
    response = yield context.call_http("POST", context.get_input(), {"job": 1}, {"x-functions-key": "key"})
    return {"status": response.status_code, "content": response.content}


def catching(context):
    try:
        yield context.call_http("GET", context.get_input())
    except TaskFailedError as error:
        return {"message": str(error), "reason": error.reason}
    return "no failure"


def with_identity(context):
    uri, resource = context.get_input()
    response = yield context.call_http("GET", uri, token_source=df.ManagedIdentityTokenSource(resource))
    return json.loads(response.content)


ORCHESTRATORS = {
    "json_call": json_call,
    "text_call": text_call,
    "long_job": long_job,
    "catching": catching,
    "with_identity": with_identity,
}
# A short default interval between polls of a 202, as an app sets it in host.json.
SETTINGS = dataclasses.replace(TEST_SETTINGS, default_async_request_sleep_time_milliseconds=200)


async def run(task_hub: TaskHub, name: str, value: Any) -> tuple[Any, list[Any]]:
    """Run orchestration `name` with `value` to the end; its output and its history events."""
    registry = Registry(orchestrators=ORCHESTRATORS)
    async with Worker(task_hub, registry, SETTINGS), DurableOrchestrationClient(task_hub) as client:
        instance_id = await client.start_new(name, client_input=value)
        status = await client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status.value == "Completed", status.output
    return status.output, (await task_hub.history.load(instance_id)).events


async def test_json_content_and_headers_reach_the_server(task_hub: TaskHub, api: Api) -> None:
    output, history = await run(task_hub, "json_call", [f"{api.base}/echo?code=abc", {"name": "Ana", "n": 2}])
    assert output["status"] == 200
    assert output["headers"]["X-Served-By"] == "loopback"
    echo = output["echo"]
    assert (echo["method"], echo["query"]) == ("POST", "code=abc")
    assert json.loads(echo["body"]) == {"name": "Ana", "n": 2}
    assert (echo["content_type"], echo["custom"], echo["functions_key"]) == ("application/json", "yes", "key")
    scheduled = [event for event in history if isinstance(event, TaskScheduled)]
    assert [event.name for event in scheduled] == [HTTP_ACTIVITY_NAME]


async def test_string_content_is_sent_as_text(task_hub: TaskHub, api: Api) -> None:
    echo, _ = await run(task_hub, "text_call", f"{api.base}/echo")
    assert (echo["method"], echo["body"], echo["content_type"]) == ("PUT", "just text", "text/plain")


async def test_a_202_is_followed_to_the_final_response_with_timers_between_polls(task_hub: TaskHub, api: Api) -> None:
    output, history = await run(task_hub, "long_job", f"{api.base}/jobs")
    assert output == {"status": 200, "content": "job finished"}
    assert api.count("POST", "/jobs") == 1  # replays never send the request again
    assert api.count("GET", "/jobs/1") == 3
    polls = [r for r in api.requests if r["path"] == "/jobs/1"]
    assert all(r["query"] == f"sig={SECRET}" and r["functions_key"] is None for r in polls)
    assert sum(isinstance(event, TimerCreated) for event in history) == 3
    assert sum(isinstance(event, TimerFired) for event in history) == 3
    assert sum(isinstance(event, TaskScheduled) for event in history) == 4


async def test_retry_after_sets_the_wait_before_the_first_poll(task_hub: TaskHub, api: Api) -> None:
    output, history = await run(task_hub, "long_job", f"{api.base}/jobs?retry_after=1")
    assert output["status"] == 200
    # A timer's own timestamp is the orchestration time of the episode that created it.
    waits = [event.fire_at - event.timestamp for event in history if isinstance(event, TimerCreated)]
    default = timedelta(milliseconds=SETTINGS.default_async_request_sleep_time_milliseconds)
    assert waits == [timedelta(seconds=1), default, default]  # the polls' 202s carry no Retry-After


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_connection_is_a_catchable_failure_without_the_query_string(task_hub: TaskHub) -> None:
    port = _closed_port()
    output, history = await run(task_hub, "catching", f"http://127.0.0.1:{port}/items?sig={SECRET}")
    assert output["reason"].startswith("Activity function 'BuiltIn::HttpActivity' failed: HttpRequestError: GET ")
    assert f"http://127.0.0.1:{port}/items" in output["reason"]
    assert "cannot connect" in output["reason"]
    assert SECRET not in output["message"] and "sig=" not in output["message"]
    (failed,) = [event for event in history if isinstance(event, TaskFailed)]
    assert SECRET not in f"{failed.reason} {failed.details} {failed.failure_details}"


async def test_a_request_that_outlives_the_timeout_is_a_catchable_timeout(
    task_hub: TaskHub, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_activity, "REQUEST_TIMEOUT_SECONDS", 0.3)  # the extension's is 240 s
    output, _ = await run(task_hub, "catching", f"{api.base}/slow?sig={SECRET}")
    assert output["reason"] == (
        f"Activity function 'BuiltIn::HttpActivity' failed: TimeoutError: GET {api.base}/slow: "
        "no response within 0.3 seconds"
    )
    assert SECRET not in output["message"]


@pytest.fixture
def identity_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenEndpoint]:
    """azure-identity pointed at the loopback App Service identity endpoint, for this test only."""
    endpoint = TokenEndpoint()
    endpoint.start()
    for name in OTHER_IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in endpoint.environment.items():
        monkeypatch.setenv(name, value)
    try:
        yield endpoint
    finally:
        endpoint.stop()


async def test_a_managed_identity_token_is_sent_and_never_stored(
    task_hub: TaskHub, api: Api, identity_endpoint: TokenEndpoint
) -> None:
    echo, history = await run(task_hub, "with_identity", [f"{api.base}/echo", ARM])
    assert echo["authorization"] is True
    scheme, _, token = api.requests[0]["authorization"].partition(" ")
    assert scheme == "Bearer" and token.count(".") == 2
    # The resource exactly as written, trailing slash included, as the extension asks for it.
    assert [request.resource for request in identity_endpoint.requests] == [ARM]
    stored = " ".join(repr(event) for event in history)
    assert token not in stored
    assert "AzureManagedIdentity" in stored  # the token source is recorded by what it is


@pytest.mark.parametrize(
    ("resource", "asked_for"),
    [
        ("https://vault.azure.net", "https://vault.azure.net"),
        ("https://storage.azure.com/", "https://storage.azure.com/"),
        ("api://11111111-2222-3333-4444-555555555555", "api://11111111-2222-3333-4444-555555555555"),
        ("https://graph.microsoft.com/.default", "https://graph.microsoft.com"),
    ],
)
async def test_any_resource_gets_a_token_for_that_resource(
    task_hub: TaskHub, api: Api, identity_endpoint: TokenEndpoint, resource: str, asked_for: str
) -> None:
    echo, _ = await run(task_hub, "with_identity", [f"{api.base}/echo", resource])
    assert echo["authorization"] is True
    assert [request.resource for request in identity_endpoint.requests] == [asked_for]


@pytest.mark.parametrize(
    ("resource", "scope"),
    [
        ("https://management.core.windows.net/", "https://management.core.windows.net//.default"),
        ("https://management.azure.com", "https://management.azure.com/.default"),
        ("https://database.windows.net/", "https://database.windows.net//.default"),
        ("api://my-api", "api://my-api/.default"),
        ("https://graph.microsoft.com/.default", "https://graph.microsoft.com/.default"),
    ],
)
def test_token_scope_is_the_resource_with_default_appended_once(resource: str, scope: str) -> None:
    assert http_activity.token_scope(resource) == scope
