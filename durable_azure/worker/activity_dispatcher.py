"""The activity dispatcher: run work items and send their outcome home.

The work-item queue is shared by every worker (competing consumers). Sync
activities run in a thread pool, async ones on the event loop; at most
`maxConcurrentActivityFunctions` run at once. Work reaches a slot two ways:

* claimed: an orchestration episode of this process sends an activity request
  while a slot is free, so the request is sent already invisible (as a receive
  would leave it) and started here at once (`try_claim`), which saves the
  receive and the polling delay;
* received: requests sent visible, by other workers or when every slot here
  was taken, are polled for, only as many as there are free slots.

Either way nothing sits invisible in our memory while another worker idles.
A long activity keeps its message invisible by renewing it; if this process
dies the message reappears and runs again elsewhere (at-least-once, as in
DTFx), claimed or not. The outcome goes to the control queue of the
orchestration that scheduled it (or to its session in memory, when this
process owns it), and only then is the work item deleted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from durable_azure import serialization
from durable_azure.azure_storage import MAX_MESSAGES_PER_RECEIVE, MessageData, ReceivedMessage, TaskHub, TaskHubQueue
from durable_azure.azure_storage.presence import RunningActivity
from durable_azure.errors import MessageGoneError, StorageError
from durable_azure.history import FailureDetails, HistoryEvent, TaskCompleted, TaskFailed, TaskScheduled
from durable_azure.orchestration.actions import activity_input_text
from durable_azure.worker.deliveries import backoff_delay
from durable_azure.worker.failure_text import activity_failure
from durable_azure.worker.http_activity import BUILT_IN_ACTIVITIES
from durable_azure.worker.polling import BackoffPoller, receive_or_hand_back
from durable_azure.worker.registry import ActivityFunction, Registry

logger = logging.getLogger(__name__)


class ActivityDispatcher:
    def __init__(
        self,
        hub: TaskHub,
        registry: Registry,
        *,
        max_concurrent: int,
        visibility_timeout: float,
        max_dequeue_count: int,
        max_polling_interval: float,
        deliver_local: Callable[[MessageData], asyncio.Future[bool] | None] | None = None,
    ):
        self._deliver_local = deliver_local
        self._hub = hub
        self._registry = registry
        self._free = max_concurrent
        self._max_concurrent = max_concurrent
        self._waiting: collections.deque[tuple[MessageData, Callable[[bool], None]]] = collections.deque()
        self._visibility_timeout = visibility_timeout
        self._max_dequeue_count = max_dequeue_count
        self._poller = BackoffPoller(maximum=max_polling_interval)
        self._threads = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="activity")
        self._listener: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._is_claiming = False
        self._last_poll_found_work = False
        self._running_since: dict[RunningActivity, float] = {}  # what runs here now, since when (monotonic)

    def running_activities(self, *, longer_than: float = 0.0) -> set[RunningActivity]:
        """Activities running in this process (for `longer_than` seconds at least), for the repair sweep."""
        cutoff = time.monotonic() - longer_than
        return {key for key, since in self._running_since.items() if since <= cutoff}

    def waiting_activities(self) -> set[RunningActivity]:
        """Unqueued activity requests waiting here for a slot: they have no work item, this process has them."""
        return {(d.instance.instance_id, d.instance.execution_id or "", d.event.event_id) for d, _ in self._waiting}

    def start(self) -> None:
        queue = self._hub.work_item_queue
        queue.add_send_listener(self._poller.wake_after)
        queue.add_local_consumer(self)
        self._is_claiming = True
        self._listener = asyncio.create_task(self._listen(), name="activity-listener")

    async def try_claim(self, data: MessageData) -> bool:
        """Send the activity request `data` already dequeued by us, and start it, if a slot is free now.

        Returns False, having sent nothing, when every slot is taken: the caller
        then sends it visible, for whichever worker frees a slot first. The slot
        is taken before the send, so concurrent claims cannot overfill us.
        """
        if not self._is_claiming or self._free == 0:
            return False
        self._free -= 1
        try:
            message = await self._hub.work_item_queue.send_claimed(data, visibility_timeout=self._visibility_timeout)
        except BaseException:
            self._release_slots(1)
            raise
        self._start(message)
        return True

    def run_unqueued(self, data: MessageData, on_settled: Callable[[bool], None]) -> bool:
        """Run an activity request that has no queue message behind it (anchors.py); False if we cannot take it.

        It runs at once in a free slot, or waits here for one behind at most
        `max_concurrent` others; beyond that the caller sends a work item, for
        any worker. The slot is freed as soon as the activity function returns:
        waiting for the orchestration to commit the outcome is not work.
        `on_settled(True)` once the outcome is committed or sent by queue;
        `on_settled(False)` if neither could be done, so the anchor is let go
        and recovery sends the request again.
        """
        if not self._is_claiming:
            return False
        if self._free > 0:
            self._free -= 1
            self._spawn_unqueued(data, on_settled)
        elif len(self._waiting) < self._max_concurrent:
            self._waiting.append((data, on_settled))
        else:
            return False
        return True

    def _spawn_unqueued(self, data: MessageData, on_settled: Callable[[bool], None]) -> None:
        task = asyncio.create_task(self._run_unqueued(data, on_settled))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _hand_waiting_to_the_queue(self) -> None:
        """Stopping: unqueued requests that never got a slot become work items, for whoever runs next."""
        while self._waiting:
            data, on_settled = self._waiting.popleft()
            try:
                await self._hub.work_item_queue.send(data)
            except StorageError as error:
                logger.warning("activity.hand_over_failed error=%s: its anchor brings it back", error)
                on_settled(False)
                continue
            on_settled(True)

    async def _run_unqueued(self, data: MessageData, on_settled: Callable[[bool], None]) -> None:
        event = data.event
        assert isinstance(event, TaskScheduled)
        with self._tracking_run(data):
            try:
                outcome = await self._invoke(event)
            finally:
                self._release_slots(1)
            try:
                await self._send_outcome(data, outcome)
            except StorageError as error:
                logger.warning("activity.outcome_failed activity=%s error=%s: it will run again", event.name, error)
                on_settled(False)
                return
        on_settled(True)

    @contextlib.contextmanager
    def _tracking_run(self, data: MessageData) -> Iterator[None]:
        """Known as running here from its start until its outcome is stored (sent, or handed over in memory)."""
        key = (data.instance.instance_id, data.instance.execution_id or "", data.event.event_id)
        self._running_since.setdefault(key, time.monotonic())
        try:
            yield
        finally:
            self._running_since.pop(key, None)

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop receiving and claiming; give running activities `timeout` to finish, then hand the rest back."""
        self._is_claiming = False
        self._hub.work_item_queue.remove_local_consumer(self)
        self._hub.work_item_queue.remove_send_listener(self._poller.wake_after)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._hand_waiting_to_the_queue()
        if self._running:
            _, still_running = await asyncio.wait(list(self._running), timeout=timeout)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _listen(self) -> None:
        queue = self._hub.work_item_queue
        while True:
            while self._free == 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
            try:
                messages = await self._receive(queue)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # storage trouble or a bug: this loop must not die
                logger.warning("queue.listen_failed queue=%s error=%r", queue.name, error)
                await self._poller.wait_after_empty_poll()
                continue
            self._last_poll_found_work = bool(messages)
            if not messages:
                await self._poller.wait_after_empty_poll()
                continue
            self._poller.reset()
            await self._start_received(queue, messages)

    async def _receive(self, queue: TaskHubQueue) -> list[ReceivedMessage]:
        """One receive for up to the free slots; whether claims may take them meanwhile depends on the queue.

        While the queue has work (the last poll found some) the slots stay
        reserved for the receive in flight: a claim then fails and its request
        is sent visible, behind the backlog. Otherwise the queue is probably
        empty, and reserving would turn away every claim that arrives while an
        idle worker polls; so claims may take the slots, and the rare receive
        that then returns more than fits hands the rest back.
        """
        count = min(MAX_MESSAGES_PER_RECEIVE, self._free)
        reserved = count if self._last_poll_found_work else 0
        self._free -= reserved
        try:
            return await receive_or_hand_back(queue, count, self._visibility_timeout)
        finally:
            self._free += reserved

    async def _start_received(self, queue: TaskHubQueue, messages: list[ReceivedMessage]) -> None:
        """Start the received messages that still fit; hand the others back to the queue at once.

        Holding them would keep them invisible in our memory while other
        workers may idle; one update each makes them visible to all again.
        """
        fits = min(len(messages), self._free)
        for message in messages[:fits]:
            self._free -= 1
            self._start(message)
        surplus = messages[fits:]
        if surplus:
            logger.info("activity.handed_back count=%d: slots were claimed during the receive", len(surplus))
            outcomes = await asyncio.gather(*(queue.abandon(m, 0.0) for m in surplus), return_exceptions=True)
            for error in (outcome for outcome in outcomes if isinstance(outcome, Exception)):
                logger.warning("activity.hand_back_failed error=%r: visible again after its timeout", error)

    def _start(self, message: ReceivedMessage) -> None:
        """Run a message in a slot already taken for it; the slot comes free when it is done."""
        task = asyncio.create_task(self._process(message))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._release_slots(1)

    def _release_slots(self, count: int) -> None:
        """Free slots go first to unqueued requests waiting here: they are committed work the queue does not hold."""
        self._free += count
        while self._free > 0 and self._waiting:
            self._free -= 1
            self._spawn_unqueued(*self._waiting.popleft())
        if self._free > 0:
            self._slot_freed.set()

    async def _process(self, message: ReceivedMessage) -> None:
        try:
            await self._process_message(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("activity.dispatch_failed id=%s: handing the work item back", message.message_id)
            await self._hub.work_item_queue.abandon(message, backoff_delay(message.dequeue_count))

    async def _process_message(self, message: ReceivedMessage) -> None:
        queue = self._hub.work_item_queue
        if message.data is None:
            if message.is_malformed or message.dequeue_count > self._max_dequeue_count:
                await queue.move_to_poison(message, message.decode_error or "undecodable work item")
            else:  # its large-message blob could not be fetched this time
                await queue.abandon(message, backoff_delay(message.dequeue_count))
            return
        event = message.data.event
        if not isinstance(event, TaskScheduled):
            await queue.move_to_poison(message, f"unexpected {type(event).__name__} on the work-item queue")
            return
        try:
            if message.dequeue_count > self._max_dequeue_count:
                outcome = _failure(event, "PoisonMessage", f"work item dequeued {message.dequeue_count} times")
                logger.error("message.poison activity=%s id=%s", event.name, message.message_id)
                await self._send_outcome(message.data, outcome)
            else:
                await self._run_with_renewal(message, self._run_and_reply(message.data, event))
            await queue.delete(message)
        except MessageGoneError:
            logger.warning("activity.lost_message activity=%s: it will run again elsewhere", event.name)
        except StorageError as error:
            logger.warning("activity.commit_failed activity=%s error=%s", event.name, error)
            await queue.abandon(message, backoff_delay(message.dequeue_count))

    async def _run_and_reply(self, request: MessageData, event: TaskScheduled) -> None:
        with self._tracking_run(request):
            outcome = await self._invoke(event)
            await self._send_outcome(request, outcome)

    async def _run_with_renewal(self, message: ReceivedMessage, work: Awaitable[None]) -> None:
        """Keep the work item invisible until the activity ran and its outcome is safely stored."""
        done = asyncio.Event()
        renewal = asyncio.create_task(self._keep_invisible(message, done))
        try:
            await work
        finally:
            done.set()  # not cancel(): a renewal in flight must finish, or we lose its new pop receipt
            await asyncio.gather(renewal, return_exceptions=True)

    async def _keep_invisible(self, message: ReceivedMessage, done: asyncio.Event) -> None:
        """Renew every half visibility timeout (at most 30 s); a failed renewal is retried sooner."""
        interval = max(1.0, min(30.0, self._visibility_timeout / 2))
        wait = interval
        while True:
            try:
                async with asyncio.timeout(wait):  # not wait_for: see polling.py
                    await done.wait()
                return
            except TimeoutError:
                pass
            try:
                await self._hub.work_item_queue.renew(message, self._visibility_timeout)
                wait = interval
            except MessageGoneError:
                logger.warning("activity.renew_lost id=%s: the work item may run again", message.message_id)
                return
            except StorageError as error:
                logger.warning("activity.renew_failed id=%s error=%s", message.message_id, error)
                wait = 1.0

    async def _invoke(self, event: TaskScheduled) -> HistoryEvent:
        activity = self._registry.activities.get(event.name) or BUILT_IN_ACTIVITIES.get(event.name)
        if activity is None:
            return _failure(event, "ActivityNotFoundError", f"no activity named '{event.name}' is registered")
        try:
            input_text = activity_input_text(event.input)
            value = activity.decode_input(input_text) if activity.decode_input else serialization.loads(input_text)
            result = await self._call(activity, value)
            result_text = activity.encode_output(result) if activity.encode_output else serialization.dumps(result)
            return TaskCompleted(timestamp=datetime.now(UTC), task_scheduled_id=event.event_id, result=result_text)
        except Exception as error:
            # The extension's wording (TaskActivityShim), which apps on the original parse out of str(e).
            error_type, text, stack_trace = type(error).__name__, str(error), traceback.format_exc()
            reason, details = activity_failure(event.name, error_type, text, stack_trace)
            return _failure(event, error_type, text, stack_trace, reason=reason, details=details)

    async def _call(self, activity: ActivityFunction, value: object) -> object:
        if activity.input_name:
            call = functools.partial(activity.function, **{activity.input_name: value})
        else:
            call = functools.partial(activity.function, value)
        if activity.is_async:
            return await call()
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def _send_outcome(self, request: MessageData, outcome: HistoryEvent) -> None:
        """In memory when this process owns the orchestration's partition and commits it; else by queue."""
        reply = MessageData(event=outcome, instance=request.instance, episode=request.episode)
        settled = self._deliver_local(reply) if self._deliver_local is not None else None
        if settled is not None and await settled:
            return
        await self._hub.control_queue_for(request.instance.instance_id).send(reply)


def _failure(
    event: TaskScheduled,
    error_type: str,
    message: str,
    stack_trace: str | None = None,
    *,
    reason: str | None = None,
    details: str | None = None,
) -> TaskFailed:
    return TaskFailed(
        timestamp=datetime.now(UTC),
        task_scheduled_id=event.event_id,
        reason=reason or f"{error_type}: {message}",
        details=details if details is not None else stack_trace,
        failure_details=FailureDetails(error_type=error_type, error_message=message, stack_trace=stack_trace),
    )
