"""The entity routes of the HTTP management API, on a running host with entity functions (tests/functions/host_app).

Signals go in through HTTP and come back out through HTTP reads and listings, as a user of the extension's API
sees them; the same routes answer on the keyless loopback RPC listener. One host serves the module (its own
task hub); each test uses keys of its own.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.functions.host_process import APP_DIR, WEBHOOK, HostProcess, Reply, eventually, host_environment, run_cli

ENTITIES = f"{WEBHOOK}/entities"
JSON = {"Content-Type": "application/json"}


def new_key(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class EntityApi:
    """The entity routes with the system key, as a user of the management API calls them."""

    def __init__(self, host: HostProcess, key: str) -> None:
        self.host, self.key = host, key

    def call(self, method: str, path: str, *, query: dict[str, str] | None = None, **options) -> Reply:
        return self.host.request(method, path, query={"code": self.key, **(query or {})}, **options)

    def signal(self, name: str, key: str, operation: str, data: object = None) -> Reply:
        body = None if data is None else json.dumps(data)
        return self.call(
            "POST", f"{ENTITIES}/{name}/{quote(key, safe='')}", query={"op": operation}, body=body, headers=JSON
        )

    def read(self, name: str, key: str) -> Reply:
        return self.call("GET", f"{ENTITIES}/{name}/{quote(key, safe='')}")

    def state_once(self, name: str, key: str, accept) -> object:
        """The entity's state, once `accept(state)` (signals are processed in the background)."""
        reply = eventually(
            lambda: self.read(name, key),
            lambda reply: reply.status == 200 and accept(reply.json()),
            f"entity {name}/{key}",
        )
        return reply.json()


@pytest.fixture(scope="module")
def system_key(host: HostProcess, connection_string: str) -> str:
    completed = run_cli(["keys", "--app-dir", str(APP_DIR)], host_environment(connection_string, host.hub_name))
    assert completed.returncode == 0, completed.stderr
    return str(json.loads(completed.stdout)["systemKeys"]["durabletask_extension"])


@pytest.fixture
def api(host: HostProcess, system_key: str) -> EntityApi:
    return EntityApi(host, system_key)


def test_signal_then_read_through_http(api: EntityApi) -> None:
    key = new_key()
    assert api.read("counter", key).status == 404
    assert api.signal("counter", key, "add", 5).status == 202
    assert api.state_once("counter", key, lambda state: state == 5) == 5
    assert api.signal("Counter", key, "add", 3).status == 202  # entity names compare without case
    assert api.state_once("counter", key, lambda state: state == 8) == 8


@pytest.mark.parametrize(
    ("body", "headers", "received"),
    [
        (None, {}, None),
        ('{"a": [1, true]}', JSON, {"a": [1, True]}),
        ('"42"', JSON, "42"),
        ("7", JSON, 7),
        ("plain words", {"Content-Type": "text/plain"}, "plain words"),
        ("[1, 2]", {}, "[1, 2]"),  # no content type: not JSON, the text itself
    ],
    ids=["no-body", "json-object", "json-string", "json-number", "text", "no-content-type"],
)
def test_the_entity_receives_the_body_as_the_extension_reads_it(
    api: EntityApi, body: str | None, headers: dict[str, str], received: object
) -> None:
    key = new_key("input")
    reply = api.call("POST", f"{ENTITIES}/Recorder/{key}", query={"op": "note"}, body=body, headers=headers)
    assert reply.status == 202, reply.body
    state = api.state_once("recorder", key, lambda state: True)
    assert state == {"operation": "note", "input": received, "type": type(received).__name__}


def test_invalid_json_is_a_400_and_nothing_is_sent(api: EntityApi) -> None:
    key = new_key("bad")
    reply = api.call("POST", f"{ENTITIES}/counter/{key}", query={"op": "add"}, body="{not json", headers=JSON)
    assert reply.status == 400
    assert reply.json()["Message"].startswith("Could not parse JSON content: ")
    assert api.signal("counter", key, "add", 1).status == 202  # a later good signal is the first the entity sees
    assert api.state_once("counter", key, lambda state: True) == 1


def test_a_signal_without_op_is_the_empty_operation_as_in_the_extension(api: EntityApi) -> None:
    key = new_key("noop")
    assert api.call("POST", f"{ENTITIES}/recorder/{key}").status == 202
    assert api.state_once("recorder", key, lambda state: True)["operation"] == ""


def test_delete_signals_the_delete_operation(api: EntityApi) -> None:
    key = new_key("del")
    assert api.signal("counter", key, "add", 2).status == 202
    api.state_once("counter", key, lambda state: state == 2)
    assert api.call("DELETE", f"{ENTITIES}/counter/{key}").status == 202
    eventually(lambda: api.read("counter", key), lambda reply: reply.status == 404, f"counter {key} to be deleted")


def test_reading_an_entity_that_does_not_exist_is_404(api: EntityApi) -> None:
    missing = api.read("counter", new_key("never"))
    assert missing.status == 404
    assert "No entity 'counter' with key" in missing.json()["Message"]
    assert api.read("no_such_entity", "k").status == 404  # GET does not check the function, as in the extension
    empty = api.call("GET", f"{ENTITIES}/counter/$")
    assert empty.status == 404
    assert "entity keys cannot be empty" in empty.json()["Message"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nope/k1?op=add", "The function 'nope' doesn't exist, is disabled, or is not an entity function"),
        ("counter/a%2Fb?op=add", "Entity keys must not contain /, \\, ?, # or control characters"),
        ("counter/a%5Cb?op=add", "Entity keys must not contain"),
        ("counter/a%3Fb?op=add", "Entity keys must not contain"),
        ("counter/a%23b?op=add", "Entity keys must not contain"),
        ("counter/a%01b?op=add", "Entity keys must not contain"),
        ("counter/$?op=add", "Entity keys cannot be empty"),
        ("counter?op=add", "An entity name and key are required"),
        ("?op=add", "An entity name and key are required"),
        ("co%40unter/k1?op=add", "must not contain '@'"),
    ],
)
def test_bad_signals_are_400_naming_the_problem(api: EntityApi, path: str, message: str) -> None:
    for method in ("POST", "DELETE"):
        reply = api.call(method, f"{ENTITIES}/{path}", body="1", headers=JSON)
        assert reply.status == 400, (method, reply.body)
        assert message in reply.json()["Message"]


def test_other_methods_and_a_missing_key_get_what_the_rest_of_the_api_gives(api: EntityApi, host: HostProcess) -> None:
    assert api.call("PUT", f"{ENTITIES}/counter/k1").status == 404
    assert api.call("PATCH", f"{ENTITIES}/counter/k1", query={"op": "add"}).status == 404
    assert host.request("GET", f"{ENTITIES}/counter/k1").status == 401
    assert host.request("POST", f"{ENTITIES}/counter/k1", query={"op": "add", "code": "wrong"}).status == 401


def _all_pages(api: EntityApi, path: str, query: dict[str, str]) -> list[list[dict]]:
    pages, token = [], None
    while True:
        reply = api.call("GET", path, query=query, headers={"x-ms-continuation-token": token} if token else {})
        assert reply.status == 200, reply.body
        pages.append(reply.json())
        token = reply.headers["x-ms-continuation-token"]
        if token == "null":
            return pages


def test_listing_pages_with_top_and_the_continuation_header(api: EntityApi) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    keys = [f"t{number}" for number in range(5)]
    for key in keys:
        assert api.signal("tally", key, "count").status == 202
    for key in keys:
        api.state_once("tally", key, lambda state: state == 1)
    pages = _all_pages(api, f"{ENTITIES}/tally", {"top": "2"})
    assert all(len(page) <= 2 for page in pages) and len(pages) >= 3
    listed = [entry for page in pages for entry in page]
    assert sorted(entry["entityId"]["key"] for entry in listed) == keys
    assert {entry["entityId"]["name"] for entry in listed} == {"tally"}
    assert all(entry["state"] is None for entry in listed)  # fetchState defaults to false
    for entry in listed:
        assert datetime.fromisoformat(entry["lastOperationTime"].replace("Z", "+00:00")) >= before
    with_state = _all_pages(api, f"{ENTITIES}/tally/", {"fetchState": "true"})
    assert [entry["state"] for page in with_state for entry in page] == [1] * 5
    everything = [entry for page in _all_pages(api, f"{ENTITIES}/", {}) for entry in page]
    assert {("tally", key) for key in keys} <= {(e["entityId"]["name"], e["entityId"]["key"]) for e in everything}
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.call("GET", f"{ENTITIES}/tally", query={"lastOperationTimeFrom": later}).json() == []
    assert api.call("GET", f"{ENTITIES}/tally", query={"top": "0"}).status == 400


def test_the_same_routes_answer_on_the_rpc_listener_without_a_key(api: EntityApi, host: HostProcess) -> None:
    rpc = re.search(
        r"Local RPC endpoint \(loopback, no key\): http://127\.0\.0\.1:(\d+)(/durabletask)/", host.text_output()
    )
    assert rpc is not None, host.text_output()
    rpc_host = HostProcess(process=host.process, port=int(rpc[1]), hub_name=host.hub_name)
    key = new_key("rpc")
    signalled = rpc_host.request("POST", f"/durabletask/entities/counter/{key}?op=add", body="4", headers=JSON)
    assert signalled.status == 202, signalled.body
    assert api.state_once("counter", key, lambda state: state == 4) == 4
    assert rpc_host.request("GET", f"/durabletask/entities/counter/{key}").json() == 4
    listed = rpc_host.request("GET", "/durabletask/entities/counter")
    assert listed.status == 200 and key in {entry["entityId"]["key"] for entry in listed.json()}
    assert rpc_host.request("POST", "/durabletask/entities/nope/k?op=add").status == 400
    # A web page cannot drive the keyless endpoint: a cross-origin POST, or a request under another host name
    # (DNS rebinding), is refused before anything is sent.
    from_page = {**JSON, "Origin": "http://evil.example"}
    refused = rpc_host.request("POST", f"/durabletask/entities/counter/{key}?op=add", body="100", headers=from_page)
    rebound = rpc_host.request(
        "GET", f"/durabletask/entities/counter/{key}", headers={"Host": f"evil.example:{rpc[1]}"}
    )
    assert (refused.status, rebound.status) == (403, 403)
    assert rpc_host.request("GET", f"/durabletask/entities/counter/{key}").json() == 4
