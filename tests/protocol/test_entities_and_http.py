"""Entity calls and signals, and call_http, from official-SDK orchestrators: stored as the extension stores them."""

from __future__ import annotations

import json

import azure.durable_functions as df

from durable_azure.entities import RequestMessage, ResponseMessage
from durable_azure.history import EventRaised, OrchestrationStatus, TaskCompleted
from durable_azure.orchestration import ScheduleTaskAction, SendEventAction
from durable_azure.orchestration.http import HTTP_ACTIVITY_NAME
from tests.protocol.driver import SdkInstance, at


def counter_user(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Counter", "k1")
    context.signal_entity(entity, "add", 5)
    value = yield context.call_entity(entity, "get")
    return value


def test_signal_and_call_reach_the_entity_as_requests_and_the_reply_completes_the_call() -> None:
    instance = SdkInstance(counter_user)
    first = instance.start()
    signal, call = first.actions
    assert isinstance(signal, SendEventAction) and isinstance(call, SendEventAction)
    assert (signal.id, call.id) == (0, 1)
    assert signal.instance_id == call.instance_id == "@counter@k1"
    signal_request = RequestMessage.from_text(signal.data or "")
    call_request = RequestMessage.from_text(call.data or "")
    assert signal_request.is_signal and signal_request.operation == "add"
    assert signal_request.input == json.dumps("5")  # the SDK's JSON text, encoded once more as the extension does
    assert not call_request.is_signal and call_request.operation == "get"
    reply = ResponseMessage(result="5").to_text()
    done = instance.episode(EventRaised(timestamp=at(1), name=call_request.id, input=reply), seconds=1)
    assert done.status is OrchestrationStatus.Completed and done.output == "5"


def fetch(context: df.DurableOrchestrationContext):
    response = yield context.call_http("GET", "https://example.invalid/items", headers={"Accept": "text/plain"})
    return response["statusCode"]  # the SDK hands the response over as a dict


def test_call_http_runs_the_built_in_http_activity() -> None:
    instance = SdkInstance(fetch)
    (action,) = instance.start().actions
    assert isinstance(action, ScheduleTaskAction) and action.name == HTTP_ACTIVITY_NAME
    (request_text,) = json.loads(action.input or "")  # the extension's parameter array of one JSON text
    request = json.loads(request_text)
    assert request["method"] == "GET" and request["uri"] == "https://example.invalid/items"
    response = json.dumps({"statusCode": 200, "headers": {}, "content": "fine"})
    done = instance.episode(TaskCompleted(timestamp=at(1), task_scheduled_id=0, result=response), seconds=1)
    assert done.status is OrchestrationStatus.Completed and done.output == "200"
