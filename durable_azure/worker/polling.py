"""Idle polling with backoff, woken at once when this process enqueued work.

A queue poller that finds nothing waits longer each time (50 ms, x4 per empty
poll, up to `maxQueuePollingInterval`, with jitter), which keeps an idle worker
cheap: DTFx doubles, which costs about twice the polls before an idle queue
reaches the maximum. The cost of that backoff is latency for work
that arrives while the poller sleeps; when the work was enqueued by this same
process we know about it, so `wake()` cuts the sleep short.
"""

from __future__ import annotations

import asyncio
import logging
import random

from durable_azure.azure_storage import ReceivedMessage, TaskHubQueue
from durable_azure.errors import StorageError

logger = logging.getLogger(__name__)


async def receive_or_hand_back(
    queue: TaskHubQueue, max_messages: int, visibility_timeout: float
) -> list[ReceivedMessage]:
    """One receive that a stopping worker may cancel without hiding messages from the others.

    The service makes messages invisible the moment it answers; a listener
    cancelled while the answer is on its way would drop them, and nobody could
    see them until their visibility timeout (5 minutes by default). So the
    receive runs on, and what it brings is made visible again at once.
    """
    receiving = asyncio.ensure_future(queue.receive(max_messages, visibility_timeout))
    try:
        return await asyncio.shield(receiving)
    except asyncio.CancelledError:
        try:
            messages = await receiving
            await asyncio.gather(*(queue.abandon(message, 0.0) for message in messages))
        except StorageError as error:
            logger.warning("queue.hand_back_failed queue=%s error=%s: visible after their timeout", queue.name, error)
        raise


class BackoffPoller:
    def __init__(self, *, minimum: float = 0.05, maximum: float = 30.0, factor: float = 4.0):
        if minimum <= 0 or maximum < minimum or factor < 1:
            raise ValueError("invalid polling backoff")
        self._minimum = minimum
        self._maximum = maximum
        self._factor = factor
        self._interval = 0.0
        self._woken = asyncio.Event()

    @property
    def interval(self) -> float:
        """The wait the next empty poll will cause (0 right after work was found)."""
        return self._interval

    def reset(self) -> None:
        """Work was found: poll again at once."""
        self._interval = 0.0

    def wake(self) -> None:
        """Something was enqueued here: end the current (or next) idle wait now."""
        self._woken.set()
        self._interval = 0.0

    def wake_after(self, delay: float) -> None:
        """A message becomes visible in `delay` seconds: wake then (a send listener)."""
        if delay <= 0:
            self.wake()
        else:
            asyncio.get_running_loop().call_later(delay, self.wake)

    async def wait_after_empty_poll(self) -> None:
        """Sleep for the next backoff step, or less if woken."""
        self._interval = min(self._maximum, max(self._minimum, self._interval * self._factor))
        delay = self._interval * random.uniform(0.8, 1.2)
        if self._woken.is_set():
            self._woken.clear()
            return
        try:
            # Not asyncio.wait_for: on Python 3.11 a cancel() that lands in the same loop iteration as
            # wake() is swallowed by it, and the listener that owns this poller would then never stop.
            async with asyncio.timeout(delay):
                await self._woken.wait()
        except TimeoutError:
            return
        self._woken.clear()
