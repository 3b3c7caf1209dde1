"""One episode of one instance: triage a batch, run the engine, checkpoint, consume the batch.

The instance's state comes from the cache when this worker ran its previous
episode, else from the History table. A cached state can be stale: another
worker may have moved the instance on, or storage may have lost a write it had
acknowledged (a failover, an emulator killed before it saved). So the cache
never decides alone that a message is stale or a copy: messages that look out
of order or stale make the episode reload before deciding, and discarding any
message as a duplicate first checks the sentinel ETag in storage (one point
read), reloading if it differs. An ETag conflict at the checkpoint abandons
the batch, and the retry reloads.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.entities import EntityExecutor, EntityOptions, is_entity_instance
from durable_azure.errors import ConcurrencyConflictError
from durable_azure.history import (
    EventRaised,
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
)
from durable_azure.orchestration import ExecutionResult, OrchestrationExecutor, OrchestrationState
from durable_azure.orchestration.http import HttpSettings
from durable_azure.protocol import ProtocolOrchestrationExecutor
from durable_azure.worker.anchors import AnchorBook, AnchorPlan, unfinished_activities
from durable_azure.worker.checkpoint import Checkpoint, execution_started, write_checkpoint
from durable_azure.worker.continuation import MAX_CONTINUE_AS_NEW_PER_EPISODE, continue_in_next_episode, next_execution
from durable_azure.worker.deliveries import Delivery, LocalDelivery, consume, hand_back
from durable_azure.worker.instance_cache import CachedInstance, Executor, InstanceCache
from durable_azure.worker.outbound import OutboundMessage, outbound_for
from durable_azure.worker.poison import fail_instance
from durable_azure.worker.recent_events import RecentEvents
from durable_azure.worker.registry import Registry
from durable_azure.worker.triage import Triage, triage

logger = logging.getLogger(__name__)

DEFAULT_INSTANCE_REFRESH = timedelta(minutes=3)
"""How stale an unchanged Instances row may get: the repair sweep reads LastUpdatedTime as "last progress"."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Loaded:
    events: list[HistoryEvent]
    etag: str | None
    executor: Executor | None
    state: OrchestrationState  # derived from `events`; kept with the cache so episodes never rescan history
    visible_state: tuple[object, str | None] | None = None
    instance_written_at: datetime | None = None

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
        anchors: AnchorBook | None = None,
        clock: Callable[[], datetime] = utc_now,
        instance_refresh: timedelta = DEFAULT_INSTANCE_REFRESH,
        on_storage_behind: Callable[[], None] | None = None,
        http_settings: HttpSettings | None = None,
        entity_options: EntityOptions | None = None,
    ):
        self._entity_options = entity_options or EntityOptions()  # host.json's entity settings
        self._http_settings = http_settings  # host.json httpSettings, handed to every executor (call_http)
        self._hub = hub
        self._registry = registry
        self._cache = cache
        self._anchors = anchors or AnchorBook(hub)  # without an activity runner attached it anchors nothing
        self._clock = clock
        self._instance_refresh = instance_refresh
        self._recent_events = RecentEvents()
        self._on_storage_behind = on_storage_behind  # storage holds less than we wrote: see repair.py

    def forget_partition(self, partition_id: str) -> None:
        """Drop cached instances of a partition we lost or (re)gained: another worker may have moved them on."""
        self._cache.evict_where(lambda instance_id: self._hub.control_queue_for(instance_id).name == partition_id)

    async def run(self, instance_id: str, messages: list[Delivery]) -> None:
        """Process one batch of messages for one instance. Never runs concurrently for the same instance."""
        loaded, decision = await self._decide(instance_id, messages)
        if decision.not_started and is_entity_instance(instance_id) and decision.start is None:
            _auto_start_entity(instance_id, decision)
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
            if loaded.is_cached:  # our own last write is not what storage holds: another writer, or lost writes
                self._storage_is_behind()
            await hand_back(self._hub, decision.all_accepted + decision.defer)
        except BaseException:
            self._cache.evict(instance_id)
            raise

    async def _decide(self, instance_id: str, messages: list[Delivery]) -> tuple[_Loaded, Triage]:
        """Triage on the cached state, or on storage's when the cache could be wrong about what it decides."""
        if _is_first_start(messages):
            loaded = _Loaded([], None, None, OrchestrationState())
        else:
            loaded = await self._load(instance_id)
        applied_events = self._recent_events.of(instance_id)
        decision = triage(instance_id, loaded.state, messages, applied_events)
        if loaded.is_cached and (decision.is_suspect or not await self._cache_agrees(instance_id, loaded, decision)):
            self._cache.evict(instance_id)  # maybe stale: decide again on what storage says
            loaded = await self._load(instance_id)
            decision = triage(instance_id, loaded.state, messages, applied_events)
        return loaded, decision

    async def _cache_agrees(self, instance_id: str, loaded: _Loaded, decision: Triage) -> bool:
        """Whether storage still holds the history the cache has, before a message is discarded on its word.

        Only when the decision discards queue messages: one point read of the sentinel.
        """
        if all(isinstance(message, LocalDelivery) for message in decision.delete):
            return True
        stored_etag = await self._hub.history.sentinel_etag(instance_id)
        if stored_etag == loaded.etag:
            return True
        logger.warning("cache.stale instance=%s: storage's history differs from the cached one; reloading", instance_id)
        self._storage_is_behind()
        return False

    def _storage_is_behind(self) -> None:
        if self._on_storage_behind is not None:
            self._on_storage_behind()

    async def _recover_unqueued_activities(self, instance_id: str, state: OrchestrationState, decision: Triage) -> None:
        """A control message delivered again after it was applied may be an anchor whose worker died (anchors.py).

        Its activities then have no work item anywhere: send one for every
        activity history shows unfinished, except those running here. After an
        ordinary crash between commit and delete this duplicates activities that
        still have their work item, which at-least-once allows.
        """
        if state.status not in (OrchestrationStatus.Running, OrchestrationStatus.Suspended):
            return
        if not any(not isinstance(m, LocalDelivery) and m.dequeue_count > 1 for m in decision.delete):
            return
        work = unfinished_activities(state, self._anchors.running_here(instance_id, state.execution_id))
        if work:
            logger.warning("activity.recovered instance=%s count=%d: sent again as work items", instance_id, len(work))
            await asyncio.gather(*(self._hub.work_item_queue.send(data) for data in work))

    async def _load(self, instance_id: str) -> _Loaded:
        cached = self._cache.get(instance_id)
        if cached is not None:
            return _Loaded(
                cached.events,
                cached.etag,
                cached.executor,
                cached.state,
                cached.visible_state,
                cached.instance_written_at,
            )
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
        new_events += [_event(message) for message in decision.all_accepted]
        if decision.start is not None:
            base: list[HistoryEvent] = []
            executor = self._new_executor(instance_id)
        else:
            base = loaded.events
            executor = loaded.executor or self._new_executor(instance_id)
        result = executor.execute(base, new_events)
        # Extended in place, not copied: a copy would touch every past event each episode (O(history)).
        # Every failure below evicts the instance, so a list extended by an episode that did not commit is dropped.
        history, start_index = base, len(base)
        history.extend(result.new_history)
        episode = (0 if decision.start is not None else loaded.state.episode) + 1
        outbound = outbound_for(self._hub, instance_id, history, result, now, episode)
        plan = AnchorPlan(instance_id)
        if result.status != OrchestrationStatus.ContinuedAsNew:
            plan, outbound = self._anchors.plan(instance_id, decision.all_accepted, outbound)
        executor, history, start_index, result = self._continue_as_new(
            instance_id, executor, history, start_index, result, outbound, now
        )
        checkpoint = self._checkpoint(instance_id, loaded, history, start_index, result, outbound, now)
        try:
            etag = await write_checkpoint(self._hub, checkpoint)
        except BaseException:
            self._anchors.abort(plan)
            raise
        kept = await self._anchors.commit(plan, result.new_history)
        if result.is_done:
            self._anchors.forget_instance(instance_id)
        await consume(self._hub, [m for m in decision.delete + decision.all_accepted if m is not kept])
        await hand_back(self._hub, decision.defer)
        self._recent_events.remember(instance_id, _event_ids(decision))
        if start_index > 0:  # extend the state we triaged with; a new execution starts a new one
            state = loaded.state
            for event in result.new_history:
                state.append(event)
        else:
            state = OrchestrationState(history)
        written_at = loaded.instance_written_at if checkpoint.is_instance_unchanged else now
        self._remember(instance_id, executor, history, state, etag, result, written_at)

    def _continue_as_new(
        self,
        instance_id: str,
        executor: Executor,
        history: list[HistoryEvent],
        start_index: int,
        result: ExecutionResult,
        outbound: list[OutboundMessage],
        now: datetime,
    ) -> tuple[Executor, list[HistoryEvent], int, ExecutionResult]:
        """Run the executions that continue-as-new starts, up to a bound; `outbound` gets their messages."""
        for _ in range(MAX_CONTINUE_AS_NEW_PER_EPISODE):
            if result.status != OrchestrationStatus.ContinuedAsNew:
                return executor, history, start_index, result
            start, carryover = next_execution(history, result, now)
            executor = self._new_executor(instance_id)
            result = executor.execute([], [OrchestratorStarted(timestamp=now), start, *carryover])
            history, start_index = list(result.new_history), 0
            outbound += outbound_for(self._hub, instance_id, history, result, now, episode=1)
        if result.status == OrchestrationStatus.ContinuedAsNew:
            outbound += continue_in_next_episode(self._hub, instance_id, history, result, now)
        return executor, history, start_index, result

    def _checkpoint(
        self,
        instance_id: str,
        loaded: _Loaded,
        history: list[HistoryEvent],
        start_index: int,
        result: ExecutionResult,
        outbound: list[OutboundMessage],
        now: datetime,
    ) -> Checkpoint:
        visible_state = (result.status, result.custom_status)
        # The Instances row is the query side: rewrite it only when what it shows changes, or when its
        # LastUpdatedTime, which the repair sweep reads as the last sign of progress, is getting old.
        is_fresh = loaded.instance_written_at is not None and now - loaded.instance_written_at < self._instance_refresh
        return Checkpoint(
            instance_id=instance_id,
            started=execution_started(history),
            history=history,
            start_index=start_index,
            etag=loaded.etag,
            result=result,
            outbound=outbound,
            now=now,
            is_instance_unchanged=start_index > 0
            and not result.is_done
            and visible_state == loaded.visible_state
            and is_fresh,
        )

    def _new_executor(self, instance_id: str) -> Executor:
        if is_entity_instance(instance_id):
            return EntityExecutor(self._registry.entities, self._entity_options)
        if self._registry.sdk_orchestrators:
            return ProtocolOrchestrationExecutor(self._registry.sdk_orchestrators, http_settings=self._http_settings)
        return OrchestrationExecutor(self._registry.orchestrators, http_settings=self._http_settings)

    def _remember(
        self,
        instance_id: str,
        executor: Executor,
        history: list[HistoryEvent],
        state: OrchestrationState,
        etag: str,
        result: ExecutionResult,
        instance_written_at: datetime | None,
    ) -> None:
        if result.is_done:
            self._cache.evict(instance_id)
            return
        entry = CachedInstance(
            executor=executor,
            execution_id=execution_started(history).orchestration_instance.execution_id or "",
            state=state,
            events=history,
            etag=etag,
            visible_state=(result.status, result.custom_status),
            instance_written_at=instance_written_at,
        )
        self._cache.put(instance_id, entry)

    async def fail_instance(self, instance_id: str, reason: str) -> None:
        """End a running instance as Failed without running its code (its message is poison)."""
        self._cache.evict(instance_id)
        await fail_instance(self._hub, instance_id, reason, self._clock())

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
        await consume(self._hub, decision.delete)
        await hand_back(self._hub, decision.defer)

    async def abandon_batch(self, messages: list[Delivery]) -> None:
        """Hand a batch back after a failed episode: queued ones with backoff, in-process ones to their queue."""
        await hand_back(self._hub, messages)


def _auto_start_entity(instance_id: str, decision: Triage) -> None:
    """An entity has no start message: its first request starts it (DTFx `Entities.AutoStart`).

    The ExecutionStarted is made here, named by the scheduler id with no input,
    and handed to the episode in memory; the requests join it as accepted.
    """
    instance = OrchestrationInstance(instance_id=instance_id, execution_id=uuid.uuid4().hex)
    start = ExecutionStarted(timestamp=utc_now(), orchestration_instance=instance, name=instance_id, version="")
    decision.start = LocalDelivery.of(MessageData(event=start, instance=instance))
    decision.accepted.extend(decision.not_started)
    decision.not_started.clear()


def _event(message: Delivery) -> HistoryEvent:
    assert message.data is not None  # triage only accepts decoded messages
    return message.data.event


def _event_ids(decision: Triage) -> list[str]:
    return [
        m.data.activity_id for m in decision.accepted if m.data is not None and isinstance(m.data.event, EventRaised)
    ]


def _is_first_start(messages: list[Delivery]) -> bool:
    """A first-time start (generation 0, first delivery) of an id never used before needs no history read.

    First delivery: dequeue count 1 when received, 0 when claimed by this process as it was sent.

    If the id did have history after all (a reused sub-orchestration id), the
    sentinel insert of the checkpoint fails with a conflict, the messages come
    back with a higher dequeue count, and that attempt reads history as usual.
    """
    return any(
        message.data is not None
        and isinstance(message.data.event, ExecutionStarted)
        and message.data.event.generation == 0
        and message.dequeue_count <= 1
        for message in messages
    )
