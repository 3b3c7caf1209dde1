"""What an episode consumes: queue messages, and activity results handed over in memory (`LocalDelivery`).

When the worker that ran an activity also owns the partition of the
orchestration waiting for it, sending the result through the control queue
costs three storage requests (send, receive, delete) and a polling delay, only
to come back to the same process. Instead the result joins the instance's next
batch in memory, as a `LocalDelivery`. The work item is deleted only once the
episode that applied the result has committed its history, so the queued work
item stays the recovery path: if this process dies first, the work item
reappears, the activity runs again, and its result travels by queue as usual.

A session's batch mixes both kinds of delivery (`Delivery`): queue messages
are deleted or abandoned in storage, local ones are settled, True when their
episode committed them (or dropped them as duplicates), False when they must
take the queue after all.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from durable_azure.azure_storage import MessageData, ReceivedMessage, TaskHub


@dataclass(slots=True, kw_only=True, eq=False)
class LocalDelivery:
    """A reply delivered in memory; it has no queue message behind it, so it is never redelivered."""

    data: MessageData
    settled: asyncio.Future[bool]
    message_id: str = field(default_factory=lambda: f"local-{uuid.uuid4().hex}")
    insertion_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dequeue_count: int = 1

    @classmethod
    def of(cls, data: MessageData) -> LocalDelivery:
        return cls(data=data, settled=asyncio.get_running_loop().create_future())

    def settle(self, *, is_applied: bool) -> None:
        """True: the episode committed it (or dropped it as a duplicate); False: send it by queue instead."""
        if not self.settled.done():
            self.settled.set_result(is_applied)


Delivery = ReceivedMessage | LocalDelivery
"""What a session batches for an episode: a queue message, or a reply handed over in memory."""


def settle_local(deliveries: list[Delivery], *, is_applied: bool) -> list[ReceivedMessage]:
    """Settle the local deliveries; returns the queue messages, which the caller deletes or abandons."""
    queued: list[ReceivedMessage] = []
    for delivery in deliveries:
        if isinstance(delivery, LocalDelivery):
            delivery.settle(is_applied=is_applied)
        else:
            queued.append(delivery)
    return queued


def backoff_delay(dequeue_count: int) -> float:
    """DTFx's abandon backoff: 2^n seconds (n = dequeues so far, first retry 1 s), at most 10 minutes."""
    return float(min(600, 2 ** max(0, min(dequeue_count - 1, 10))))


async def consume(hub: TaskHub, deliveries: list[Delivery]) -> None:
    """Their episode committed them (or dropped them): delete the queue messages, settle the local ones."""
    queued = settle_local(deliveries, is_applied=True)
    await asyncio.gather(*(hub.queue_named(message.queue_name).delete(message) for message in queued))


async def hand_back(hub: TaskHub, deliveries: list[Delivery]) -> None:
    """Not applied: queue messages come back after DTFx's backoff, local ones go by queue instead."""
    queued = settle_local(deliveries, is_applied=False)
    await asyncio.gather(*(hub.queue_named(m.queue_name).abandon(m, backoff_delay(m.dequeue_count)) for m in queued))
