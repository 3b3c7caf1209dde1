"""Writing an episode's outcome to storage, in DTFx's order.

1. send the outbound messages (activity requests, timers, events, child starts);
   an activity request this process can start at once is claimed by its
   activity dispatcher instead: sent invisible and run here without a receive
   (activity_dispatcher.py), with the stored message as the recovery path;
2. append the new history rows, guarded by the sentinel row's ETag: this is the
   commit point; a conflict means another worker owns the instance now;
3. update the Instances row (the query side), unless the episode changed
   nothing it shows (status, custom status, output): then `LastUpdatedTime`
   keeps the time of the last visible change, and one write is saved.

Deleting the consumed messages (step 4) is the caller's. A crash before 2
re-runs the episode from the same messages, re-sending duplicates the
receivers drop; a crash after 2 redelivers messages that triage sees as
duplicates, and the Instances row is then repaired from history.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from durable_azure.azure_storage import TaskHub
from durable_azure.history import ExecutionStarted, HistoryEvent
from durable_azure.orchestration import ExecutionResult
from durable_azure.worker.outbound import OutboundMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    instance_id: str
    started: ExecutionStarted
    history: list[HistoryEvent]  # the whole current execution, new events included
    start_index: int  # where this episode's new rows begin (0 for a new execution)
    etag: str | None  # the sentinel ETag history was read with
    result: ExecutionResult
    outbound: list[OutboundMessage]
    now: datetime
    is_instance_unchanged: bool = False  # the Instances row already shows this status and custom status


async def write_checkpoint(hub: TaskHub, checkpoint: Checkpoint) -> str:
    """Steps 1-3; returns the new sentinel ETag. ConcurrencyConflictError if another writer won."""
    await asyncio.gather(*(_send_or_claim(message) for message in checkpoint.outbound))
    new_etag = await hub.history.append(
        checkpoint.instance_id,
        execution_id=checkpoint.started.orchestration_instance.execution_id or "",
        start_index=checkpoint.start_index,
        events=checkpoint.history[checkpoint.start_index :],
        etag=checkpoint.etag,
    )
    if not checkpoint.is_instance_unchanged:
        await hub.instances.update(checkpoint.instance_id, **instance_columns(checkpoint))
    return new_etag


async def _send_or_claim(message: OutboundMessage) -> None:
    """Send one message, letting a consumer in this process claim it when it can start it now.

    Only messages due at once are offered: a delayed one (a timer) must wait in
    the queue anyway. The sends of one episode run concurrently, and each claim
    takes its slot before it awaits, so a fan-out wider than the free slots is
    claimed up to them and the rest is sent visible, for any worker.
    """
    await message.queue.send_or_offer(message.data, visibility_delay=message.visibility_delay)


def instance_columns(checkpoint: Checkpoint) -> dict[str, object]:
    """The Instances-row columns an episode changes (DTFx's insert-or-merge per checkpoint)."""
    started, result = checkpoint.started, checkpoint.result
    columns: dict[str, object] = {
        "runtime_status": result.status,
        "last_updated_time": checkpoint.now,
        "custom_status": result.custom_status,
        "execution_id": started.orchestration_instance.execution_id,
    }
    if checkpoint.start_index == 0:
        columns.update(
            name=started.name,
            version=started.version,
            input=started.input,
            created_time=started.timestamp,
            generation=started.generation,
        )
    if result.is_done:
        columns.update(output=result.output, completed_time=checkpoint.now)
    return columns


def execution_started(history: list[HistoryEvent]) -> ExecutionStarted:
    return next(event for event in history if isinstance(event, ExecutionStarted))
