"""Replies the SDK may send, hand-written: every schema, failures with and without their state, bad replies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from durable_azure.history import ExecutionStarted, OrchestrationInstance, OrchestrationStatus, OrchestratorStarted
from durable_azure.orchestration import ExecutionResult, ScheduleTaskAction, SendEventAction
from durable_azure.protocol import ProtocolOrchestrationExecutor, SdkOrchestrator
from durable_azure.protocol.payload import timespan_text
from durable_azure.protocol.replies import ProtocolError, parse_reply, reply_from_failure
from tests.protocol.driver import at

ACTIVITY = {"actionType": 0, "functionName": "act", "input": '"x"'}
SIGNAL = {"actionType": 9, "instanceId": "@counter@k", "operation": "add", "input": "1"}


def first_episode(handle: Callable[[str], object]) -> ExecutionResult:
    started = ExecutionStarted(
        timestamp=at(0), orchestration_instance=OrchestrationInstance(instance_id="i", execution_id="e"), name="o"
    )
    executor = ProtocolOrchestrationExecutor({"o": SdkOrchestrator("o", handle)})
    return executor.execute([], [OrchestratorStarted(timestamp=at(0)), started])


def test_schema_v1_runs_each_inner_list_as_one_yield() -> None:
    reply = {"isDone": False, "actions": [[ACTIVITY, {**ACTIVITY, "functionName": "other"}], [SIGNAL]]}
    result = first_episode(lambda payload: json.dumps(reply))
    assert [type(action) for action in result.actions] == [ScheduleTaskAction, ScheduleTaskAction]
    # The second list waits for the first one's yield: the signal is not sent yet.
    assert not any(isinstance(action, SendEventAction) for action in result.actions)


def test_schema_v2_walks_fire_and_forget_actions_without_waiting() -> None:
    reply = {"isDone": False, "schemaVersion": 1, "actions": [[SIGNAL, ACTIVITY]]}
    result = first_episode(lambda payload: json.dumps(reply))
    assert [type(action) for action in result.actions] == [SendEventAction, ScheduleTaskAction]


def test_a_failure_carrying_its_state_still_sends_what_was_scheduled_before_it() -> None:
    state = {"isDone": False, "schemaVersion": 2, "actions": [[SIGNAL]], "error": "bad input"}

    def handle(payload: str) -> object:
        raise Exception(f"bad input\n\n$OutOfProcData$:{json.dumps(state)}")

    result = first_episode(handle)
    assert isinstance(result.actions[0], SendEventAction)
    assert result.status is OrchestrationStatus.Failed
    assert json.loads(result.output or "") == "Orchestrator function 'o' failed: bad input"


def test_a_failure_without_state_fails_with_its_whole_text_and_sends_nothing() -> None:
    def handle(payload: str) -> object:
        raise RuntimeError("the SDK broke")

    result = first_episode(handle)
    assert result.status is OrchestrationStatus.Failed
    assert len(result.actions) == 1  # the completion only
    assert "the SDK broke" in json.loads(result.output or "")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("not json", "valid JSON schema"),
        (json.dumps([1]), "valid JSON schema"),
        (json.dumps({"isDone": False, "actions": [[{"actionType": 99}]]}), "unexpected action type '99'"),
        (json.dumps({"isDone": False, "schemaVersion": 1, "actions": [[], []]}), "expects one list"),
    ],
)
def test_a_reply_outside_the_protocol_fails_the_orchestration_naming_the_problem(reply: str, message: str) -> None:
    result = first_episode(lambda payload: reply)
    assert result.status is OrchestrationStatus.Failed
    assert message in json.loads(result.output or "")


def test_parse_reply_keeps_a_falsy_output_and_knows_when_custom_status_was_sent() -> None:
    parsed = parse_reply(json.dumps({"isDone": True, "schemaVersion": 2, "actions": [[]], "output": False}))
    assert parsed.is_done and parsed.output is False and not parsed.has_custom_status
    with pytest.raises(ProtocolError):
        parse_reply(json.dumps({"isDone": True, "schemaVersion": 7, "actions": []}))


def test_reply_from_failure_reads_the_label_and_falls_back_to_the_text() -> None:
    state = json.dumps({"isDone": False, "schemaVersion": 2, "actions": [[ACTIVITY]], "error": "x"})
    assert reply_from_failure(Exception(f"x\n\n$OutOfProcData$:{state}")).error == "x"
    assert reply_from_failure(Exception("plain")).raw_error == "plain"


def test_timespans_are_dotnet_text() -> None:
    assert timespan_text(timedelta(days=3)) == "3.00:00:00"
    assert timespan_text(timedelta(hours=1, seconds=5, microseconds=250)) == "01:00:05.0002500"
