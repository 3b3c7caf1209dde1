"""The stuck-instance repair: work in flight that nothing will ever complete is sent again.

History records what an instance waits for: an activity (TaskScheduled), a
timer (TimerCreated), a sub-orchestration (SubOrchestrationInstanceCreated),
or its own start (a Pending row). A queue message is what completes each of
them, and a message can be lost: storage can lose acknowledged writes (an
emulator killed before it saved, a storage-account failover), and a worker
can drop a message on a wrong belief. DTFx then leaves the instance Running
forever (durabletask #1252, DF #2364). Here each worker sweeps the instances
of the partitions it owns:

* candidates: Pending or Running rows of the Instances table whose
  LastUpdatedTime is older than `after` (episodes refresh that column at
  least every `after / 2`, see episode.py, so an instance that moves on never
  qualifies), one query per sweep;
* for each: its history is read, and what it waits for is checked:
  - an activity scheduled more than `after` ago, with no outcome, that no
    live worker reports running (workers publish their long-running
    activities in their presence blobs) -> its work item is sent again;
  - a timer due more than `after` ago that has not fired -> TimerFired;
  - a sub-orchestration scheduled more than `after` ago with no outcome: a
    finished child -> its outcome is sent to the parent; a child that never
    started -> its start, with the derived execution id, is sent again;
  - a Pending instance, or a Running one whose history is empty, created
    more than `after` ago -> its ExecutionStarted is sent again.

Everything sent is idempotent: a copy that was not lost after all is
recognised by its receiver (task, timer and execution ids) and dropped; an
activity runs at most once more, which at-least-once delivery allows. An
instance with nothing overdue is not read again until its row changes or its
next item falls due. The bound: work lost at time t is sent again by
t + `after` + `interval` (defaults: 7 and 1 minutes, the queues' visibility
timeout plus two minutes, then the next sweep).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable_azure.azure_storage import InstanceRecord, MessageData, TaskHub, TaskHubQueue
from durable_azure.azure_storage.presence import RunningActivity
from durable_azure.entities import is_entity_instance
from durable_azure.history import (
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    SubOrchestrationInstanceCreated,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.orchestration import OrchestrationState
from durable_azure.worker.outbound import OutboundMessage, child_start, parent_notification

logger = logging.getLogger(__name__)

MAX_CHECKS_PER_SWEEP = 200
"""Histories read per sweep at most: a hub with many quiet instances is read gradually, not all at once."""


@dataclass(slots=True, kw_only=True)
class Repair:
    """What one instance was missing, and the messages that replace it."""

    instance_id: str
    missing: list[str] = field(default_factory=list)
    messages: list[OutboundMessage] = field(default_factory=list)
    fixed_row: OrchestrationState | None = None
    """History says the instance started or finished, and its Instances row lags behind (or is gone): rewritten."""
    children: list[Repair] = field(default_factory=list)
    """Running sub-orchestrations' own repairs: a child whose row storage lost is found only through its parent."""
    recheck_at: datetime | None = None
    """When something in flight falls due, if nothing was missing now."""


@dataclass(slots=True)
class _Seen:
    last_updated: datetime | None
    recheck_at: datetime


class StuckInstanceRepair:
    def __init__(
        self,
        hub: TaskHub,
        *,
        after: timedelta,
        clock: Callable[[], datetime],
        running_here: Callable[[], set[RunningActivity]] = set,
    ) -> None:
        self._hub = hub
        self._after = after
        self._clock = clock
        self._running_here = running_here
        self._seen: dict[str, _Seen] = {}
        self._loss_since: datetime | None = None  # finished instances updated since then are looked at too
        self._loss_until: datetime | None = None

    def suspect_lost_writes(self) -> None:
        """Storage holds less than this worker wrote (a cached history's ETag is gone from it).

        Writes can then have been lost unevenly: an Instances row written (or
        retried) after a History append that storage lost says Completed over a
        history that never finished. For a while the sweep also looks at the
        instances that finished since shortly before, once each.
        """
        now = self._clock()
        since = now - self._after
        if self._loss_since is None:
            logger.warning("repair.lost_writes_suspected: finished instances since %s are checked too", since)
        self._loss_since = since if self._loss_since is None else min(self._loss_since, since)
        self._loss_until = now + 2 * self._after

    async def sweep(self, owns: Callable[[str], bool] = lambda instance_id: True, *, send: bool = True) -> list[Repair]:
        """One pass over the stale Pending/Running instances `owns` accepts; sends what is missing if `send`."""
        now = self._clock()
        repairs: list[Repair] = []
        checks = 0
        running: set[RunningActivity] | None = None
        async for record in self._candidates(now):
            if not owns(record.instance_id) or self._is_known_quiet(record, now):
                continue
            if checks >= MAX_CHECKS_PER_SWEEP:
                break
            checks += 1
            if running is None:
                running = await self._running_anywhere()
            repair = await self.check(record.instance_id, record=record, running=running)
            if repair.missing:
                if send:
                    await self.send(repair)
                repairs.append(repair)
            self._seen[record.instance_id] = _Seen(record.last_updated_time, repair.recheck_at or _far_future(now))
        return repairs

    async def _candidates(self, now: datetime) -> AsyncIterator[InstanceRecord]:
        """Pending and Running rows not updated for `after`; while writes may have been lost, recent finished ones."""
        running = [OrchestrationStatus.Pending, OrchestrationStatus.Running]
        async for record in self._rows(statuses=running, last_updated_before=now - self._after):
            if not is_entity_instance(record.instance_id):  # an idle entity is Running by design, waiting on nothing
                yield record
        if self._loss_until is not None and now > self._loss_until:
            self._loss_since = self._loss_until = None
        if self._loss_since is not None:
            finished = [OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Terminated]
            async for record in self._rows(statuses=finished, last_updated_from=self._loss_since):
                yield record

    async def _rows(self, **filters: Any) -> AsyncIterator[InstanceRecord]:
        token: str | None = None
        while True:
            page = await self._hub.instances.query(
                **filters, page_size=1000, continuation_token=token, include_input=False
            )
            for record in page.records:
                yield record
            token = page.continuation_token
            if token is None:
                return

    def _is_known_quiet(self, record: InstanceRecord, now: datetime) -> bool:
        seen = self._seen.get(record.instance_id)
        return seen is not None and seen.last_updated == record.last_updated_time and now < seen.recheck_at

    async def _running_anywhere(self) -> set[RunningActivity]:
        return self._running_here() | await self._hub.presence.running_activities()

    async def check(
        self,
        instance_id: str,
        *,
        record: InstanceRecord | None = None,
        running: set[RunningActivity] | None = None,
    ) -> Repair:
        """What the instance waits for that is overdue and has nothing to complete it (reads storage, sends nothing)."""
        now = self._clock()
        if record is None:
            record = await self._hub.instances.get(instance_id)
        if running is None:
            running = await self._running_anywhere()
        history = await self._hub.history.load(instance_id)
        state = OrchestrationState(history.events)
        repair = Repair(instance_id=instance_id)
        if state.status == OrchestrationStatus.Pending:
            await self._check_start(repair, record, now)
        elif state.status == OrchestrationStatus.Running:
            await self._check_in_flight(repair, state, running, now)
        if _row_lags_behind(record, state):
            repair.missing.append(f"its Instances row ({state.status.name} in history)")
            repair.fixed_row = state
        return repair

    async def send(self, repair: Repair) -> None:
        """Send what was missing, bring a lagging row in line with history, and do the same for the children."""
        for message in repair.messages:
            await message.queue.send(message.data, visibility_delay=message.visibility_delay)
        if repair.fixed_row is not None:
            await self._hub.instances.update(repair.instance_id, **_row_columns(repair.fixed_row, self._clock()))
        for child in repair.children:
            await self.send(child)
        logger.warning("instance.repaired instance=%s sent=%s", repair.instance_id, "; ".join(repair.missing))

    async def _check_start(self, repair: Repair, record: InstanceRecord | None, now: datetime) -> None:
        """A row with no history: its ExecutionStarted never arrived, or storage lost the history it made."""
        if record is None or record.created_time is None or not record.execution_id:
            return
        if not record.runtime_status.is_running:
            return
        due = record.created_time + self._after
        if now < due:
            repair.recheck_at = due
            return
        start = ExecutionStarted(
            timestamp=now,
            orchestration_instance=OrchestrationInstance(
                instance_id=record.instance_id, execution_id=record.execution_id
            ),
            name=record.name,
            version=record.version,
            input=record.input if record.input is not None else await self._input_of(record.instance_id),
            tags=record.tags,
            generation=record.generation,
        )
        repair.missing.append("its start")
        queue = self._hub.control_queue_for(record.instance_id)
        repair.messages.append(OutboundMessage(queue, MessageData(event=start, instance=start.orchestration_instance)))

    async def _input_of(self, instance_id: str) -> str | None:
        full = await self._hub.instances.get(instance_id)
        return full.input if full is not None else None

    async def _check_in_flight(
        self, repair: Repair, state: OrchestrationState, running: set[RunningActivity], now: datetime
    ) -> None:
        instance = OrchestrationInstance(
            instance_id=state.instance_id or repair.instance_id, execution_id=state.execution_id
        )
        for event in state.events:
            if not _is_in_flight(state, event):
                continue
            due = (event.fire_at if isinstance(event, TimerCreated) else event.timestamp) + self._after
            if now < due:
                repair.recheck_at = min(repair.recheck_at or due, due)
                continue
            if isinstance(event, TaskScheduled):
                self._repair_activity(repair, instance, state, event, running, now)
            elif isinstance(event, TimerCreated):
                fired = TimerFired(timestamp=now, timer_id=event.event_id, fire_at=event.fire_at)
                self._add(
                    repair, f"timer {event.event_id}", instance, fired, self._hub.control_queue_for(repair.instance_id)
                )
            elif isinstance(event, SubOrchestrationInstanceCreated):
                await self._repair_child(repair, instance, state, event, running, now)

    def _repair_activity(
        self,
        repair: Repair,
        instance: OrchestrationInstance,
        state: OrchestrationState,
        event: TaskScheduled,
        running: set[RunningActivity],
        now: datetime,
    ) -> None:
        if (instance.instance_id, instance.execution_id or "", event.event_id) in running:
            repair.recheck_at = min(repair.recheck_at or now + self._after, now + self._after)
            return
        data = MessageData(event=event, instance=instance, episode=state.episode, sender=instance)
        repair.missing.append(f"activity {event.name} (task {event.event_id})")
        repair.messages.append(OutboundMessage(self._hub.work_item_queue, data))

    async def _repair_child(
        self,
        repair: Repair,
        instance: OrchestrationInstance,
        state: OrchestrationState,
        event: SubOrchestrationInstanceCreated,
        running: set[RunningActivity],
        now: datetime,
    ) -> None:
        parent_started = next(e for e in state.events if isinstance(e, ExecutionStarted))
        start = child_start(
            parent_started,
            instance,
            task_id=event.event_id,
            child_id=event.instance_id,
            name=event.name,
            version=event.version,
            input_text=event.input,
            now=now,
        )
        child = OrchestrationState((await self._hub.history.load(event.instance_id)).events)
        if child.status == OrchestrationStatus.Pending:
            queue = self._hub.control_queue_for(event.instance_id)
            label = f"start of sub-orchestration {event.instance_id}"
            repair.missing.append(label)
            repair.messages.append(
                OutboundMessage(queue, MessageData(event=start, instance=start.orchestration_instance))
            )
        elif child.status.is_terminal and child.execution_id == start.orchestration_instance.execution_id:
            outcome = parent_notification(
                task_id=event.event_id,
                name=event.name,
                status=child.status,
                output=child.output,
                failure_details=child.failure_details,
                now=now,
            )
            label = f"outcome of sub-orchestration {event.instance_id} ({child.status.name})"
            self._add(repair, label, instance, outcome, self._hub.control_queue_for(repair.instance_id))
        else:  # running: checked as well, in case storage lost its row and no sweep would ever find it
            nested = await self.check(event.instance_id, running=running)
            if nested.missing:
                repair.missing.append(f"sub-orchestration {event.instance_id}: " + "; ".join(nested.missing))
                repair.children.append(nested)
            repair.recheck_at = min(repair.recheck_at or now + self._after, now + self._after)

    @staticmethod
    def _add(
        repair: Repair, label: str, instance: OrchestrationInstance, event: HistoryEvent, queue: TaskHubQueue
    ) -> None:
        repair.missing.append(label)
        repair.messages.append(OutboundMessage(queue, MessageData(event=event, instance=instance, sender=instance)))


def _row_lags_behind(record: InstanceRecord | None, state: OrchestrationState) -> bool:
    """The row is gone, or still says Pending (or running) while history says the instance started (or finished)."""
    if state.status == OrchestrationStatus.Pending:
        return False
    if record is None:
        return True
    if record.runtime_status == state.status:
        return False
    return state.status.is_terminal or record.runtime_status == OrchestrationStatus.Pending


def _row_columns(state: OrchestrationState, now: datetime) -> dict[str, object]:
    """The Instances row as history tells it (all of it: the row may be gone)."""
    columns: dict[str, object] = {
        "name": state.name,
        "runtime_status": state.status,
        "execution_id": state.execution_id,
        "input": state.input,
        "created_time": state.created_time,
        "last_updated_time": now,
    }
    if state.status.is_terminal:
        columns.update(output=state.output, completed_time=now)
    return columns


def _is_in_flight(state: OrchestrationState, event: object) -> bool:
    if isinstance(event, TaskScheduled | SubOrchestrationInstanceCreated | TimerCreated):
        return not state.has_completed_task(event.event_id)
    return False


def _far_future(now: datetime) -> datetime:
    return now + timedelta(days=3650)
