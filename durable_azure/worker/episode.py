"""One episode of one instance: triage a batch, run the engine, checkpoint, delete.

The instance's state comes from the cache when this worker ran its previous
episode, else from the History table. A cached state can be stale when
another worker moved the instance on meanwhile; that shows either as messages
that look out of order or stale (then we reload once before deciding), or as
an ETag conflict at the checkpoint (then we abandon, and the retry reloads).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from durable_azure import serialization
from durable_azure.azure_storage import MessageData, ReceivedMessage, TaskHub
from durable_azure.errors import ConcurrencyConflictError, StorageError
from durable_azure.history import (
    EventRaised,
    ExecutionCompleted,
    ExecutionStarted,
    FailureDetails,
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
from durable_azure.worker.anchors import AnchorBook, AnchorPlan, unfinished_activities
from durable_azure.worker.checkpoint import Checkpoint, execution_started, write_checkpoint
from durable_azure.worker.instance_cache import CachedInstance, InstanceCache
from durable_azure.worker.local_inbox import LocalInbox
from durable_azure.worker.outbound import EpisodeContext, OutboundMessage, build_outbound
from durable_azure.worker.registry import Registry
from durable_azure.worker.triage import Triage, triage

logger = logging.getLogger(__name__)

MAX_CONTINUE_AS_NEW_PER_EPISODE = 100
"""An orchestrator that continues as new without ever awaiting goes on in the next episode after this many."""


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
    state: OrchestrationState  # derived from `events`; kept with the cache so episodes never rescan history
    visible_state: tuple[object, str | None] | None = None

    @property
    def is_cached(self) -> bool:
        return self.executor is not None


class EpisodeRunner:
    def __init__(
        self,
        hub: TaskHub,
        registry: Registry,
        cache: InstanceCache,
        *,
        inbox: LocalInbox | None = None,
        anchors: AnchorBook | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self._hub = hub
        self._registry = registry
        self._cache = cache
        self._inbox = inbox or LocalInbox()
        self._anchors = anchors or AnchorBook(hub)  # without an activity runner attached it anchors nothing
        self._clock = clock

    def forget_partition(self, partition_id: str) -> None:
        """Drop cached instances of a partition we lost or (re)gained: another worker may have moved them on."""
        self._cache.evict_where(lambda instance_id: self._hub.control_queue_for(instance_id).name == partition_id)

    async def run(self, instance_id: str, messages: list[ReceivedMessage]) -> None:
        """Process one batch of messages for one instance. Never runs concurrently for the same instance."""
        if _is_first_start(messages):
            loaded = _Loaded([], None, None, OrchestrationState())
        else:
            loaded = await self._load(instance_id)
        decision = triage(instance_id, loaded.state, messages)
        if loaded.is_cached and decision.is_suspect:
            self._cache.evict(instance_id)  # maybe stale: decide again on what storage says
            loaded = await self._load(instance_id)
            decision = triage(instance_id, loaded.state, messages)
        if decision.not_started:
            await self._sort_not_started(instance_id, decision)
        decision.log_discards(instance_id)
        await self._recover_unqueued_activities(instance_id, loaded.state, decision)
        if not decision.has_work:
            await self._finish_without_episode(instance_id, loaded.state, decision)
            return
        try:
            await self._run_episode(instance_id, loaded, decision)
        except ConcurrencyConflictError:
            self._cache.evict(instance_id)
            logger.warning("history.conflict instance=%s: another worker wrote it; abandoning", instance_id)
            await self._abandon(decision.all_accepted + decision.defer)
        except BaseException:
            self._cache.evict(instance_id)
            raise

    async def _recover_unqueued_activities(self, instance_id: str, state: OrchestrationState, decision: Triage) -> None:
        """A control message delivered again after it was applied may be an anchor whose worker died (anchors.py).

        Its activities then have no work item anywhere: send one for every
        activity history shows unfinished, except those running here. After an
        ordinary crash between commit and delete this duplicates activities that
        still have their work item, which at-least-once allows.
        """
        if state.status not in (OrchestrationStatus.Running, OrchestrationStatus.Suspended):
            return
        if not any(not self._inbox.is_local(m) and m.dequeue_count > 1 for m in decision.delete):
            return
        work = unfinished_activities(state, self._anchors.running_here(instance_id, state.execution_id))
        if work:
            logger.warning("activity.recovered instance=%s count=%d: sent again as work items", instance_id, len(work))
            await asyncio.gather(*(self._hub.work_item_queue.send(data) for data in work))

    async def _load(self, instance_id: str) -> _Loaded:
        cached = self._cache.get(instance_id)
        if cached is not None:
            return _Loaded(cached.events, cached.etag, cached.executor, cached.state, cached.visible_state)
        history = await self._hub.history.load(instance_id)
        return _Loaded(list(history.events), history.etag, None, OrchestrationState(history.events))

    async def _sort_not_started(self, instance_id: str, decision: Triage) -> None:
        """Messages for an instance with no execution: wait for its start if it exists, else drop them."""
        record = await self._hub.instances.get(instance_id, include_input=False)
        if record is None:
            for message in decision.not_started:
                decision.reasons[message.message_id] = "no such instance"
            decision.delete.extend(decision.not_started)
        else:
            decision.defer.extend(decision.not_started)
        decision.not_started.clear()

    async def _run_episode(self, instance_id: str, loaded: _Loaded, decision: Triage) -> None:
        now = self._clock()
        new_events: list[HistoryEvent] = [OrchestratorStarted(timestamp=now)]
        new_events += [message.data.event for message in decision.all_accepted]
        if decision.start is not None:
            base: list[HistoryEvent] = []
            executor = self._new_executor()
        else:
            base = loaded.events
            executor = loaded.executor or self._new_executor()
        result = executor.execute(base, new_events)
        # Extended in place, not copied: a copy would touch every past event each episode (O(history)).
        # Every failure below evicts the instance, so a list extended by an episode that did not commit is dropped.
        history, start_index = base, len(base)
        history.extend(result.new_history)
        episode = (0 if decision.start is not None else loaded.state.episode) + 1
        outbound = self._outbound(instance_id, history, result, now, episode)
        plan = AnchorPlan(instance_id)
        if result.status != OrchestrationStatus.ContinuedAsNew:
            plan, outbound = self._anchors.plan(instance_id, decision.all_accepted, outbound)
        for _ in range(MAX_CONTINUE_AS_NEW_PER_EPISODE):
            if result.status != OrchestrationStatus.ContinuedAsNew:
                break
            start, carryover = _next_execution(history, result, now)
            executor = self._new_executor()
            result = executor.execute([], [OrchestratorStarted(timestamp=now), start, *carryover])
            history, start_index = list(result.new_history), 0
            outbound += self._outbound(instance_id, history, result, now, episode=1)
        else:
            if result.status == OrchestrationStatus.ContinuedAsNew:
                outbound += self._continue_in_next_episode(instance_id, history, result, now)
        started = execution_started(history)
        visible_state = (result.status, result.custom_status)
        checkpoint = Checkpoint(
            instance_id=instance_id,
            started=started,
            history=history,
            start_index=start_index,
            etag=loaded.etag,
            result=result,
            outbound=outbound,
            now=now,
            # The Instances row is the query side: rewrite it only when what it shows changes.
            is_instance_unchanged=start_index > 0 and not result.is_done and visible_state == loaded.visible_state,
        )
        try:
            etag = await write_checkpoint(self._hub, checkpoint)
        except BaseException:
            self._anchors.abort(plan)
            raise
        kept = await self._anchors.commit(plan, result.new_history)
        if result.is_done:
            self._anchors.forget_instance(instance_id)
        await self._delete([m for m in decision.delete + decision.all_accepted if m is not kept])
        await self._abandon(decision.defer)
        if start_index > 0:  # extend the state we triaged with; a new execution starts a new one
            state = loaded.state
            for event in result.new_history:
                state.append(event)
        else:
            state = OrchestrationState(history)
        self._remember(instance_id, started, executor, history, state, etag, result)

    def _new_executor(self) -> OrchestrationExecutor:
        return OrchestrationExecutor(self._registry.orchestrators)

    def _continue_in_next_episode(
        self, instance_id: str, history: list[HistoryEvent], result: ExecutionResult, now: datetime
    ) -> list[OutboundMessage]:
        """Too many continue-as-new in a row: hand the next execution to a later episode, as DTFx does."""
        start, carryover = _next_execution(history, result, now)
        queue = self._hub.control_queue_for(instance_id)
        target = start.orchestration_instance
        messages = [MessageData(event=start, instance=target)]
        messages += [MessageData(event=event, instance=target) for event in carryover]
        return [OutboundMessage(queue, message) for message in messages]

    def _outbound(
        self, instance_id: str, history: list[HistoryEvent], result: ExecutionResult, now: datetime, episode: int
    ) -> list[OutboundMessage]:
        started = execution_started(history)
        context = EpisodeContext(
            instance=OrchestrationInstance(
                instance_id=instance_id, execution_id=started.orchestration_instance.execution_id
            ),
            started=started,
            episode=episode,
            now=now,
        )
        return build_outbound(self._hub, result, context)

    def _remember(
        self,
        instance_id: str,
        started: ExecutionStarted,
        executor: OrchestrationExecutor,
        history: list[HistoryEvent],
        state: OrchestrationState,
        etag: str,
        result: ExecutionResult,
    ) -> None:
        if result.is_done:
            self._cache.evict(instance_id)
            return
        execution_id = started.orchestration_instance.execution_id or ""
        entry = CachedInstance(
            executor=executor,
            execution_id=execution_id,
            state=state,
            events=history,
            etag=etag,
            visible_state=(result.status, result.custom_status),
        )
        self._cache.put(instance_id, entry)

    async def fail_instance(self, instance_id: str, reason: str) -> None:
        """End a running instance as Failed without running its code (its message is poison).

        Best effort: if storage refuses too, the message is still moved aside and the error logged.
        """
        self._cache.evict(instance_id)
        try:
            history = await self._hub.history.load(instance_id)
            state = OrchestrationState(history.events)
            if state.status not in (OrchestrationStatus.Running, OrchestrationStatus.Suspended):
                return
            now = self._clock()
            details = FailureDetails(error_type="PoisonMessageError", error_message=reason)
            output = serialization.dumps(f"PoisonMessageError: {reason}")
            ending = ExecutionCompleted(
                timestamp=now, orchestration_status=OrchestrationStatus.Failed, result=output, failure_details=details
            )
            new_history = (OrchestratorStarted(timestamp=now), ending)
            result = ExecutionResult(
                actions=(),
                new_history=new_history,
                status=OrchestrationStatus.Failed,
                output=output,
                custom_status=None,
                is_done=True,
                failure_details=details,
            )
            events = [*history.events, *new_history]
            checkpoint = Checkpoint(
                instance_id=instance_id,
                started=execution_started(events),
                history=events,
                start_index=len(history.events),
                etag=history.etag,
                result=result,
                outbound=self._outbound(instance_id, events, result, now, state.episode + 1),
                now=now,
            )
            await write_checkpoint(self._hub, checkpoint)
            logger.error("instance.failed_by_poison instance=%s reason=%s", instance_id, reason)
        except StorageError as error:
            logger.error("instance.fail_failed instance=%s error=%s", instance_id, error)

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

    async def abandon_batch(self, messages: list[ReceivedMessage]) -> None:
        """Hand a batch back after a failed episode: queued ones with backoff, in-process ones to their queue."""
        await self._abandon(messages)

    async def _delete(self, messages: list[ReceivedMessage]) -> None:
        queued = [m for m in messages if not self._settle(m, is_applied=True)]
        await asyncio.gather(*(self._hub.queue_named(m.queue_name).delete(m) for m in queued))

    async def _abandon(self, messages: list[ReceivedMessage]) -> None:
        queued = [m for m in messages if not self._settle(m, is_applied=False)]
        await asyncio.gather(
            *(self._hub.queue_named(m.queue_name).abandon(m, backoff_delay(m.dequeue_count)) for m in queued)
        )

    def _settle(self, message: ReceivedMessage, *, is_applied: bool) -> bool:
        if not self._inbox.is_local(message):
            return False
        self._inbox.settle(message, is_applied=is_applied)
        return True


def _is_first_start(messages: list[ReceivedMessage]) -> bool:
    """A first-time start (generation 0, first delivery) of an id never used before needs no history read.

    If the id did have history after all (a reused sub-orchestration id), the
    sentinel insert of the checkpoint fails with a conflict, the messages come
    back with a higher dequeue count, and that attempt reads history as usual.
    """
    return any(
        isinstance(message.data.event, ExecutionStarted)
        and message.data.event.generation == 0
        and message.dequeue_count == 1
        for message in messages
    )


def _next_execution(
    history: list[HistoryEvent], result: ExecutionResult, now: datetime
) -> tuple[ExecutionStarted, tuple[EventRaised, ...]]:
    """The ExecutionStarted of the execution that `continue_as_new` asked for, and the events it carries over."""
    previous = execution_started(history)
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
    return start, tuple(action.carryover_events)
