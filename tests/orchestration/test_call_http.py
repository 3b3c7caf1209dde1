"""context.call_http from histories: the built-in activity, replay, the 202 polling loop and its timers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from durable_azure import serialization
from durable_azure.errors import TaskFailedError
from durable_azure.history import OrchestrationStatus, TaskScheduled, TimerCreated
from durable_azure.orchestration import CreateTimerAction, OrchestrationExecutor, ScheduleTaskAction
from durable_azure.orchestration.http import (
    HTTP_ACTIVITY_NAME,
    DurableHttpRequest,
    HttpSettings,
    ManagedIdentityTokenSource,
    redact_uri,
)
from tests.orchestration.builders import (
    START,
    orchestrator_started,
    run_to_end,
    start,
    task_completed,
    task_failed,
    timer_fired,
)

ARM = "https://management.core.windows.net/"


def sent_request(input_text: str | None) -> dict[str, Any]:
    """The extension's DurableHttpRequest JSON inside the activity's input (a one-element array of JSON text)."""
    wrapped = json.loads(input_text or "null")
    assert isinstance(wrapped, list) and len(wrapped) == 1 and isinstance(wrapped[0], str)
    return json.loads(wrapped[0])


def fetch(context):
    response = yield context.call_http("GET", "https://api.example/items?sig=secret")
    return {
        "status": response.status_code,
        "status_key": response["statusCode"],
        "content": response.content,
        "headers": response.headers,
    }


def post_json(context):
    response = yield context.call_http(
        "POST",
        "https://api.example/orders",
        {"item": "book", "count": 2},
        {"Content-Type": "application/json", "x-functions-key": "k"},
        ManagedIdentityTokenSource(ARM),
    )
    return response["content"]


def post_raw(context):
    response = yield context.call_http("POST", "https://api.example/raw", "plain text", is_raw_str=True)
    return response.status_code


def raw_without_string(context):
    try:
        yield context.call_http("POST", "https://api.example/raw", {"a": 1}, is_raw_str=True)
    except TypeError as error:
        return str(error)
    return "no error"


def catches_failure(context):
    try:
        yield context.call_http("GET", "https://unreachable.example/x?sig=secret")
    except TaskFailedError as error:
        return {"caught": error.reason}
    return "no error"


ORCHESTRATORS: dict[str, Any] = {
    "fetch": fetch,
    "post_json": post_json,
    "post_raw": post_raw,
    "raw_without_string": raw_without_string,
    "catches_failure": catches_failure,
}


def responder(*responses: dict[str, Any]):
    """A stand-in for the HTTP activity: answers with `responses` in turn and records each request."""
    seen: list[dict[str, Any]] = []

    def activity(value: Any) -> Any:
        request = value  # the decoded input: the request object
        seen.append(request)
        return responses[len(seen) - 1]

    return activity, seen


def ok(content: str = "done", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"statusCode": 200, "headers": headers or {"Content-Type": "text/plain"}, "content": content}


def accepted(location: str | None, retry_after: str | None = None) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if location is not None:
        headers["Location"] = location
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return {"statusCode": 202, "headers": headers, "content": ""}


def test_call_http_schedules_the_built_in_activity_with_the_extensions_request() -> None:
    result = OrchestrationExecutor(ORCHESTRATORS).execute([], start("post_json"))
    (action,) = result.actions
    assert isinstance(action, ScheduleTaskAction) and action.name == HTTP_ACTIVITY_NAME
    assert sent_request(action.input) == {
        "method": "POST",
        "uri": "https://api.example/orders",
        "headers": {"Content-Type": "application/json", "x-functions-key": "k"},
        "content": '{"item": "book", "count": 2}',
        "tokenSource": {"resource": ARM, "kind": "AzureManagedIdentity"},
        "asynchronousPatternEnabled": True,
        "retryOptions": None,
        "timeout": None,
    }
    scheduled = [event for event in result.new_history if isinstance(event, TaskScheduled)]
    assert [event.name for event in scheduled] == [HTTP_ACTIVITY_NAME]


def test_the_response_is_a_mapping_with_attributes() -> None:
    activity, _ = responder(ok("hello", {"Content-Type": "text/plain", "X-Id": "7"}))
    run = run_to_end(ORCHESTRATORS, start("fetch"), {HTTP_ACTIVITY_NAME: activity})
    assert run.output == {
        "status": 200,
        "status_key": 200,
        "content": "hello",
        "headers": {"Content-Type": "text/plain", "X-Id": "7"},
    }


def test_a_response_written_with_dotnet_property_names_reads_the_same() -> None:
    activity, _ = responder({"StatusCode": 201, "Headers": {"X-Id": ["7"]}, "Content": "made"})
    run = run_to_end(ORCHESTRATORS, start("fetch"), {HTTP_ACTIVITY_NAME: activity})
    assert run.output == {"status": 201, "status_key": 201, "content": "made", "headers": {"X-Id": ["7"]}}


def test_raw_string_content_is_sent_as_is() -> None:
    activity, seen = responder(ok())
    run = run_to_end(ORCHESTRATORS, start("post_raw"), {HTTP_ACTIVITY_NAME: activity})
    assert run.output == 200
    assert seen[0]["content"] == "plain text"


def test_is_raw_str_without_a_string_is_a_type_error_at_the_call() -> None:
    run = run_to_end(ORCHESTRATORS, start("raw_without_string"))
    assert "is_raw_str" in run.output and "'str'" in run.output
    assert not any(isinstance(event, TaskScheduled) for event in run.history)


def test_replay_does_not_send_the_request_again() -> None:
    history = [
        *start("fetch"),
        TaskScheduled(event_id=0, timestamp=START, name=HTTP_ACTIVITY_NAME, input="[]"),
    ]
    result = OrchestrationExecutor(ORCHESTRATORS).execute(
        history, [orchestrator_started(1), task_completed(0, ok("cached"))]
    )
    assert result.actions[-1:] and not any(isinstance(a, ScheduleTaskAction) for a in result.actions)
    assert result.status is OrchestrationStatus.Completed
    assert serialization.loads(result.output)["content"] == "cached"


@pytest.mark.parametrize("fresh_replay", [False, True])
def test_a_202_is_polled_at_its_location_after_the_default_interval(fresh_replay: bool) -> None:
    activity, seen = responder(accepted("https://api.example/status/1"), accepted("https://api.example/status/1"), ok())
    run = run_to_end(ORCHESTRATORS, start("post_json"), {HTTP_ACTIVITY_NAME: activity}, fresh_replay=fresh_replay)
    assert run.output == "done"
    assert [request["method"] for request in seen] == ["POST", "GET", "GET"]
    poll = seen[1]
    assert poll["uri"] == "https://api.example/status/1"
    assert poll["content"] is None
    assert poll["headers"] == {"Content-Type": "application/json"}  # x-functions-key is not sent to the status URL
    assert poll["tokenSource"] == {"resource": ARM, "kind": "AzureManagedIdentity"}
    timers = [event for event in run.history if isinstance(event, TimerCreated)]
    # Each wait starts at the episode that saw the 202 (episode n runs at START + n seconds).
    wait = timedelta(milliseconds=30000)
    assert [timer.fire_at - START for timer in timers] == [timedelta(seconds=1) + wait, timedelta(seconds=3) + wait]


def test_retry_after_wins_over_the_default_interval() -> None:
    activity, _ = responder(accepted("https://api.example/status/1", retry_after="5"), ok())
    run = run_to_end(ORCHESTRATORS, start("fetch"), {HTTP_ACTIVITY_NAME: activity})
    (timer,) = [event for event in run.history if isinstance(event, TimerCreated)]
    assert timer.fire_at == START + timedelta(seconds=1 + 5)
    assert run.output["status"] == 200


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [("400000000000", timedelta(days=7)), ("\u00b2", timedelta(milliseconds=30000)), ("soon", timedelta(seconds=30))],
)
def test_an_unusable_retry_after_never_fails_the_step(retry_after: str, wait: timedelta) -> None:
    activity, _ = responder(accepted("https://api.example/status/1", retry_after=retry_after), ok())
    run = run_to_end(ORCHESTRATORS, start("fetch"), {HTTP_ACTIVITY_NAME: activity})
    (timer,) = [event for event in run.history if isinstance(event, TimerCreated)]
    assert timer.fire_at == START + timedelta(seconds=1) + wait
    assert run.output["status"] == 200


def test_the_host_setting_sets_the_default_interval() -> None:
    executor = OrchestrationExecutor(ORCHESTRATORS, http_settings=HttpSettings(timedelta(milliseconds=1500)))
    first = executor.execute([], start("fetch"))
    history = list(first.new_history)
    second = executor.execute(history, [orchestrator_started(1), task_completed(0, accepted("https://a.example/s"))])
    (timer,) = second.actions
    assert isinstance(timer, CreateTimerAction)
    assert timer.fire_at == START + timedelta(seconds=1, milliseconds=1500)
    history.extend(second.new_history)
    third = executor.execute(history, [orchestrator_started(3), timer_fired(1, timer.fire_at)])
    (poll,) = third.actions
    assert isinstance(poll, ScheduleTaskAction) and poll.name == HTTP_ACTIVITY_NAME
    assert sent_request(poll.input)["uri"] == "https://a.example/s"


def test_a_202_without_location_is_the_final_response() -> None:
    activity, seen = responder(accepted(None))
    run = run_to_end(ORCHESTRATORS, start("fetch"), {HTTP_ACTIVITY_NAME: activity})
    assert run.output["status"] == 202
    assert len(seen) == 1


def test_a_failed_request_is_a_catchable_task_failure() -> None:
    history = [*start("catches_failure")]
    first = OrchestrationExecutor(ORCHESTRATORS).execute([], history)
    second = OrchestrationExecutor(ORCHESTRATORS).execute(
        list(first.new_history), [orchestrator_started(1), task_failed(0, "GET https://unreachable.example/x: refused")]
    )
    assert second.status is OrchestrationStatus.Completed
    assert serialization.loads(second.output) == {"caught": "ValueError: GET https://unreachable.example/x: refused"}


def test_request_and_token_source_serialize_as_the_sdk_does() -> None:
    from azure.durable_functions.models.DurableHttpRequest import DurableHttpRequest as SdkRequest
    from azure.durable_functions.models.TokenSource import ManagedIdentityTokenSource as SdkTokenSource

    ours = DurableHttpRequest("GET", "https://x.example/", "body", {"A": "b"}, ManagedIdentityTokenSource(ARM))
    theirs = SdkRequest("GET", "https://x.example/", "body", {"A": "b"}, SdkTokenSource(ARM))
    assert ours.to_json() == theirs.to_json()
    assert ManagedIdentityTokenSource(ARM).to_json() == SdkTokenSource(ARM).to_json()


def test_a_request_without_token_source_leaves_the_key_out_as_the_sdk_does() -> None:
    from azure.durable_functions.models.DurableHttpRequest import DurableHttpRequest as SdkRequest

    ours = DurableHttpRequest("POST", "https://x.example/", None, None).to_json()
    assert ours == SdkRequest("POST", "https://x.example/", None, None).to_json()
    assert "tokenSource" not in ours
    assert ours == {"method": "POST", "uri": "https://x.example/", "content": None, "headers": None}


def test_the_request_reads_back_from_the_activity_input() -> None:
    request = DurableHttpRequest("PUT", "https://x.example/a?b=c", "{}", {"H": "v"}, ManagedIdentityTokenSource(ARM))
    again = DurableHttpRequest.from_activity_input(json.loads(request.activity_input()))
    assert (again.method, again.uri, again.content) == ("PUT", "https://x.example/a?b=c", "{}")
    assert again.headers == {"H": "v"}
    assert again.token_source == ManagedIdentityTokenSource(ARM)
    with pytest.raises(ValueError, match="token source kind"):
        DurableHttpRequest.from_activity_input({"method": "GET", "uri": "https://x/", "tokenSource": {"kind": "X"}})


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("https://acct.blob.core.windows.net/c/b?sv=2024&sig=SECRET", "https://acct.blob.core.windows.net/c/b"),
        ("http://user:pw@127.0.0.1:8080/p?code=KEY#frag", "http://127.0.0.1:8080/p"),
        ("http://[::1]:81/x?y=z", "http://[::1]:81/x"),
    ],
)
def test_error_text_shows_the_uri_without_its_secrets(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown
