"""Orchestrations talking to entities: `call_entity`, `signal_entity` and critical sections (`lock`).

A call is an `op` request sent to the entity's instance (an EventSent in the
orchestration's history) whose reply comes back as an event named by the
request id. The request id and the sorter stamp (`Timestamp`, `Predecessor`)
are derived from the execution and the send's task id, not from the episode's
clock: an episode that runs again after a crash before its commit (its sends
may already be out) sends the very same requests, which the entity's sorter
drops as copies, and replay rebuilds them too. (The extension stamps with the
episode's clock, so a retried episode's signals are applied twice there.)
`new_uuid` is left alone, so an app's own ids are the SDK's.

Critical sections (.NET's `LockAsync`; not in the Python SDK): `lock` sends
one lock request through the sorted entities, each joins and forwards it, the
last one grants it. While the orchestration holds locks, only it may operate on
those entities, and it may call (not signal) them. Leaving the `with` block, or
the orchestration ending, releases them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from durable_azure import serialization
from durable_azure.entities import (
    LOCK_GRANTED,
    OPERATION_EVENT,
    RELEASE_EVENT,
    EntityId,
    OutgoingStamps,
    ReleaseMessage,
    RequestMessage,
    ResponseMessage,
    as_entity_id,
    encode_operation_input,
)
from durable_azure.errors import OrchestrationError
from durable_azure.orchestration.actions import SendEventAction
from durable_azure.orchestration.tasks import ExternalEventTask

if TYPE_CHECKING:
    from durable_azure.orchestration.context import DurableOrchestrationContext

_REQUEST_NAMESPACE = uuid.UUID("9e952959-5e33-4daf-827f-2fa12937b875")
"""The extension's namespace for deterministic request ids (GuidManager); the name differs (see above)."""


class EntityOperationFailedError(OrchestrationError):
    """A called entity operation raised; raised at the orchestrator's `yield`.

    `str(e)` is the operation's error message, as azure.durable_functions raises
    `Exception(message)` there; `entity_id`, `operation_name` and `error_type`
    say where it came from.
    """

    def __init__(self, message: str, *, entity_id: EntityId, operation_name: str, error_type: str | None) -> None:
        super().__init__(message)
        self.entity_id = entity_id
        self.operation_name = operation_name
        self.error_type = error_type


class LockingRulesViolationError(OrchestrationError):
    """An entity operation that a critical section forbids (.NET's LockingRulesViolationException)."""


class EntityCallTask(ExternalEventTask):
    """A `call_entity`: completes with the operation's result, or fails with EntityOperationFailedError."""

    def __init__(self, *, request_id: str, entity_id: EntityId, operation_name: str) -> None:
        super().__init__(name=request_id)
        self.entity_id = entity_id
        self.operation_name = operation_name

    def deliver_payload(self, payload_text: str | None) -> None:
        try:
            response = ResponseMessage.from_text(payload_text)
            if response.is_error:
                message = json.loads(response.result) if response.result else ""
                self.fail(
                    EntityOperationFailedError(
                        message if isinstance(message, str) else json.dumps(message),
                        entity_id=self.entity_id,
                        operation_name=self.operation_name,
                        error_type=response.exception_type,
                    )
                )
                return
            value = serialization.loads(response.result, self.expected_type)
        except Exception as error:  # a reply we cannot read fails this call, not the orchestration engine
            self.fail(error)
            return
        self.complete(value)


class CriticalSection:
    """The result of `yield context.lock(...)`: a context manager; leaving it releases the locks."""

    def __init__(self, context: DurableOrchestrationContext, request_id: str, entities: tuple[EntityId, ...]) -> None:
        self._context = context
        self.request_id = request_id
        self.entities = entities
        self.is_released = False

    def __enter__(self) -> CriticalSection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Send `release` to every locked entity (idempotent); the orchestration may lock again afterwards."""
        if self.is_released:
            return
        self.is_released = True
        sections = self._context._entity_state
        sections.section = None
        for entity in self.entities:
            message = ReleaseMessage(parent=self._context.instance_id, id=self.request_id)
            _send(self._context, entity, RELEASE_EVENT, message.to_text())


class LockTask(ExternalEventTask):
    """`lock`: completes with the CriticalSection once the last entity grants the lock."""

    def __init__(self, *, request_id: str, section: CriticalSection) -> None:
        super().__init__(name=request_id)
        self.section = section

    def deliver_payload(self, payload_text: str | None) -> None:
        response = ResponseMessage.from_text(payload_text)
        if response.result != LOCK_GRANTED:
            self.fail(OrchestrationError(f"unexpected reply to a lock request: {payload_text}"))
            return
        self.complete(self.section)


class EntityConversation:
    """Per-execution entity bookkeeping of a context: sorter stamps and the current critical section."""

    def __init__(self) -> None:
        self.stamps = OutgoingStamps()
        self.section: CriticalSection | None = None


def call_entity(
    context: DurableOrchestrationContext,
    entity_id: Any,
    operation_name: str,
    operation_input: Any = None,
    expected_type: type | None = None,
) -> EntityCallTask:
    entity = as_entity_id(entity_id)
    _check_operation(operation_name)
    _check_allowed(context, entity, is_signal=False)
    task_id = context._runtime.next_task_id()
    request = _request(context, task_id, entity, operation_name, operation_input, is_signal=False)
    _submit(context, task_id, entity, OPERATION_EVENT, request.to_text())
    task = EntityCallTask(request_id=request.id, entity_id=entity, operation_name=operation_name)
    task.expected_type = expected_type
    context._runtime.wait_for_event(task)
    return task


def signal_entity(
    context: DurableOrchestrationContext, entity_id: Any, operation_name: str, operation_input: Any = None
) -> None:
    entity = as_entity_id(entity_id)
    _check_operation(operation_name)
    _check_allowed(context, entity, is_signal=True)
    task_id = context._runtime.next_task_id()
    request = _request(context, task_id, entity, operation_name, operation_input, is_signal=True)
    _submit(context, task_id, entity, OPERATION_EVENT, request.to_text())


def lock(context: DurableOrchestrationContext, entity_ids: Iterable[Any]) -> LockTask:
    conversation = context._entity_state
    if conversation.section is not None:
        raise LockingRulesViolationError("this orchestration already holds locks; critical sections cannot nest")
    entities = tuple(sorted({as_entity_id(e) for e in entity_ids}, key=EntityId.get_scheduler_id))
    if not entities:
        raise ValueError("lock needs at least one entity")
    task_id = context._runtime.next_task_id()
    request_id = _request_id(context, task_id)
    section = CriticalSection(context, request_id, entities)
    conversation.section = section
    first = EntityId.get_scheduler_id(entities[0])
    timestamp, predecessor = conversation.stamps.stamp(first, _stamp_time(context, task_id))
    request = RequestMessage(
        id=request_id,
        parent=context.instance_id,
        parent_execution=context._execution_id,
        timestamp=timestamp,
        predecessor=predecessor,
        lockset=list(entities),
    )
    _submit(context, task_id, entities[0], OPERATION_EVENT, request.to_text())
    task = LockTask(request_id=request_id, section=section)
    context._runtime.wait_for_event(task)
    return task


def release_all(context: DurableOrchestrationContext) -> None:
    """The orchestration is ending: leave its critical section, if any (the extension does so too)."""
    section = context._entity_state.section
    if section is not None:
        section.release()


def _request(
    context: DurableOrchestrationContext,
    task_id: int,
    entity: EntityId,
    operation_name: str,
    operation_input: Any,
    *,
    is_signal: bool,
) -> RequestMessage:
    target = EntityId.get_scheduler_id(entity)
    timestamp, predecessor = context._entity_state.stamps.stamp(target, _stamp_time(context, task_id))
    return RequestMessage(
        id=_request_id(context, task_id),
        operation=operation_name,
        is_signal=is_signal,
        input=encode_operation_input(operation_input),
        parent=context.instance_id,
        parent_execution=context._execution_id,
        timestamp=timestamp,
        predecessor=predecessor,
    )


def _request_id(context: DurableOrchestrationContext, task_id: int) -> str:
    """The same for every run of this send: the instance, its execution and the send's task id."""
    return str(uuid.uuid5(_REQUEST_NAMESPACE, f"{context.instance_id}:{context._execution_id}:{task_id}"))


def _stamp_time(context: DurableOrchestrationContext, task_id: int) -> datetime:
    """The execution's start plus one microsecond per task: increasing, and the same in every run."""
    return context._runtime.started_at + timedelta(microseconds=task_id + 1)


def _send(context: DurableOrchestrationContext, entity: EntityId, name: str, data: str) -> None:
    _submit(context, context._runtime.next_task_id(), entity, name, data)


def _submit(context: DurableOrchestrationContext, task_id: int, entity: EntityId, name: str, data: str) -> None:
    action = SendEventAction(id=task_id, instance_id=EntityId.get_scheduler_id(entity), name=name, data=data)
    context._runtime.submit(action, None)


def _check_operation(operation_name: str) -> None:
    if not isinstance(operation_name, str) or not operation_name:
        raise ValueError("operationName must be a non-empty string")


def _check_allowed(context: DurableOrchestrationContext, entity: EntityId, *, is_signal: bool) -> None:
    section = context._entity_state.section
    if section is None or section.is_released:
        return
    if is_signal:
        if entity in section.entities:
            raise LockingRulesViolationError(f"cannot signal {entity} while holding its lock; call it instead")
    elif entity not in section.entities:
        raise LockingRulesViolationError(f"inside a critical section only locked entities may be called, not {entity}")
