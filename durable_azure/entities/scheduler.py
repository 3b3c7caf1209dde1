"""`EntityExecutor`: one batch of an entity, (history, new events) -> actions, as the worker runs orchestrations.

An entity is an instance `@name@key` whose "orchestrator" is this scheduler
(EXT `TaskEntityShim`). Each episode: read the scheduler state from the
generation's ExecutionStarted input, put the new requests in order (the
sorter), run every runnable operation on the entity function in one batch,
reply to callers, forward lock requests, and end with continue-as-new carrying
the new state, so stored history is always one short generation. A generation
with no requests to apply (the one continue-as-new starts) does nothing.

Pure like the orchestration executor: no I/O, clock or randomness; time comes
from OrchestratorStarted, request ids of signals sent from an entity are
derived from the execution id. It logs a failed operation (a batch never
replays, so each line is written once).
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable_azure.entities.entity_context import DurableEntityContext, EntitySignal
from durable_azure.entities.entity_id import EntityId
from durable_azure.entities.messages import (
    CONTINUE_EVENT,
    LOCK_GRANTED,
    MIN_TIME,
    OPERATION_EVENT,
    RELEASE_EVENT,
    ReleaseMessage,
    RequestMessage,
    ResponseMessage,
    continue_event_name,
    delivery_time,
    is_request_event,
    scheduled_event_name,
)
from durable_azure.entities.scheduler_state import REORDER_WINDOW, SchedulerState
from durable_azure.history import (
    ContinueAsNew,
    EventRaised,
    ExecutionStarted,
    HistoryEvent,
    OrchestrationStatus,
    OrchestratorCompleted,
    OrchestratorStarted,
)
from durable_azure.orchestration.actions import Action, CompleteOrchestrationAction, SendEventAction, history_event
from durable_azure.orchestration.outcome import ExecutionResult

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 5000
"""`maxEntityOperationBatchSize` outside the Consumption plan: operations per batch before yielding."""

EARLY_TOLERANCE = timedelta(milliseconds=100)
ORPHANED_LOCK_RELEASE = "fix-orphaned-lock"
"""The release id `clean_entity_storage` sends for a lock whose owner is gone (the extension's)."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What a batch entity returns: the entity after the batch, and each operation's result in order
    (`is_error`, JSON text: the result, or the error message as a JSON string)."""

    exists: bool
    state: str | None
    results: tuple[tuple[bool, str | None], ...]


class BatchEntity(ABC):
    """An entity that takes a whole batch in one call (an unmodified app's `Entity.create` handler, which the
    extension invokes once per batch), instead of one call per operation on a DurableEntityContext."""

    @abstractmethod
    def run_batch(
        self, entity: EntityId, exists: bool, state: str | None, operations: Sequence[RequestMessage]
    ) -> BatchOutcome:
        """Apply `operations` in order; raise only when the batch could not run at all (it is then retried)."""


EntityFunction = Callable[[DurableEntityContext], Any] | BatchEntity


class EntityFunctionNotFoundError(Exception):
    """No entity function of that name: every operation of the batch fails with this, the state is kept."""


@dataclass(slots=True)
class _Batch:
    """What one episode decides: the state after it, and the messages it sends."""

    state: SchedulerState
    now: datetime
    started_at: datetime  # the generation's start: signals are stamped from it, the same in a re-run batch
    sends: list[SendEventAction] = field(default_factory=list)
    last_stamp: dict[str, datetime] = field(default_factory=dict)  # per target, this batch's last signal stamp

    def send(self, instance_id: str, name: str, data: str | None, execution_id: str | None = None) -> None:
        self.sends.append(
            SendEventAction(
                id=len(self.sends), instance_id=instance_id, name=name, data=data, execution_id=execution_id
            )
        )


@dataclass(frozen=True, slots=True)
class EntityOptions:
    """host.json's entity settings: `maxEntityOperationBatchSize`, `entityMessageReorderWindowInMinutes`."""

    max_batch: int = DEFAULT_MAX_BATCH
    reorder_window: timedelta = REORDER_WINDOW


class EntityExecutor:
    """Runs the batches of one entity instance (same `execute` contract as `OrchestrationExecutor`)."""

    def __init__(self, entities: Mapping[str, EntityFunction], options: EntityOptions | None = None) -> None:
        self._entities = entities  # by lower-cased name
        self._options = options or EntityOptions()

    def execute(self, history: Sequence[HistoryEvent], new_events: Sequence[HistoryEvent]) -> ExecutionResult:
        started = _execution_started(history, new_events)
        now = next((e.timestamp for e in reversed(new_events) if isinstance(e, OrchestratorStarted)), started.timestamp)
        incoming = [event for event in new_events if isinstance(event, EventRaised)]
        state = SchedulerState.from_text(started.input)
        if not incoming:  # the generation continue-as-new starts: its queue waits for the next request or `continue`
            closing = (*new_events, OrchestratorCompleted(timestamp=now))
            return ExecutionResult(
                actions=(), new_history=closing, status=OrchestrationStatus.Running, custom_status=state.status_text()
            )
        batch = _Batch(state, now, started.timestamp)
        waiting_before = state.sorter.next_release(self._options.reorder_window)
        entity = EntityId.get_entity_id(started.orchestration_instance.instance_id)
        scheduler_id = started.orchestration_instance.instance_id
        execution_id = started.orchestration_instance.execution_id or ""
        for event in incoming:
            self._receive(batch, scheduler_id, event)
        state.queue += state.sorter.release_expired(now, self._options.reorder_window)
        self._run_queue(batch, entity, scheduler_id, execution_id)
        state.sorter.forget_idle(now, self._options.reorder_window)
        wake_at = state.sorter.next_release(self._options.reorder_window)
        if wake_at is not None and wake_at != waiting_before:
            # A request waits for its predecessor: wake up when it may go on anyway, even if nothing else comes.
            batch.send(scheduler_id, continue_event_name(wake_at), None)
        new_input = state.to_text()
        end = CompleteOrchestrationAction(status=OrchestrationStatus.ContinuedAsNew, new_input=new_input)
        actions: tuple[Action, ...] = (*batch.sends, end)
        new_history = (
            *new_events,
            *(history_event(send, now) for send in batch.sends),
            OrchestratorCompleted(timestamp=now),
            ContinueAsNew(timestamp=now, result=new_input),
        )
        return ExecutionResult(
            actions=actions,
            new_history=new_history,
            status=OrchestrationStatus.ContinuedAsNew,
            custom_status=state.status_text(),
        )

    # -- receiving --

    def _receive(self, batch: _Batch, scheduler_id: str, event: EventRaised) -> None:
        state = batch.state
        if is_request_event(event.name):
            try:
                request = RequestMessage.from_text(event.input)
            except ValueError as error:
                _log_unreadable(scheduler_id, event, error)  # nothing to apply, nobody to answer
                return
            if request.due is not None and request.due > batch.now + EARLY_TOLERANCE:
                delivery = delivery_time(request.due, batch.now)
                batch.send(scheduler_id, scheduled_event_name(delivery), request.to_text())
                return
            state.queue += state.sorter.receive(request, batch.now, self._options.reorder_window)
        elif event.name == RELEASE_EVENT:
            try:
                release = ReleaseMessage.from_text(event.input)
            except ValueError as error:
                _log_unreadable(scheduler_id, event, error)
                return
            # The lock ends only for the section it was taken for: a release delivered late or twice, after the
            # same orchestration locked again, is ignored. `clean_entity_storage`'s repair names no lock id.
            matches = state.lock_id is None or release.id in (state.lock_id, ORPHANED_LOCK_RELEASE)
            if state.locked_by is not None and state.locked_by == release.parent and matches:
                state.locked_by = state.lock_id = None
            # A release that overtook its lock request (the owner ended while waiting): drop the request.
            state.queue = [m for m in state.queue if not (m.is_lock_request and m.id == release.id)]
        elif event.name == CONTINUE_EVENT or event.name.startswith(CONTINUE_EVENT + "@"):
            state.suspended = False
        else:
            logger.warning("entity.event_ignored entity=%s event=%s: not an entity message", scheduler_id, event.name)

    # -- running --

    def _run_queue(self, batch: _Batch, entity: EntityId, scheduler_id: str, execution_id: str) -> None:
        state = batch.state
        state.suspended = False  # no batch waits for its `continue`: a lost one must not stall the entity
        context = DurableEntityContext(entity.name, entity.key, state.exists, state.state)
        function = self._entities.get(entity.name.lower())
        done = 0
        operations: list[RequestMessage] = []  # for a batch entity: run together, before the next lock request
        while state.queue:
            index = _next_runnable(state)
            if index is None:
                break
            if done >= self._options.max_batch:  # yield; the `continue` to self (or any request) goes on
                batch.send(scheduler_id, CONTINUE_EVENT, None)
                break
            request = state.queue.pop(index)
            if request.is_lock_request:
                self._run_batch_entity(batch, function, entity, scheduler_id, operations)
                self._lock(batch, request)
                continue
            if isinstance(function, BatchEntity):
                operations.append(request)
            else:
                self._run_operation(batch, context, function, entity, scheduler_id, execution_id, request)
            done += 1
        if isinstance(function, BatchEntity):
            self._run_batch_entity(batch, function, entity, scheduler_id, operations)
        else:
            state.exists, state.state = context._committed_state

    def _run_batch_entity(
        self,
        batch: _Batch,
        function: EntityFunction | None,
        entity: EntityId,
        scheduler_id: str,
        operations: list[RequestMessage],
    ) -> None:
        """One call for the operations gathered so far; each caller gets its own result (EXT out-of-proc)."""
        if not operations or not isinstance(function, BatchEntity):
            return
        state = batch.state
        try:
            outcome = function.run_batch(entity, state.exists, state.state, list(operations))
            if len(outcome.results) != len(operations):
                raise ValueError(f"{len(outcome.results)} results for {len(operations)} operations")
        except Exception as error:
            # The batch is retried with backoff (the extension aborts it too); if it keeps failing its messages
            # end up in the poison queue. Say which operations, so the loss is never silent.
            logger.error(
                "entity.batch_failed entity=%s operations=%s error=%r: retried, then set aside as poison",
                scheduler_id,
                [request.operation for request in operations],
                error,
            )
            raise
        state.exists, state.state = outcome.exists, outcome.state if outcome.exists else None
        for request, (is_error, result) in zip(operations, outcome.results, strict=True):
            if is_error:
                logger.warning(
                    "entity.operation_failed entity=%s operation=%s signal=%s error=%s",
                    scheduler_id,
                    request.operation,
                    request.is_signal,
                    result,
                )
            if not request.is_signal and request.parent is not None:
                response = ResponseMessage(result, "Error" if is_error else None)
                batch.send(request.parent, request.id, response.to_text(), request.parent_execution)
        operations.clear()

    def _run_operation(
        self,
        batch: _Batch,
        context: DurableEntityContext,
        function: Callable[[DurableEntityContext], Any] | None,
        entity: EntityId,
        scheduler_id: str,
        execution_id: str,
        request: RequestMessage,
    ) -> None:
        context._begin(request.operation or "", request.input)
        try:
            if function is None:
                raise EntityFunctionNotFoundError(f"The entity function '{entity.name}' is not registered in this app")
            returned = function(context)
            if inspect.isawaitable(returned) or inspect.isgenerator(returned):
                _close(returned)
                raise TypeError(
                    f"entity function '{entity.name}' returned {type(returned).__name__}: it must not await"
                )
            result_text, signals = context._commit()
            response = ResponseMessage(result_text)
        except Exception as error:  # the operation fails alone: its caller sees it, the entity goes on
            response = ResponseMessage(json.dumps(str(error) or type(error).__name__), type(error).__name__)
            signals = []
            logger.warning(
                "entity.operation_failed entity=%s operation=%s signal=%s error=%s: %s",
                scheduler_id,
                request.operation,
                request.is_signal,
                type(error).__name__,
                error,
            )
        for signal in signals:
            self._send_signal(batch, scheduler_id, execution_id, signal)
        if not request.is_signal and request.parent is not None:
            batch.send(request.parent, request.id, response.to_text(), request.parent_execution)

    def _send_signal(self, batch: _Batch, scheduler_id: str, execution_id: str, signal: EntitySignal) -> None:
        # Stamped from the generation and the send's index, not the clock: a batch that runs again after a
        # crash before its commit sends the same requests, which the receiver drops as copies. Each generation
        # is a new execution for the receiver's sorter, so the sequence starts again with every batch.
        target = EntityId.get_scheduler_id(signal.target)
        timestamp = batch.started_at + timedelta(microseconds=len(batch.sends) + 1)
        predecessor = batch.last_stamp.get(target, MIN_TIME)
        batch.last_stamp[target] = timestamp
        request = RequestMessage(
            id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"{scheduler_id}:{execution_id}:{len(batch.sends)}")),
            operation=signal.operation,
            is_signal=True,
            input=signal.input,
            parent=scheduler_id,
            parent_execution=execution_id,
            timestamp=timestamp,
            predecessor=predecessor,
        )
        batch.send(target, OPERATION_EVENT, request.to_text())

    def _lock(self, batch: _Batch, request: RequestMessage) -> None:
        """This entity joins the caller's critical section; forward to the next entity or grant it."""
        if request.lockset is None or request.parent is None or request.position >= len(request.lockset):
            logger.warning("entity.lock_ignored id=%s: a lock request without an owner or lock set", request.id)
            return  # nobody to grant it to: locking would hold the entity forever
        batch.state.locked_by = request.parent
        batch.state.lock_id = request.id
        request.position += 1
        if request.position < len(request.lockset):
            next_entity = EntityId.get_scheduler_id(request.lockset[request.position])
            batch.send(next_entity, OPERATION_EVENT, request.to_text())
        else:
            grant = ResponseMessage(LOCK_GRANTED)
            batch.send(request.parent, request.id, grant.to_text(), request.parent_execution)


def _next_runnable(state: SchedulerState) -> int | None:
    """The queue position of the next request allowed to run: any while unlocked, else the owner's first."""
    if state.locked_by is None:
        return 0
    return next((i for i, m in enumerate(state.queue) if m.parent == state.locked_by), None)


def _close(returned: object) -> None:
    close = getattr(returned, "close", None)
    if callable(close):
        close()


def _log_unreadable(scheduler_id: str, event: EventRaised, error: Exception) -> None:
    logger.warning("entity.message_unreadable entity=%s event=%s error=%s", scheduler_id, event.name, error)


def _execution_started(history: Sequence[HistoryEvent], new_events: Sequence[HistoryEvent]) -> ExecutionStarted:
    for event in (*history, *new_events):
        if isinstance(event, ExecutionStarted):
            return event
    raise ValueError("an entity batch needs its ExecutionStarted")
