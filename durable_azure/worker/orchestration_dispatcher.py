"""The orchestration dispatcher: listen to owned control queues, run episodes.

One listener task per owned partition receives batches (up to
`controlQueueBatchSize`, one request each) and hands messages to per-instance
sessions. A session runs one episode at a time for its instance; messages that
arrive meanwhile wait and form the next batch, so an instance's episodes never
overlap and a reply can never overtake the history write of its own request
inside this process. `maxConcurrentOrchestratorFunctions` bounds episodes in
flight across all instances; `controlQueueBufferThreshold` bounds messages held
in memory.

A message held here longer than its visibility timeout is delivered again; the
copy only refreshes the pop receipt of the one we hold (as DTFx does), so it is
never applied twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from durable_azure.azure_storage import MessageData, ReceivedMessage, TaskHub, TaskHubQueue
from durable_azure.entities import is_entity_instance
from durable_azure.errors import StorageError
from durable_azure.history import TimerFired
from durable_azure.worker.anchors import AnchorBook
from durable_azure.worker.deliveries import Delivery, LocalDelivery, backoff_delay, settle_local
from durable_azure.worker.episode import EpisodeRunner, utc_now
from durable_azure.worker.polling import BackoffPoller, receive_or_hand_back

logger = logging.getLogger(__name__)


class OrchestrationDispatcher:
    def __init__(
        self,
        hub: TaskHub,
        runner: EpisodeRunner,
        *,
        batch_size: int,
        visibility_timeout: float,
        max_concurrent_episodes: int,
        buffer_threshold: int,
        max_dequeue_count: int,
        max_polling_interval: float,
        anchors: AnchorBook | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self._hub = hub
        self._anchors = anchors or AnchorBook(hub)
        self._runner = runner
        self._batch_size = batch_size
        self._visibility_timeout = visibility_timeout
        self._episode_slots = asyncio.Semaphore(max_concurrent_episodes)
        self._buffer_threshold = buffer_threshold
        self._max_dequeue_count = max_dequeue_count
        self._max_polling_interval = max_polling_interval
        self._clock = clock
        self._listeners: dict[str, tuple[asyncio.Task[None], BackoffPoller]] = {}
        self._pending: dict[str, list[Delivery]] = {}
        self._held: dict[str, Delivery] = {}  # message id -> the copy we hold
        self._sessions: dict[str, asyncio.Task[None]] = {}
        self._buffer_space = asyncio.Event()
        self._buffer_space.set()

    async def start_partition(self, partition_id: str) -> None:
        # Another worker may have moved this partition's instances on while we did not own it.
        self._runner.forget_partition(partition_id)
        queue = self._hub.queue_named(partition_id)
        poller = BackoffPoller(maximum=self._max_polling_interval)
        queue.add_send_listener(poller.wake_after)
        queue.add_local_consumer(self)
        task = asyncio.create_task(self._listen(queue, poller), name=f"listen-{partition_id}")
        self._listeners[partition_id] = (task, poller)

    async def stop_partition(self, partition_id: str, drain_timeout: float = 60.0) -> None:
        """Stop receiving from the partition and wait for its episodes in flight (DTFx's drain)."""
        listener = self._listeners.pop(partition_id, None)
        if listener is not None:
            task, poller = listener
            self._hub.queue_named(partition_id).remove_send_listener(poller.wake_after)
            self._hub.queue_named(partition_id).remove_local_consumer(self)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        in_flight = [
            session
            for instance_id, session in self._sessions.items()
            if self._hub.control_queue_for(instance_id).name == partition_id
        ]
        if in_flight:
            await asyncio.wait(in_flight, timeout=drain_timeout)
        await self._anchors.let_go_of_partition(partition_id)
        self._runner.forget_partition(partition_id)

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop receiving, then let in-flight episodes finish (their messages come back if they do not)."""
        for partition_id in list(self._listeners):
            await self.stop_partition(partition_id)
        sessions = list(self._sessions.values())
        if sessions:
            _, still_running = await asyncio.wait(sessions, timeout=timeout)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        for messages in self._pending.values():  # never applied: their senders must use the queue
            settle_local(messages, is_applied=False)
        self._pending.clear()

    async def _listen(self, queue: TaskHubQueue, poller: BackoffPoller) -> None:
        while True:
            await self._buffer_space.wait()
            try:
                messages = await receive_or_hand_back(queue, self._batch_size, self._visibility_timeout)
                if not messages:
                    await poller.wait_after_empty_poll()
                    continue
                poller.reset()
                for message in messages:
                    await self._admit(queue, message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # storage trouble or a bug: keep listening, with backoff
                logger.warning("queue.listen_failed queue=%s error=%r", queue.name, error)
                await poller.wait_after_empty_poll()

    def deliver_local(self, data: MessageData) -> asyncio.Future[bool] | None:
        """Queue a reply for an instance of a partition we listen to, in memory (see deliveries.py).

        Returns None when the partition is not ours (send it by queue), else a
        future that says whether the episode committed it.
        """
        partition_id = self._hub.control_queue_for(data.instance.instance_id).name
        if partition_id not in self._listeners:
            return None
        delivery = LocalDelivery.of(data)
        self._enqueue(delivery)
        return delivery.settled

    async def try_claim(self, data: MessageData) -> bool:
        """Send a control message claimed and admit it at once, when its partition is ours and there is room.

        A start made in this process (or a message an episode here sends to another instance of a partition we
        own) then costs no receive: the message is stored invisible, as a receive would leave it, and deleted
        when its episode commits; if this process dies first, it reappears after the visibility timeout for
        whoever owns the partition then. False, with nothing sent, when the partition is not ours or the buffer
        is full: the caller sends it visible.
        """
        queue = self._hub.control_queue_for(data.instance.instance_id)
        if queue.name not in self._listeners or not self._buffer_space.is_set():
            return False
        message = await queue.send_claimed(data, visibility_timeout=self._visibility_timeout)
        if queue.name not in self._listeners:  # we let go of the partition meanwhile: its new owner receives it
            try:
                await queue.abandon(message, 0.0)
            except StorageError as error:
                logger.warning(
                    "message.release_failed id=%s error=%s: visible after its timeout", message.message_id, error
                )
            return True
        await self._admit(queue, message)
        return True

    async def _admit(self, queue: TaskHubQueue, message: ReceivedMessage) -> None:
        held = self._held.get(message.message_id)
        if isinstance(held, ReceivedMessage):  # redelivered while we still hold it: keep the newest pop receipt only
            held.pop_receipt = message.pop_receipt
            return
        if self._anchors.absorb_redelivery(message):
            return
        if message.data is None or message.dequeue_count > self._max_dequeue_count:
            await self._reject(queue, message)
            return
        event = message.data.event
        if isinstance(event, TimerFired) and await self._rechain_timer(queue, message, event):
            return
        self._enqueue(message)

    def _enqueue(self, message: Delivery) -> None:
        assert message.data is not None  # undecodable messages were rejected on admission
        instance_id = message.data.instance.instance_id
        self._pending.setdefault(instance_id, []).append(message)
        self._held[message.message_id] = message
        if len(self._held) >= self._buffer_threshold:
            self._buffer_space.clear()
        if instance_id not in self._sessions:
            self._sessions[instance_id] = asyncio.create_task(self._session(instance_id), name=f"session-{instance_id}")

    async def _reject(self, queue: TaskHubQueue, message: ReceivedMessage) -> None:
        """Poison goes aside (failing its instance); a body we just could not fetch is retried later."""
        if message.data is None and not message.is_malformed and message.dequeue_count <= self._max_dequeue_count:
            logger.warning("message.fetch_failed id=%s error=%s", message.message_id, message.decode_error)
            await queue.abandon(message, backoff_delay(message.dequeue_count))
            return
        reason = message.decode_error or f"dequeued {message.dequeue_count} times without completing"
        logger.error("message.poison queue=%s id=%s reason=%s", queue.name, message.message_id, reason)
        if message.data is not None and not is_entity_instance(message.data.instance.instance_id):
            # An entity is never failed: a Failed entity would drop every later operation. Its poison
            # message alone goes aside (a caller waiting on it is not answered; the log line says which).
            await self._runner.fail_instance(message.data.instance.instance_id, f"poison message: {reason}")
        await queue.move_to_poison(message, reason)

    async def _rechain_timer(self, queue: TaskHubQueue, message: ReceivedMessage, event: TimerFired) -> bool:
        """A timer beyond the queue's 7-day visibility limit arrives early: send it on for the rest."""
        remaining = (event.fire_at - self._clock()).total_seconds()
        if remaining <= 1.0 or message.data is None:
            return False
        await queue.send(message.data, visibility_delay=remaining)
        await queue.delete(message)
        logger.info("timer.rechained instance=%s remaining=%.0fs", message.data.instance.instance_id, remaining)
        return True

    async def _session(self, instance_id: str) -> None:
        try:
            while batch := self._pending.pop(instance_id, None):
                async with self._episode_slots:
                    await self._run_batch(instance_id, batch)
                for message in batch:
                    self._held.pop(message.message_id, None)
                if len(self._held) < self._buffer_threshold:
                    self._buffer_space.set()
        finally:
            self._sessions.pop(instance_id, None)
            if instance_id in self._pending:  # arrived while we were finishing
                self._sessions[instance_id] = asyncio.create_task(self._session(instance_id))

    async def _run_batch(self, instance_id: str, batch: list[Delivery]) -> None:
        try:
            await self._runner.run(instance_id, batch)
        except asyncio.CancelledError:  # stopping mid-episode: in-process results must take the queue instead
            settle_local(batch, is_applied=False)
            raise
        except Exception:
            logger.exception("episode.failed instance=%s: messages will be retried with backoff", instance_id)
            try:
                await self._runner.abandon_batch(batch)
            except Exception as error:
                logger.warning("message.abandon_failed instance=%s error=%r", instance_id, error)
