"""Entities written with azure.durable_functions (`df.Entity.create`): one handler call per batch, fed histories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import pytest

from durable_azure.entities import (
    EntityExecutor,
    RequestMessage,
    ResponseMessage,
    SchedulerState,
    encode_operation_input,
)
from durable_azure.history import (
    EventRaised,
    ExecutionStarted,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
)
from durable_azure.orchestration import CompleteOrchestrationAction, ExecutionResult, SendEventAction
from durable_azure.protocol import SdkEntity

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(value + context.get_input())
    elif context.operation_name == "get":
        context.set_result(value)
    elif context.operation_name == "fail":
        raise ValueError("cannot do that")
    elif context.operation_name == "delete":
        context.destruct_on_exit()


HANDLES: list[str] = []


def recording(handle: Any) -> Any:
    def call(payload: str) -> object:
        HANDLES.append(payload)
        return handle(payload)

    return call


def run(*requests: EventRaised, state: SchedulerState | None = None) -> ExecutionResult:
    entities = {"counter": SdkEntity("counter", recording(df.Entity.create(counter)))}
    started = ExecutionStarted(
        timestamp=T0,
        orchestration_instance=OrchestrationInstance(instance_id="@counter@k1", execution_id="e1"),
        name="@counter@k1",
        input=state.to_text() if state else None,
    )
    return EntityExecutor(entities).execute([], [OrchestratorStarted(timestamp=T0), started, *requests])


def request(operation: str, value: Any = None, *, caller: str | None = None, request_id: str = "") -> EventRaised:
    message = RequestMessage(
        id=request_id or f"id-{operation}-{value}",
        operation=operation,
        is_signal=caller is None,
        input=encode_operation_input(value) if value is not None else None,
        parent=caller,
    )
    return EventRaised(timestamp=T0, name="op", input=message.to_text())


def state_after(result: ExecutionResult) -> SchedulerState:
    end = result.actions[-1]
    assert isinstance(end, CompleteOrchestrationAction) and end.status is OrchestrationStatus.ContinuedAsNew
    return SchedulerState.from_text(end.new_input)


def test_a_batch_is_one_handler_call_and_every_caller_gets_its_result() -> None:
    HANDLES.clear()
    result = run(request("add", 5), request("add", 2), request("get", caller="orch-1", request_id="r1"))
    assert len(HANDLES) == 1
    batch = json.loads(HANDLES[0])
    assert batch["self"] == {"name": "counter", "key": "k1"} and batch["exists"] is False
    assert [op["name"] for op in batch["batch"]] == ["add", "add", "get"]
    assert batch["batch"][0]["input"] == json.dumps("5") and batch["batch"][0]["isSignal"] is True
    (reply,) = [action for action in result.actions if isinstance(action, SendEventAction)]
    assert reply.instance_id == "orch-1" and reply.name == "r1"
    assert ResponseMessage.from_text(reply.data).result == "7"
    state = state_after(result)
    assert state.exists and state.state == "7"


def test_a_failing_operation_answers_its_caller_with_an_error_and_the_rest_go_on() -> None:
    result = run(request("fail", caller="orch-1", request_id="r1"), request("add", 3))
    (reply,) = [action for action in result.actions if isinstance(action, SendEventAction)]
    response = ResponseMessage.from_text(reply.data)
    assert response.exception_type == "Error" and json.loads(response.result or "") == "cannot do that"
    assert state_after(result).state == "3"


def test_delete_leaves_no_state() -> None:
    existing = SchedulerState()
    existing.exists, existing.state = True, "4"
    state = state_after(run(request("delete"), state=existing))
    assert not state.exists and state.state is None


def test_a_handler_that_breaks_fails_the_batch_so_its_messages_are_retried() -> None:
    def broken(payload: str) -> object:
        return "not json"

    entities = {"counter": SdkEntity("counter", broken)}
    started = ExecutionStarted(
        timestamp=T0,
        orchestration_instance=OrchestrationInstance(instance_id="@counter@k1", execution_id="e1"),
        name="@counter@k1",
    )
    with pytest.raises(Exception, match="valid JSON schema"):
        EntityExecutor(entities).execute([], [OrchestratorStarted(timestamp=T0), started, request("add", 1)])
