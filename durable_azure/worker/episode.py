"""One episode of one instance: triage a batch, run the engine, commit.

Commit order is DTFx's, because it is what makes a crash at any point safe:

1. send the outbound messages (activity requests, timers, events, child starts);
2. append the new history rows, guarded by the sentinel row's ETag: this is the
   commit point; a conflict means another worker owns the instance now, so we
   abandon and let the messages come back;
3. update the Instances row (the query side);
4. delete the consumed messages.

A crash before 2 re-runs the episode from the same messages, re-sending
duplicates the receivers drop; a crash after 2 redelivers messages that triage
then sees as duplicates, and the Instances row is repaired from history.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from durable_azure.azure_storage import ReceivedMessage, TaskHub
from durable_azure.errors import ConcurrencyConflictError
from durable_azure.history import (
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
)
from durable_azure.orchestration import (
    CompleteOrchestrationAction,
    ExecutionResult,
    OrchestrationExecutor,
    OrchestrationState,
)
from durable_azure.worker.instance_cache import CachedInstance, InstanceCache
from durable_azure.worker.outbound import EpisodeContext, OutboundMessage, build_outbound
from durable_azure.worker.registry import Registry
from durable_azure.worker.triage import Triage, triage

logger = logging.getLogger(__name__)

MAX_CONTINUE_AS_NEW_PER_EPISODE = 100


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff_delay(dequeue_count: int) -> float:
    """DTFx's abandon backoff: 2^n seconds (n = dequeues so far, first retry 1 s), at most 10 minutes."""
    return float(min(600, 2 ** max(0, min(dequeue_count - 1, 10))))


@dataclass(slots=True)
class _Loaded:
    events: list[HistoryEvent]
    etag: str | None
    executor: OrchestrationExecutor | None


class EpisodeRunner:
    def __init__(
        self,
        hub: TaskHub,
        registry: Registry,
        cache: InstanceCache,
        *,
        clock: Callable[[], datetime] = utc_now,
    ):
        self._hub = hub
        self._registry = registry
        self._cache = cache
        self._clock = clock

    async def run(self, instance_id: str, messages: list[ReceivedMessage]) -> None:
        """Process one batch of messages for one instance. Never runs concurrently for the same instance."""
        loaded = await self._load(instance_id)
        state = OrchestrationState(loaded.events)
        decision = triage(instance_id, state, messages)
        if decision.not_started:
            await self._sort_not_started(instance_id, decision)
        if not decision.has_work:
            await self._finish_without_episode(instance_id, state, decision)
            return
        try:
            await self._run_episode(instance_id, loaded, decision)
        except ConcurrencyConflictError:
            self._cache.evict(instance_id)
            logger.warning("history.conflict instance=%s: another worker wrote it; abandoning", instance_id)
            await self._abandon(decision.accepted + ([decision.start] if decision.start else []))
            await self._abandon(decision.defer)
        except BaseException:
            self._cache.evict(instance_id)
            raise

    async def _sort_not_started(self, instance_id: str, decision: Triage) -> None:
        """Messages for an instance with no execution: wait for its start if it exists, else drop them."""
        record = await self._hub.instances.get(instance_id, include_input=False)
        if record is None:
            for message in decision.not_started:
                logger.info(
                    "message.discarded instance=%s event=%s reason=no such instance",
                    instance_id,
                    type(message.data.event).__name__,
                )
            decision.delete.extend(decision.not_started)
        else:
            decision.defer.extend(decision.not_started)
        decision.not_started.clear()

    async def _load(self, instance_id: str) -> _Loaded:
        cached = self._cache.get(instance_id)
        if cached is not None:
            return _Loaded(cached.events, cached.etag, cached.executor)
        history = await self._hub.history.load(instance_id)
        return _Loaded(list(history.events), history.etag, None)

    async def _run_episode(self, instance_id: str, loaded: _Loaded, decision: Triage) -> None:
        now = self._clock()
        new_events = [OrchestratorStarted(timestamp=now)]
        if decision.start is not None:
            new_events.append(decision.start.data.event)
            base: list[HistoryEvent] = []
            executor = OrchestrationExecutor(self._registry.orchestrators)
        else:
            base = loaded.events
            executor = loaded.executor or OrchestrationExecutor(self._registry.orchestrators)
        new_events.extend(message.data.event for message in decision.accepted)
        result = executor.execute(base, new_events)
        history = [*base, *result.new_history]
        start_index = len(base)
        outbound = self._outbound(instance_id, history, result, now)
        for _ in range(MAX_CONTINUE_AS_NEW_PER_EPISODE):
            if result.status != OrchestrationStatus.ContinuedAsNew:
                break
            executor, result = self._continue_as_new(history, result, now)
            history = list(result.new_history)
            start_index = 0
            outbound += self._outbound(instance_id, history, result, now)
        started = _execution_started(history)
        etag = await self._commit(instance_id, started, history, start_index, loaded.etag, result, outbound, now)
        await self._delete(decision.delete + decision.accepted + ([decision.start] if decision.start else []))
        await self._abandon(decision.defer)
        self._remember(instance_id, started, executor, history, etag, result)

    def _continue_as_new(
        self, history: list[HistoryEvent], result: ExecutionResult, now: datetime
    ) -> tuple[OrchestrationExecutor, ExecutionResult]:
        previous = _execution_started(history)
        action = next(a for a in result.actions if isinstance(a, CompleteOrchestrationAction))
        start = ExecutionStarted(
            timestamp=now,
            orchestration_instance=OrchestrationInstance(
                instance_id=previous.orchestration_instance.instance_id, execution_id=uuid.uuid4().hex
            ),
            parent_instance=previous.parent_instance,
            name=previous.name,
            version=previous.version,
            input=action.new_input,
            tags=previous.tags,
            generation=previous.generation,
        )
        executor = OrchestrationExecutor(self._registry.orchestrators)
        events = [OrchestratorStarted(timestamp=now), start, *action.carryover_events]
        return executor, executor.execute([], events)

    def _outbound(
        self, instance_id: str, history: list[HistoryEvent], result: ExecutionResult, now: datetime
    ) -> list[OutboundMessage]:
        started = _execution_started(history)
        context = EpisodeContext(
            instance=OrchestrationInstance(
                instance_id=instance_id, execution_id=started.orchestration_instance.execution_id
            ),
            started=started,
            episode=sum(isinstance(event, OrchestratorStarted) for event in history),
            now=now,
        )
        return build_outbound(self._hub, result, context)

    async def _commit(
        self,
        instance_id: str,
        started: ExecutionStarted,
        history: list[HistoryEvent],
        start_index: int,
        etag: str | None,
        result: ExecutionResult,
        outbound: list[OutboundMessage],
        now: datetime,
    ) -> str:
        await asyncio.gather(
            *(message.queue.send(message.data, visibility_delay=message.visibility_delay) for message in outbound)
        )
        execution_id = started.orchestration_instance.execution_id or ""
        new_etag = await self._hub.history.append(
            instance_id,
            execution_id=execution_id,
            start_index=start_index,
            events=history[start_index:],
            etag=etag,
        )
        columns = _instance_columns(started, result, now, is_new_execution=start_index == 0)
        await self._hub.instances.update(instance_id, **columns)
        return new_etag

    def _remember(
        self,
        instance_id: str,
        started: ExecutionStarted,
        executor: OrchestrationExecutor,
        history: list[HistoryEvent],
        etag: str,
        result: ExecutionResult,
    ) -> None:
        if result.is_done:
            self._cache.evict(instance_id)
            return
        execution_id = started.orchestration_instance.execution_id or ""
        self._cache.put(
            instance_id, CachedInstance(executor=executor, execution_id=execution_id, events=history, etag=etag)
        )

    async def _finish_without_episode(self, instance_id: str, state: OrchestrationState, decision: Triage) -> None:
        """Nothing to apply: drop/defer messages, and repair the Instances row of a finished instance.

        The repair covers a crash between the history append and the Instances
        update: the consumed messages come back, find a terminal history and
        bring the query side in line with it, so nobody sees "Running" forever.
        """
        if decision.delete and state.status.is_terminal:
            record = await self._hub.instances.get(instance_id, include_input=False)
            if record is None or record.runtime_status != state.status:
                logger.warning("instance.repaired instance=%s status=%s", instance_id, state.status.name)
                await self._hub.instances.update(
                    instance_id, runtime_status=state.status, output=state.output, last_updated_time=self._clock()
                )
        await self._delete(decision.delete)
        await self._abandon(decision.defer)

    async def _delete(self, messages: list[ReceivedMessage]) -> None:
        await asyncio.gather(*(self._queue_of(m).delete(m) for m in messages))

    async def _abandon(self, messages: list[ReceivedMessage]) -> None:
        await asyncio.gather(*(self._queue_of(m).abandon(m, backoff_delay(m.dequeue_count)) for m in messages))

    def _queue_of(self, message: ReceivedMessage):
        return next(q for q in self._hub.control_queues if q.name == message.queue_name)


def _execution_started(history: list[HistoryEvent]) -> ExecutionStarted:
    return next(event for event in history if isinstance(event, ExecutionStarted))


def _instance_columns(
    started: ExecutionStarted, result: ExecutionResult, now: datetime, *, is_new_execution: bool
) -> dict[str, object]:
    columns: dict[str, object] = {
        "runtime_status": result.status,
        "last_updated_time": now,
        "custom_status": result.custom_status,
        "execution_id": started.orchestration_instance.execution_id,
    }
    if is_new_execution:
        columns.update(
            name=started.name,
            version=started.version,
            input=started.input,
            created_time=started.timestamp,
            generation=started.generation,
        )
    if result.is_done:
        columns.update(output=result.output, completed_time=now)
    return columns
