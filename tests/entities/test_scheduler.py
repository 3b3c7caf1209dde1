"""The entity scheduler fed histories, as the orchestration engine's unit tests are: no storage, no worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from durable_azure.entities import (
    LOCK_GRANTED,
    DurableEntityContext,
    EntityExecutor,
    EntityId,
    EntityOptions,
    RequestMessage,
    ResponseMessage,
    SchedulerState,
    encode_operation_input,
)
from durable_azure.errors import ConfigurationError
from durable_azure.history import (
    ContinueAsNew,
    EventRaised,
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
)
from durable_azure.orchestration import CompleteOrchestrationAction, SendEventAction
from durable_azure.worker.registry import Registry

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
ENTITY = "@counter@k1"


def counter(context: DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(value + context.get_input())
    elif context.operation_name == "get":
        context.set_result(value)
    elif context.operation_name == "fail_after_add":
        context.set_state(value + 1000)
        raise ValueError("no")
    elif context.operation_name == "delete":
        context.destruct_on_exit()
    elif context.operation_name == "echo":
        context.set_result(context.get_input())
    elif context.operation_name == "notify":
        context.signal_entity(EntityId("Counter", "other"), "add", 1)
        context.set_state(value)


ENTITIES = {"counter": counter}


def started(state: SchedulerState | None = None) -> ExecutionStarted:
    return ExecutionStarted(
        timestamp=T0,
        orchestration_instance=OrchestrationInstance(instance_id=ENTITY, execution_id="e1"),
        name=ENTITY,
        input=state.to_text() if state else None,
    )


def request(operation: str, value: Any = None, **fields: Any) -> EventRaised:
    fields.setdefault("id", f"id-{operation}-{value}")
    message = RequestMessage(operation=operation, input=encode_operation_input(value), **fields)
    return EventRaised(timestamp=T0, name="op", input=message.to_text())


def run(events: list[HistoryEvent], state: SchedulerState | None = None, **options: Any):
    executor = EntityExecutor(ENTITIES, EntityOptions(**options))
    return executor.execute([], [OrchestratorStarted(timestamp=T0), started(state), *events])


def new_state(result: Any) -> SchedulerState:
    end = result.actions[-1]
    assert isinstance(end, CompleteOrchestrationAction)
    assert end.status == OrchestrationStatus.ContinuedAsNew
    assert isinstance(result.new_history[-1], ContinueAsNew)
    return SchedulerState.from_text(end.new_input)


def sends(result: Any) -> list[SendEventAction]:
    return [action for action in result.actions if isinstance(action, SendEventAction)]


def test_a_batch_applies_every_operation_and_continues_as_new_with_the_state() -> None:
    result = run(
        [request("add", 1, is_signal=True), request("add", 2, is_signal=True), request("add", 3, is_signal=True)]
    )
    state = new_state(result)
    assert state.exists is True and state.state == "6"
    assert json.loads(result.custom_status) == {"entityExists": True}
    assert sends(result) == []


def test_a_call_is_answered_to_the_callers_execution_with_the_result() -> None:
    result = run([request("add", 5, is_signal=True), request("get", parent="orch", parent_execution="x1", id="r1")])
    (reply,) = sends(result)
    assert (reply.instance_id, reply.name, reply.execution_id) == ("orch", "r1", "x1")
    assert ResponseMessage.from_text(reply.data) == ResponseMessage("5")


def test_a_failing_operation_is_rolled_back_and_only_its_caller_sees_the_error() -> None:
    events = [
        request("add", 1, is_signal=True),
        request("fail_after_add", parent="orch", id="bad"),
        request("add", 2, is_signal=True),
    ]
    result = run(events)
    assert new_state(result).state == "3"
    (reply,) = sends(result)
    response = ResponseMessage.from_text(reply.data)
    assert response.is_error and response.exception_type == "ValueError" and json.loads(response.result) == "no"


def test_one_senders_requests_are_put_back_in_order_and_a_copy_is_dropped() -> None:
    t1, t2, t3 = T0, T0 + timedelta(microseconds=1), T0 + timedelta(microseconds=2)
    first = request("echo", "a", parent="s", id="1", timestamp=t1)
    second = request("echo", "b", parent="s", id="2", timestamp=t2, predecessor=t1)
    third = request("echo", "c", parent="s", id="3", timestamp=t3, predecessor=t2)
    result = run([third, second, first, second])  # reversed, and the second delivered twice
    assert [send.name for send in sends(result)] == ["1", "2", "3"]


def test_a_request_whose_predecessor_has_not_come_waits_in_the_sorter() -> None:
    later = request("add", 5, parent="s", id="2", timestamp=T0 + timedelta(seconds=1), predecessor=T0, is_signal=True)
    state = new_state(run([later]))
    assert state.exists is False  # not applied yet
    earlier = request("add", 1, parent="s", id="1", timestamp=T0, is_signal=True)
    state = new_state(run([earlier], state))
    assert state.state == "6"


def test_a_locked_entity_runs_only_its_owners_requests_until_released() -> None:
    lock = RequestMessage(id="L", parent="owner", parent_execution="x", lockset=[EntityId("counter", "k1")])
    locked = run([EventRaised(timestamp=T0, name="op", input=lock.to_text())])
    (grant,) = sends(locked)
    assert (grant.instance_id, grant.name) == ("owner", "L")
    assert ResponseMessage.from_text(grant.data).result == LOCK_GRANTED
    state = new_state(locked)
    assert state.locked_by == "owner"
    state = new_state(
        run(
            [request("add", 1, parent="other", is_signal=True), request("add", 10, parent="owner", is_signal=True)],
            state,
        )
    )
    assert state.state == "10" and len(state.queue) == 1  # the other sender waits
    release = EventRaised(timestamp=T0, name="release", input=json.dumps({"parent": "owner", "id": "L"}))
    state = new_state(run([release], state))
    assert state.locked_by is None and state.state == "11" and state.queue == []


def test_a_lock_over_several_entities_is_forwarded_to_the_next_one() -> None:
    lockset = [EntityId("counter", "k1"), EntityId("counter", "k2")]
    lock = RequestMessage(id="L", parent="owner", lockset=lockset)
    (forward,) = sends(run([EventRaised(timestamp=T0, name="op", input=lock.to_text())]))
    assert forward.instance_id == "@counter@k2" and forward.name == "op"
    assert RequestMessage.from_text(forward.data).position == 1


def test_a_capped_batch_yields_and_resumes_on_its_continue_message() -> None:
    events = [request("add", 1, is_signal=True, id=str(i)) for i in range(5)]
    result = run(events, max_batch=2)
    state = new_state(result)
    assert state.state == "2" and len(state.queue) == 3
    assert [(s.instance_id, s.name) for s in sends(result)] == [(ENTITY, "continue")]
    state = new_state(run([EventRaised(timestamp=T0, name="continue")], state, max_batch=10))
    assert state.state == "5" and state.queue == []


def test_a_request_that_arrives_early_is_sent_again_for_its_due_time() -> None:
    due = T0 + timedelta(hours=1)
    result = run([request("add", 1, is_signal=True, due=due)])
    (again,) = sends(result)
    assert again.instance_id == ENTITY and again.name == "op@2026-05-01T11:00:00.0000000Z"
    assert new_state(result).exists is False


def test_an_unknown_entity_function_fails_each_call_and_keeps_the_state() -> None:
    executor = EntityExecutor({})
    result = executor.execute([], [OrchestratorStarted(timestamp=T0), started(), request("get", parent="o", id="r")])
    (reply,) = sends(result)
    assert ResponseMessage.from_text(reply.data).is_error
    assert "not registered" in json.loads(ResponseMessage.from_text(reply.data).result)


@pytest.mark.parametrize(
    ("stored", "expected"), [(encode_operation_input({"a": 1}), {"a": 1}), ('{"a":1}', {"a": 1}), ('"x"', "x")]
)
def test_inputs_written_by_python_callers_and_by_dotnet_callers_both_read_back(stored: str, expected: Any) -> None:
    message = RequestMessage(id="r", operation="echo", input=stored, parent="o")
    result = run([EventRaised(timestamp=T0, name="op", input=message.to_text())])
    assert json.loads(ResponseMessage.from_text(sends(result)[0].data).result) == expected


def test_a_signal_without_input_reads_none() -> None:
    message = RequestMessage(id="r", operation="echo", parent="o")
    result = run([EventRaised(timestamp=T0, name="op", input=message.to_text())])
    assert ResponseMessage.from_text(sends(result)[0].data) == ResponseMessage("null")


def test_delete_leaves_no_state_and_a_later_operation_creates_it_again() -> None:
    state = new_state(run([request("add", 4, is_signal=True), request("delete", is_signal=True)]))
    assert state.exists is False and state.state is None
    state = new_state(run([request("add", 1, is_signal=True)], state))
    assert state.state == "1"


def test_an_entity_signals_another_entity_only_when_its_operation_succeeds() -> None:
    result = run([request("notify", is_signal=True)])
    (signal,) = sends(result)
    assert signal.instance_id == "@counter@other"
    sent = RequestMessage.from_text(signal.data)
    assert sent.operation == "add" and sent.is_signal and sent.parent == ENTITY


def test_a_generation_with_nothing_to_apply_does_nothing() -> None:
    result = EntityExecutor(ENTITIES).execute([], [OrchestratorStarted(timestamp=T0), started()])
    assert result.status == OrchestrationStatus.Running and result.actions == ()


def test_an_async_entity_function_is_refused_when_the_app_is_loaded() -> None:
    async def counter(context: DurableEntityContext) -> None:
        return None

    with pytest.raises(ConfigurationError, match="plain function"):
        Registry(entities={"counter": counter})


def test_scheduler_state_round_trips_the_extensions_json() -> None:
    text = '{"exists":true,"state":"5","sorter":{}}'
    state = SchedulerState.from_text(text)
    assert (state.exists, state.state) == (True, "5")
    assert state.to_text() == text


def test_signals_from_successive_executions_of_one_sender_are_all_applied() -> None:
    """continue_as_new runs the next execution in the same episode: its stamps may repeat the last one's."""
    events = [
        request(
            "add", 1, is_signal=True, parent="o", parent_execution=f"x{n}", timestamp=T0 + timedelta(microseconds=1)
        )
        for n in range(5)
    ]
    assert new_state(run(events)).state == "5"


def test_a_request_waiting_for_its_predecessor_wakes_the_entity_and_goes_on_after_the_window() -> None:
    stamp = T0 - timedelta(days=2)  # the sender's stamps are its own sequence: no clock this side compares
    later = request("add", 5, parent="s", id="2", timestamp=stamp, predecessor=stamp - timedelta(seconds=1))
    result = run([later, request("add", 1, is_signal=True)])
    state = new_state(result)
    assert state.state == "1"  # the waiting one is not applied yet
    (wake,) = [s for s in sends(result) if s.instance_id == ENTITY]
    assert wake.name == "continue@2026-05-01T10:30:00.0000000Z"
    executor = EntityExecutor(ENTITIES)
    woken = executor.execute(
        [],
        [
            OrchestratorStarted(timestamp=T0 + timedelta(minutes=30)),
            started(state),
            EventRaised(timestamp=T0, name=wake.name),
        ],
    )
    assert new_state(woken).state == "6"


def test_a_late_release_of_an_earlier_section_does_not_end_the_current_one() -> None:
    def lock(request_id: str) -> EventRaised:
        message = RequestMessage(id=request_id, parent="owner", lockset=[EntityId("counter", "k1")])
        return EventRaised(timestamp=T0, name="op", input=message.to_text())

    def release(request_id: str) -> EventRaised:
        return EventRaised(timestamp=T0, name="release", input=json.dumps({"parent": "owner", "id": request_id}))

    state = new_state(run([lock("L2")]))
    state = new_state(run([release("L1")], state))  # the first section's release, delivered late
    assert (state.locked_by, state.lock_id) == ("owner", "L2")
    state = new_state(run([release("L2")], state))
    assert state.locked_by is None


def test_a_release_that_overtakes_its_lock_request_drops_the_request() -> None:
    other = RequestMessage(id="L0", parent="first", lockset=[EntityId("counter", "k1")])
    waiting = RequestMessage(id="L1", parent="gone", lockset=[EntityId("counter", "k1")])
    state = new_state(run([EventRaised(timestamp=T0, name="op", input=m.to_text()) for m in (other, waiting)]))
    assert state.locked_by == "first" and [m.id for m in state.queue] == ["L1"]
    gone = EventRaised(timestamp=T0, name="release", input=json.dumps({"parent": "gone", "id": "L1"}))
    first = EventRaised(timestamp=T0, name="release", input=json.dumps({"parent": "first", "id": "L0"}))
    state = new_state(run([gone, first], state))
    assert state.locked_by is None and state.queue == []  # not locked by an orchestration that ended


def test_a_lock_request_without_an_owner_is_ignored_and_the_entity_goes_on() -> None:
    broken = RequestMessage(id="L", lockset=[EntityId("counter", "k1")])
    state = new_state(
        run([EventRaised(timestamp=T0, name="op", input=broken.to_text()), request("add", 2, is_signal=True)])
    )
    assert state.locked_by is None and state.state == "2"


def test_a_message_the_entity_cannot_read_is_logged_not_dropped_silently(caplog: pytest.LogCaptureFixture) -> None:
    events = [
        EventRaised(timestamp=T0, name="op", input="not json"),
        EventRaised(timestamp=T0, name="Approval", input='"yes"'),  # raise_event aimed at an entity by mistake
        request("add", 1, is_signal=True),
    ]
    with caplog.at_level("WARNING"):
        state = new_state(run(events))
    assert state.state == "1"
    assert "entity.message_unreadable entity=@counter@k1 event=op" in caplog.text
    assert "entity.event_ignored entity=@counter@k1 event=Approval" in caplog.text
