"""Orchestrations calling entities, replayed by the engine from histories: requests, replies, locks."""

from __future__ import annotations

import json
from typing import Any

from durable_azure import EntityId, EntityOperationFailedError
from durable_azure.entities import LOCK_GRANTED, RequestMessage, ResponseMessage
from durable_azure.history import EventRaised, HistoryEvent
from durable_azure.orchestration import CompleteOrchestrationAction, OrchestrationExecutor, SendEventAction
from durable_azure.orchestration.entity_calls import LockingRulesViolationError
from tests.orchestration.builders import at, orchestrator_started, start

COUNTER = EntityId("Counter", "k")


def call_twice(context: Any):
    first = yield context.call_entity(COUNTER, "add", 5)
    try:
        yield context.call_entity(COUNTER, "boom")
    except EntityOperationFailedError as error:
        return {"first": first, "error": str(error), "entity": str(error.entity_id)}
    return "not raised"


def lock_and_return(context: Any):
    yield context.lock([EntityId("Counter", "b"), EntityId("Counter", "a")])
    return "done"  # leaves without `with`: the engine releases the locks


def signal_inside_section(context: Any):
    with (yield context.lock([COUNTER])):
        context.signal_entity(COUNTER, "add", 1)
    return "unreachable"


ORCHESTRATORS = {"call_twice": call_twice, "lock_and_return": lock_and_return, "signal": signal_inside_section}


def reply(send: SendEventAction, result: Any, *, error: str | None = None, seconds: float = 1) -> EventRaised:
    request = RequestMessage.from_text(send.data)
    return EventRaised(
        timestamp=at(seconds), name=request.id, input=ResponseMessage(json.dumps(result), error).to_text()
    )


def sends(actions: Any) -> list[SendEventAction]:
    return [a for a in actions if isinstance(a, SendEventAction)]


def test_a_call_sends_the_extensions_request_and_completes_with_the_reply() -> None:
    history: list[HistoryEvent] = []
    executor = OrchestrationExecutor(ORCHESTRATORS)
    result = executor.execute(history, start("call_twice"))
    (send,) = sends(result.actions)
    request = RequestMessage.from_text(send.data)
    assert (send.instance_id, send.name) == ("@counter@k", "op")
    assert (request.operation, request.is_signal, request.parent) == ("add", False, "instance-1")
    assert json.loads(json.loads(request.input or "")) == 5  # stored as the extension stores a Python caller's
    history += result.new_history
    result = executor.execute(history, [orchestrator_started(1), reply(send, 5)])
    (second,) = sends(result.actions)
    history += result.new_history
    failure = reply(second, "no such operation", error="ValueError", seconds=2)
    result = executor.execute(history, [orchestrator_started(2), failure])
    end = result.actions[-1]
    assert isinstance(end, CompleteOrchestrationAction)
    assert json.loads(end.result or "") == {"first": 5, "error": "no such operation", "entity": "@counter@k"}
    history += result.new_history
    replayed = OrchestrationExecutor(ORCHESTRATORS).execute(history, [])  # a fresh replay sends nothing new
    assert replayed.actions == ()


def test_an_orchestration_ending_inside_a_critical_section_releases_its_locks() -> None:
    executor = OrchestrationExecutor(ORCHESTRATORS)
    history: list[HistoryEvent] = []
    result = executor.execute(history, start("lock_and_return"))
    (lock,) = sends(result.actions)
    request = RequestMessage.from_text(lock.data)
    assert lock.instance_id == "@counter@a" and [str(e) for e in request.lockset or []] == ["@counter@a", "@counter@b"]
    history += result.new_history
    grant = EventRaised(timestamp=at(1), name=request.id, input=ResponseMessage(LOCK_GRANTED).to_text())
    result = executor.execute(history, [orchestrator_started(1), grant])
    releases = sends(result.actions)
    assert [(s.instance_id, s.name) for s in releases] == [("@counter@a", "release"), ("@counter@b", "release")]
    assert isinstance(result.actions[-1], CompleteOrchestrationAction)


def test_signalling_a_locked_entity_fails_the_orchestration_with_the_rule() -> None:
    executor = OrchestrationExecutor(ORCHESTRATORS)
    history: list[HistoryEvent] = []
    result = executor.execute(history, start("signal"))
    request = RequestMessage.from_text(sends(result.actions)[0].data)
    history += result.new_history
    grant = EventRaised(timestamp=at(1), name=request.id, input=ResponseMessage(LOCK_GRANTED).to_text())
    result = executor.execute(history, [orchestrator_started(1), grant])
    end = result.actions[-1]
    assert isinstance(end, CompleteOrchestrationAction)
    assert end.failure_details is not None and end.failure_details.error_type == LockingRulesViolationError.__name__
    assert [s.name for s in sends(result.actions)] == ["release"]  # leaving the `with` still released it
