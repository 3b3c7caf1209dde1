"""The Azure Storage queue trigger: poll a queue, run the function per message, delete only after success.

The host's loop (Storage extension `QueueListener`/`QueueProcessor`), request by request:
- receive `batchSize` messages, invisible for 10 minutes; receive again as soon as `newBatchThreshold` or
  fewer are in progress, so at most batchSize + newBatchThreshold run at once. An empty receive, a queue that
  does not exist yet or a failed receive backs off, randomized and exponential, from 100 ms to
  `maxPollingInterval`; a queue output of this process to the queue wakes the loop at once;
- while a function runs, its message's visibility is renewed every 5 minutes (1 minute after a failed renewal);
- success: delete. Failure: when the message has been dequeued `maxDequeueCount` times, copy its text as it is
  to `{queue}-poison` (created on first use) and then delete it; otherwise make it visible again after
  `visibilityTimeout`. A message dequeued more often than that already, or whose text is not base64 when the
  encoding says it is, goes to the poison queue without running. A delete or update refused because the
  message is gone or its receipt changed (another process took it after our visibility ran out) is ignored.

Nothing is deleted before the function succeeded, so every failure path leaves the message in storage: a
crash at any point makes it visible again when its visibility runs out. Many processes polling one queue
share its messages, as storage hands each visible message to one receiver.

`stop()` stops receiving, lets the invocations in progress finish and complete their messages, and makes
messages received after the stop visible again at once. Queue names take `%Setting%` expressions.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable
from contextlib import AbstractContextManager, suppress
from datetime import timedelta

from durable_azure.azure_storage.queue_service import StoredMessage
from durable_azure.errors import ConfigurationError, MessageGoneError, StorageError
from durable_azure.functions import queue_messages, triggers
from durable_azure.functions.bindings.expressions import resolve_settings
from durable_azure.functions.indexing import InvocationServices, TriggeredFunction
from durable_azure.functions.invocation import invoke
from durable_azure.functions.triggers.queue_values import binding_data, parameter_value
from durable_azure.queue_settings import QueueSettings

logger = logging.getLogger(__name__)

RECEIVE_VISIBILITY = timedelta(minutes=10)
MIN_POLLING_INTERVAL = 0.1
RENEWAL_AFTER_FAILURE = timedelta(minutes=1)
DEFAULT_CONNECTION = "AzureWebJobsStorage"


class QueueListener:
    """Runs one queue-triggered function; see the module docstring for the loop."""

    def __init__(
        self,
        function: TriggeredFunction,
        services: InvocationServices,
        *,
        settings: QueueSettings | None = None,
        message_visibility: timedelta = RECEIVE_VISIBILITY,
    ) -> None:
        self._function = function
        self._services = services
        self._settings = settings if settings is not None else queue_messages.settings_for(function)
        self._visibility = message_visibility
        self._connection = function.trigger.field("connection") or None
        self.queue = _queue_name(function)
        self._poison_queue = queue_messages.poison_queue_name(self.queue)
        self._in_progress: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        """Set by a queue output of this process to our queue, and by stop."""
        self._slot_freed = asyncio.Event()
        """Set when an invocation finished, and by stop."""
        self._poller: asyncio.Task[None] | None = None
        self._watching: AbstractContextManager[None] | None = None

    def describe(self) -> str:
        return f"queueTrigger: {self.queue} (connection {self._connection or DEFAULT_CONNECTION})"

    async def start(self) -> None:
        if self._services.account_for is None:
            raise ConfigurationError(f"function {self._function.name!r}: this host gives triggers no storage account")
        try:
            self._account = self._services.account_for(self._connection)
        except ConfigurationError as error:
            raise ConfigurationError(f"function {self._function.name!r}: queueTrigger connection: {error}") from error
        self._watching = queue_messages.watch(self._account, self.queue, self._wake)
        self._watching.__enter__()
        self._poller = asyncio.create_task(self._poll(), name=f"queue-trigger-{self._function.name}")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._slot_freed.set()
        if self._poller is not None:
            await self._poller
        while self._in_progress:
            await asyncio.gather(*self._in_progress, return_exceptions=True)
        if self._watching is not None:
            self._watching.__exit__(None, None, None)
            self._watching = None

    async def _poll(self) -> None:
        delays = _Backoff(MIN_POLLING_INTERVAL, self._settings.max_polling_interval.total_seconds())
        while not self._stopping.is_set():
            if len(self._in_progress) > self._settings.threshold:
                await self._slot_freed.wait()
                self._slot_freed.clear()
                continue
            messages = await self._receive()
            if self._stopping.is_set():
                await asyncio.gather(*(self._release(message) for message in messages))
                return
            for message in messages:
                task = asyncio.create_task(self._process(message))
                self._in_progress.add(task)
                task.add_done_callback(self._finished)
            if messages:
                delays.reset()
            else:
                await self._wait(delays.next())

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_progress.discard(task)
        self._slot_freed.set()

    async def _wait(self, seconds: float) -> None:
        """Until a local send wakes us, stop is asked, or `seconds` passed."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _receive(self) -> list[StoredMessage]:
        try:
            return await self._account.queues.receive(
                self.queue, self._settings.batch_size, visibility_timeout=int(self._visibility.total_seconds())
            )
        except Exception as error:  # never let the poller die while the host runs: back off and try again
            if not isinstance(error, StorageError):
                logger.exception("queue.receive_failed function=%s queue=%s", self._function.name, self.queue)
            elif not queue_messages.is_queue_missing(error):
                logger.warning(
                    "queue.receive_failed function=%s queue=%s error=%s", self._function.name, self.queue, error
                )
            return []

    async def _process(self, message: StoredMessage) -> None:
        try:
            await self._run_and_complete(message)
        except Exception:  # a storage failure while completing: the message comes back after its visibility
            logger.exception("queue.complete_failed function=%s message_id=%s", self._function.name, message.message_id)

    async def _run_and_complete(self, message: StoredMessage) -> None:
        if message.dequeue_count > self._settings.max_dequeue_count:
            await self._to_poison(message, message.pop_receipt, reason="dequeued too often already")
            return
        try:
            body = queue_messages.decode(message.text, self._settings.message_encoding)
        except ValueError as error:
            await self._to_poison(message, message.pop_receipt, reason=f"the text is {error}")
            return
        run = asyncio.create_task(self._invoke(message, body))
        receipt = await self._renew_until_done(message, run)
        failure = run.exception() if not run.cancelled() else asyncio.CancelledError()
        if failure is None:
            await self._ignoring_gone(self._account.queues.delete_message(self.queue, message.message_id, receipt))
            return
        logger.warning(
            "queue.function_failed function=%s queue=%s message_id=%s dequeue_count=%d error=%r",
            self._function.name, self.queue, message.message_id, message.dequeue_count, failure,
            exc_info=failure,
        )  # fmt: skip
        if message.dequeue_count >= self._settings.max_dequeue_count:
            await self._to_poison(message, receipt, reason=f"failed {message.dequeue_count} time(s)")
        else:
            visible_after = int(self._settings.visibility_timeout.total_seconds())
            update = self._account.queues.update_visibility(self.queue, message.message_id, receipt, visible_after)
            await self._ignoring_gone(update)

    async def _invoke(self, message: StoredMessage, body: bytes) -> None:
        function = self._function
        value = parameter_value(function.function, function.trigger_name, message, body)
        await invoke(function, value, self._services, binding_data=binding_data(message, body))

    async def _renew_until_done(self, message: StoredMessage, run: asyncio.Task[None]) -> str:
        """Keep the message invisible while `run` runs; returns the pop receipt that completes it."""
        receipt = message.pop_receipt
        interval = self._visibility / 2
        while True:
            done, _ = await asyncio.wait({run}, timeout=interval.total_seconds())
            if done:
                return receipt
            try:
                receipt = await self._account.queues.update_visibility(
                    self.queue, message.message_id, receipt, int(self._visibility.total_seconds())
                )
                interval = self._visibility / 2
            except StorageError as error:
                logger.warning("queue.renew_failed message_id=%s error=%s", message.message_id, error)
                interval = min(self._visibility / 2, RENEWAL_AFTER_FAILURE)

    async def _to_poison(self, message: StoredMessage, receipt: str, *, reason: str) -> None:
        """Copy the text, as stored, to the poison queue, then delete; without a poison queue leave it invisible."""
        if self._poison_queue is None:
            logger.error(
                "queue.poison_unavailable queue=%s message_id=%s reason=%s", self.queue, message.message_id, reason
            )
            return
        await queue_messages.send_creating(self._account, self._poison_queue, message.text)
        logger.error(
            "queue.poison function=%s queue=%s poison_queue=%s message_id=%s dequeue_count=%d reason=%s",
            self._function.name, self.queue, self._poison_queue, message.message_id, message.dequeue_count, reason,
        )  # fmt: skip
        await self._ignoring_gone(self._account.queues.delete_message(self.queue, message.message_id, receipt))

    async def _release(self, message: StoredMessage) -> None:
        """A message received after stop: visible again at once, for another process (or the next start)."""
        try:
            await self._account.queues.update_visibility(self.queue, message.message_id, message.pop_receipt, 0)
        except StorageError as error:
            logger.warning("queue.release_failed message_id=%s error=%s", message.message_id, error)

    @staticmethod
    async def _ignoring_gone(request: Awaitable[object]) -> None:
        with suppress(MessageGoneError):  # another receiver took it after our visibility ran out: theirs now
            await request


class _Backoff:
    """Randomized exponential backoff between `minimum` and `maximum` seconds, restarted by `reset`."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self._minimum, self._maximum, self._current = minimum, max(minimum, maximum), 0.0

    def reset(self) -> None:
        self._current = 0.0

    def next(self) -> float:
        self._current = self._minimum if self._current == 0 else min(self._maximum, self._current * 2)
        return min(self._maximum, self._current * random.uniform(0.8, 1.2))


def _queue_name(function: TriggeredFunction) -> str:
    where = f"function {function.name!r}: queueTrigger {function.trigger.name!r}"
    raw = function.trigger.field("queueName")
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigurationError(f"{where} needs a queueName")
    name = resolve_settings(raw.strip(), where=where).lower()
    problem = queue_messages.queue_name_problem(name)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}")
    return name


triggers.register("queueTrigger", QueueListener)
