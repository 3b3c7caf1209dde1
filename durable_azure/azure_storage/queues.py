"""Control and work-item queues (DTFx `Messaging/`): send, receive, delete, abandon, renew, poison.

Each method documents its storage calls. Receive makes exactly one service
request (azurite-probe G3), then downloads offloaded bodies. Messages that are
already gone are logged as `message.gone` and ignored where DTFx ignores them.

A sender may also claim what it sends (`send_claimed`): the message is stored
invisible, as a receive would leave it, and comes back as a ReceivedMessage,
so the sending process can run it with no receive at all. The queue also
holds the rendezvous for that: the in-process consumers that can take a
message at once (`add_local_consumer`), found by whoever sends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from durable_azure.azure_storage.messages import MessageCodec, MessageData, next_sequence_number
from durable_azure.azure_storage.queue_service import QueueService, StoredMessage
from durable_azure.errors import ConfigurationError, MessageFormatError, MessageGoneError, StorageError

logger = logging.getLogger(__name__)

MAX_VISIBILITY_DELAY_SECONDS = 7 * 24 * 3600 - 60
"""Azure caps visibility at 7 days; keep a minute of margin for clock skew."""
MAX_MESSAGES_PER_RECEIVE = 32
INFINITE_TIME_TO_LIVE = -1


@dataclass(slots=True, kw_only=True)
class ReceivedMessage:
    """A dequeued message; `pop_receipt` changes when the message is renewed."""

    data: MessageData | None
    decode_error: str | None
    message_id: str
    pop_receipt: str
    dequeue_count: int
    insertion_time: datetime
    queue_name: str
    raw_body: str
    is_malformed: bool = False  # the body can never be decoded (vs. a passing failure to fetch it)


class LocalConsumer(Protocol):
    """A consumer in this process that can start a message the moment it is sent.

    The activity dispatcher for work items; the orchestration dispatcher for the control queues it owns.
    """

    async def try_claim(self, data: MessageData) -> bool:
        """Send `data` claimed and start it now; False, with nothing sent, when it cannot take more work."""
        ...


class TaskHubQueue:
    """One Azure queue of a task hub, speaking MessageData."""

    def __init__(
        self,
        queues: QueueService,
        name: str,
        codec: MessageCodec,
        *,
        poison_queue: TaskHubQueue | None = None,
    ) -> None:
        self._queues = queues
        self._codec = codec
        self._poison_queue = poison_queue
        self._send_listeners: list[Callable[[float], None]] = []
        self._local_consumers: list[LocalConsumer] = []
        self.name = name
        self.max_visibility_delay_seconds: float = MAX_VISIBILITY_DELAY_SECONDS

    def __repr__(self) -> str:
        return f"TaskHubQueue({self.name!r})"

    async def create(self) -> None:
        """Create the queue; an existing one is fine."""
        await self._queues.create_queue(self.name)

    async def delete_queue(self) -> None:
        """Delete the queue; a missing one is fine."""
        await self._queues.delete_queue(self.name)

    async def clear(self) -> None:
        """Delete every message, visible or not (one request)."""
        await self._queues.clear(self.name)

    async def approximate_message_count(self) -> int:
        """The service's approximate count of the queue's messages, visible or not (one request)."""
        return (await self._queues.properties(self.name)).approximate_message_count

    async def peek(self, max_messages: int = MAX_MESSAGES_PER_RECEIVE) -> list[MessageData | None]:
        """The envelopes of up to `max_messages` visible messages, left in place; None for undecodable ones."""
        stored = await self._queues.peek(self.name, max_messages)
        decoded = await asyncio.gather(*(self._decode(message) for message in stored))
        return [message.data for message in decoded]

    def add_send_listener(self, callback: Callable[[float], None]) -> None:
        """`callback(delay)` runs after every successful send, with the message's visibility delay in seconds.

        In-process pollers use it to wake as soon as the message can be received,
        instead of waiting out their idle backoff.
        """
        self._send_listeners.append(callback)

    def remove_send_listener(self, callback: Callable[[float], None]) -> None:
        if callback in self._send_listeners:
            self._send_listeners.remove(callback)

    def add_local_consumer(self, consumer: LocalConsumer) -> None:
        """Offer messages sent to this queue from this process to `consumer` first (see `local_consumers`)."""
        self._local_consumers.append(consumer)

    def remove_local_consumer(self, consumer: LocalConsumer) -> None:
        if consumer in self._local_consumers:
            self._local_consumers.remove(consumer)

    @property
    def local_consumers(self) -> tuple[LocalConsumer, ...]:
        """Who in this process can take a message as it is sent; the sender decides whether to ask them."""
        return tuple(self._local_consumers)

    async def send(self, data: MessageData, *, visibility_delay: float = 0.0) -> None:
        """One send (plus one blob upload when the envelope is large); never expires.

        The delay is in seconds, rounded up (a timer must not fire early) and
        clamped to [0, max_visibility_delay_seconds]. A zero sequence number is
        replaced by the process-wide counter, DTFx's ordering tie-breaker.
        """
        data = _with_sequence_number(data)
        body = await self._codec.encode(data)
        delay = self._clamp(visibility_delay)
        await self._put(body, delay)
        for callback in list(self._send_listeners):
            callback(delay)

    async def send_or_offer(self, data: MessageData, *, visibility_delay: float = 0.0) -> None:
        """Send, letting a consumer in this process claim the message first when it is due at once.

        A claimed message is stored invisible and started by its claimer with no
        receive (see `send_claimed`); a delayed one (a timer, a scheduled start)
        must wait in the queue anyway, so it is never offered.
        """
        if visibility_delay <= 0:
            for consumer in self.local_consumers:
                if await consumer.try_claim(data):
                    return
        await self.send(data, visibility_delay=visibility_delay)

    async def send_claimed(self, data: MessageData, *, visibility_timeout: float) -> ReceivedMessage:
        """One send (plus a blob upload for a large envelope) of a message that is already ours.

        It is stored invisible for `visibility_timeout` seconds, as a receive
        would leave it, and returned as received (dequeue count 0): the caller
        renews, deletes or abandons it like any received message, and if the
        caller dies it becomes visible to every consumer after the timeout.
        Send listeners are not told: there is nothing for a poller to find.
        """
        data = _with_sequence_number(data)
        body = await self._codec.encode(data)
        stored = await self._put(body, max(1, self._clamp(visibility_timeout)))
        return self._as_received(stored, data, body)

    async def send_raw(self, body: str) -> None:
        """Send a body that is not an envelope (the poison queue's wrappers)."""
        await self._put(body, 0)

    def _clamp(self, seconds: float) -> int:
        return math.ceil(min(max(seconds, 0.0), self.max_visibility_delay_seconds))

    async def _put(self, body: str, visibility_seconds: int) -> StoredMessage:
        return await self._queues.send(
            self.name, body, visibility_timeout=visibility_seconds, time_to_live=INFINITE_TIME_TO_LIVE
        )

    async def receive(self, max_messages: int, visibility_timeout: float) -> list[ReceivedMessage]:
        """Exactly one receive request for up to `max_messages` (1..32), then blob downloads as needed.

        Bodies that cannot be decoded come back with `data=None` and `decode_error`
        set, so the caller can move them aside instead of losing them; `is_malformed`
        tells a body that never will decode from a large-message blob that could
        not be fetched this time (which deserves a retry, not the poison queue).
        """
        if not 1 <= max_messages <= MAX_MESSAGES_PER_RECEIVE:
            raise ConfigurationError(f"max_messages must be 1..{MAX_MESSAGES_PER_RECEIVE}, not {max_messages}")
        timeout = max(1, math.ceil(visibility_timeout))
        received = await self._queues.receive(self.name, max_messages, visibility_timeout=timeout)
        return list(await asyncio.gather(*(self._decode(message) for message in received)))

    async def _decode(self, message: StoredMessage) -> ReceivedMessage:
        body = message.text
        data: MessageData | None = None
        decode_error: str | None = None
        is_malformed = False
        try:
            data = await self._codec.decode(body)
        except MessageFormatError as error:
            decode_error, is_malformed = str(error), True
        except StorageError as error:
            decode_error = str(error)
        return self._as_received(message, data, body, decode_error=decode_error, is_malformed=is_malformed)

    def _as_received(
        self,
        stored: StoredMessage,
        data: MessageData | None,
        body: str,
        *,
        decode_error: str | None = None,
        is_malformed: bool = False,
    ) -> ReceivedMessage:
        return ReceivedMessage(
            data=data,
            decode_error=decode_error,
            message_id=stored.message_id,
            pop_receipt=stored.pop_receipt,
            dequeue_count=stored.dequeue_count,
            insertion_time=stored.insertion_time,
            queue_name=self.name,
            raw_body=body,
            is_malformed=is_malformed,
        )

    async def delete(self, message: ReceivedMessage) -> None:
        """One delete. A message already gone (deleted, or pop receipt changed) is logged, not raised."""
        try:
            await self._queues.delete_message(self.name, message.message_id, message.pop_receipt)
        except MessageGoneError as error:
            if error.maybe_applied:  # our own earlier attempt deleted it; its answer was lost
                return
            logger.warning("message.gone: delete of %s on %s", message.message_id, self.name)

    async def abandon(self, message: ReceivedMessage, delay: float) -> None:
        """One update making the message visible again after `delay` seconds; gone -> logged, not raised."""
        try:
            await self._update_visibility(message, delay)
        except MessageGoneError:
            logger.warning("message.gone: abandon of %s on %s", message.message_id, self.name)

    async def renew(self, message: ReceivedMessage, visibility_timeout: float) -> None:
        """One update extending the invisibility; refreshes `message.pop_receipt`. MessageGoneError if gone."""
        await self._update_visibility(message, visibility_timeout)

    async def _update_visibility(self, message: ReceivedMessage, seconds: float) -> None:
        timeout = self._clamp(seconds)
        message.pop_receipt = await self._queues.update_visibility(
            self.name, message.message_id, message.pop_receipt, timeout
        )

    async def move_to_poison(self, message: ReceivedMessage, reason: str) -> None:
        """Send the raw body with the reason to the poison queue, then delete the original (2 requests).

        Sent first, deleted second: a crash in between leaves a duplicate, never a loss.
        """
        if self._poison_queue is None:
            raise ConfigurationError(f"queue {self.name} has no poison queue")
        wrapper = {
            "Reason": reason,
            "SourceQueue": self.name,
            "MessageId": message.message_id,
            "DequeueCount": message.dequeue_count,
            "Body": message.raw_body,
        }
        await self._poison_queue.send_raw(json.dumps(wrapper, ensure_ascii=False))
        logger.warning("message.poison: %s from %s: %s", message.message_id, self.name, reason)
        await self.delete(message)


def _with_sequence_number(data: MessageData) -> MessageData:
    if data.sequence_number == 0:
        return dataclasses.replace(data, sequence_number=next_sequence_number())
    return data
