"""Activities run here without a work item, and the one control message that stands in for them.

An activity request costs two queue requests (send and delete) even when this
process runs it at once (activity_dispatcher.py, "claimed"), and queue
requests are the expensive ones: on Azurite a send or delete costs more than
a history batch. When the orchestration's own episode was triggered by a
control message, that message can be the recovery path instead: the episode
commits its history as usual, the activities it scheduled start here with no
work item, and the message is not deleted but kept invisible (renewed, like a
work item) until every such activity's outcome is safe, committed to history
or sent by queue. It is the instance's *anchor*. Then it is deleted, one
request for any number of activities and episodes.

If this process dies first, the anchor becomes visible again, the new owner
of the partition receives it, triage finds it already applied (only messages
whose redelivery triage recognises can anchor: starts and completions), and
because it was delivered before, the episode runner sends a work item for
every activity that history shows scheduled but not finished
(`unfinished_activities`). Activities run at least once, as in DTFx: an
activity that was running here when the process died runs again.

An episode with no control message to anchor it (one triggered only by
in-memory results while no anchor is held) uses work items as usual.

The anchor also lets a wide fan-out reach the work-item queue gradually. What
this worker does not take on (activity_dispatcher.py: as many as it has slots
running, as many again waiting) is sent as work items for any worker, but at
most `QUEUED_WINDOW` of one instance's at a time; each episode that brings
results back sends that many more. Every queue request Azurite serves scans
all the messages it stores (azurite-probe G2), so 1,000 work items sent at
once make each of the 2,000 sends, receives and deletes several times dearer;
other workers still see up to a window's worth to share. Requests not sent
yet are covered by the anchor like those running here, and are all sent at
once when this worker lets go of the partition.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from durable_azure.azure_storage import MessageData, ReceivedMessage, TaskHub
from durable_azure.errors import MessageGoneError, StorageError
from durable_azure.history import (
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerFired,
)
from durable_azure.orchestration import OrchestrationState
from durable_azure.worker.deliveries import Delivery
from durable_azure.worker.outbound import OutboundMessage

logger = logging.getLogger(__name__)

QUEUED_WINDOW = 100
"""Work items one instance's fan-out has in the queue at once (see the module docstring)."""

# Redelivered, these are recognised as already applied (by execution id or completion id); an EventRaised is not.
_ANCHORING_EVENTS = (
    ExecutionStarted,
    TaskCompleted,
    TaskFailed,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceFailed,
    TimerFired,
)


TaskKey = tuple[str | None, int]
"""(execution id, task id): task ids restart at 0 in each execution of a continued-as-new instance."""


def _task_key(data: MessageData) -> TaskKey:
    return (data.instance.execution_id, data.event.event_id)


class LocalActivityRunner(Protocol):
    """The activity dispatcher, seen from here."""

    def run_unqueued(self, data: MessageData, on_settled: Callable[[bool], None]) -> bool:
        """Run now or soon; `on_settled(True)` once the outcome is committed or sent by queue. False: cannot take it."""
        ...


@dataclass(slots=True)
class AnchorPlan:
    """An episode's activities that will run here without work items, decided before its checkpoint."""

    instance_id: str
    runs: list[MessageData] = field(default_factory=list)
    candidate: ReceivedMessage | None = None  # becomes the anchor if the instance has none yet

    @property
    def task_keys(self) -> set[TaskKey]:
        return {_task_key(data) for data in self.runs}


@dataclass(slots=True)
class _Anchor:
    message: ReceivedMessage
    renewed_at: float


class AnchorBook:
    def __init__(self, hub: TaskHub, *, visibility_timeout: float = 300.0) -> None:
        self._hub = hub
        self._visibility_timeout = visibility_timeout
        self._runner: LocalActivityRunner | None = None
        self._anchors: dict[str, _Anchor] = {}  # instance id -> its anchor
        self._by_message: dict[str, _Anchor] = {}  # message id -> the same anchors
        self._pending: dict[str, set[TaskKey]] = {}  # instance id -> tasks run here whose outcome is not safe yet
        self._unsent: dict[str, collections.deque[MessageData]] = {}  # instance id -> requests waiting for the window
        self._queued: dict[str, set[int]] = {}  # instance id -> task ids of its work items in the queue, unfinished
        self._background: set[asyncio.Task[None]] = set()
        self._renewal: asyncio.Task[None] | None = None

    def attach(self, runner: LocalActivityRunner) -> None:
        self._runner = runner

    def start(self) -> None:
        self._renewal = asyncio.create_task(self._keep_invisible(), name="anchor-renewal")

    async def stop(self) -> None:
        """Stop renewing; anchors still held come back after their timeout and are recovered from there."""
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)

    def absorb_redelivery(self, message: ReceivedMessage) -> bool:
        """A held anchor received again (its timeout passed): keep the newest pop receipt, nothing else."""
        anchor = self._by_message.get(message.message_id)
        if anchor is None:
            return False
        anchor.message.pop_receipt = message.pop_receipt
        anchor.renewed_at = time.monotonic()
        return True

    def running_here(self, instance_id: str, execution_id: str | None) -> set[int]:
        return {task_id for execution, task_id in self._pending.get(instance_id, ()) if execution == execution_id}

    def plan(
        self, instance_id: str, batch: list[Delivery], outbound: list[OutboundMessage]
    ) -> tuple[AnchorPlan, list[OutboundMessage]]:
        """Take the activity requests that can run here unqueued; returns the plan and what must still be sent."""
        plan = AnchorPlan(instance_id)
        if self._runner is None or not any(isinstance(m.data.event, TaskScheduled) for m in outbound):
            return plan, outbound
        if instance_id not in self._anchors:
            plan.candidate = next((m for m in batch if isinstance(m, ReceivedMessage) and _can_anchor(m)), None)
            if plan.candidate is None:
                return plan, outbound
        remaining: list[OutboundMessage] = []
        for message in outbound:
            if message.queue is self._hub.work_item_queue and message.visibility_delay <= 0:
                plan.runs.append(message.data)
            else:
                remaining.append(message)
        self._pending.setdefault(instance_id, set()).update(plan.task_keys)  # no release while the episode commits
        return plan, remaining

    def abort(self, plan: AnchorPlan) -> None:
        """The checkpoint failed: nothing of the plan runs."""
        self._forget_tasks(plan.instance_id, plan.task_keys)

    async def commit(self, plan: AnchorPlan, applied: Sequence[HistoryEvent] = ()) -> ReceivedMessage | None:
        """After the checkpoint: start the planned runs, send what the window allows.

        `applied` are the events the episode committed: finished work items
        make room in the window. Returns the batch message kept as the new
        anchor, if any.
        """
        kept = await self._start_runs(plan) if plan.runs else None
        self._note_finished(plan.instance_id, applied)
        await self._send_window(plan.instance_id)
        return kept

    async def _start_runs(self, plan: AnchorPlan) -> ReceivedMessage | None:
        assert self._runner is not None
        kept: ReceivedMessage | None = None
        if plan.instance_id not in self._anchors:
            if plan.candidate is None:  # the anchor went away while we committed: use work items after all
                await self._send_as_work_items(plan)
                return None
            kept = plan.candidate
            anchor = _Anchor(kept, time.monotonic())
            self._anchors[plan.instance_id] = anchor
            self._by_message[kept.message_id] = anchor
        for data in plan.runs:
            settled = functools.partial(self._settled, plan.instance_id, _task_key(data))
            if not self._runner.run_unqueued(data, settled):  # more than this worker takes on: for any worker
                self._unsent.setdefault(plan.instance_id, collections.deque()).append(data)
        return kept

    def _note_finished(self, instance_id: str, applied: Sequence[HistoryEvent]) -> None:
        queued = self._queued.get(instance_id)
        if not queued:
            return
        for event in applied:
            if isinstance(event, TaskCompleted | TaskFailed):
                queued.discard(event.task_scheduled_id)

    async def _send_window(self, instance_id: str, *, everything: bool = False) -> None:
        """Send waiting requests as work items, up to the window (or all of them); they are their own recovery then."""
        unsent = self._unsent.get(instance_id)
        if not unsent:
            return
        queued = self._queued.setdefault(instance_id, set())
        room = len(unsent) if everything else QUEUED_WINDOW - len(queued)
        batch = [unsent.popleft() for _ in range(min(room, len(unsent)))]
        if not unsent:
            del self._unsent[instance_id]
        if batch:
            queued.update(data.event.event_id for data in batch)
            await self._send_as_work_items(AnchorPlan(instance_id, batch))

    async def let_go_of_partition(self, partition_id: str) -> None:
        """Another worker takes the partition over: its instances' waiting requests go to the queue now."""
        for instance_id in [i for i in self._unsent if self._hub.control_queue_for(i).name == partition_id]:
            try:
                await self._send_window(instance_id, everything=True)
            except StorageError as error:  # the anchor was let go: it comes back and recovery sends them
                logger.warning("anchor.hand_over_failed instance=%s error=%s", instance_id, error)

    def forget_instance(self, instance_id: str) -> None:
        """The instance finished: its anchor has nothing left to recover."""
        self._pending.pop(instance_id, None)
        self._unsent.pop(instance_id, None)
        self._queued.pop(instance_id, None)
        self._release(instance_id)

    def give_up(self, instance_id: str) -> None:
        """Stop holding the anchor without deleting it: it comes back, and recovery sends its activities by queue."""
        anchor = self._anchors.pop(instance_id, None)
        if anchor is not None:
            self._by_message.pop(anchor.message.message_id, None)

    async def _send_as_work_items(self, plan: AnchorPlan) -> None:
        try:
            await asyncio.gather(*(self._hub.work_item_queue.send(data) for data in plan.runs))
        except BaseException:
            self.give_up(plan.instance_id)  # the anchor comes back and recovery sends them
            raise
        finally:
            self._forget_tasks(plan.instance_id, plan.task_keys)  # the work items are the recovery path now

    def _settled(self, instance_id: str, key: TaskKey, is_safe: bool) -> None:
        if not is_safe:
            self.give_up(instance_id)
        self._forget_tasks(instance_id, {key})

    def _forget_tasks(self, instance_id: str, keys: set[TaskKey]) -> None:
        pending = self._pending.get(instance_id)
        if pending is None:
            return
        pending -= keys
        if not pending:
            del self._pending[instance_id]
            self._release(instance_id)

    def _release(self, instance_id: str) -> None:
        anchor = self._anchors.pop(instance_id, None)
        if anchor is None:
            return
        self._by_message.pop(anchor.message.message_id, None)
        task = asyncio.create_task(self._delete(anchor.message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _delete(self, message: ReceivedMessage) -> None:
        try:
            await self._hub.queue_named(message.queue_name).delete(message)
        except StorageError as error:  # it comes back as a duplicate, with nothing left to recover
            logger.warning("anchor.delete_failed id=%s error=%s", message.message_id, error)

    async def _keep_invisible(self) -> None:
        """Renew anchors at half their visibility timeout: an update does not count as a dequeue, a redelivery would."""
        interval = max(1.0, min(30.0, self._visibility_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            due = time.monotonic() - self._visibility_timeout / 2
            for instance_id, anchor in list(self._anchors.items()):
                if anchor.renewed_at <= due:
                    await self._renew(instance_id, anchor)

    async def _renew(self, instance_id: str, anchor: _Anchor) -> None:
        queue = self._hub.queue_named(anchor.message.queue_name)
        try:
            await queue.renew(anchor.message, self._visibility_timeout)
            anchor.renewed_at = time.monotonic()
        except MessageGoneError:
            logger.warning("anchor.lost instance=%s: another worker recovers its activities", instance_id)
            self.give_up(instance_id)
        except StorageError as error:
            logger.warning("anchor.renew_failed instance=%s error=%s", instance_id, error)


def unfinished_activities(state: OrchestrationState, running_here: set[int]) -> list[MessageData]:
    """Work items for the activities history shows scheduled and unfinished, except those running here."""
    instance = OrchestrationInstance(instance_id=state.instance_id or "", execution_id=state.execution_id)
    return [
        MessageData(event=event, instance=instance, episode=state.episode, sender=instance)
        for event in state.events
        if isinstance(event, TaskScheduled)
        and not state.has_completed_task(event.event_id)
        and event.event_id not in running_here
    ]


def _can_anchor(message: ReceivedMessage) -> bool:
    return message.data is not None and isinstance(message.data.event, _ANCHORING_EVENTS)
