"""Activity results handed straight to this process's orchestration sessions.

When the worker that ran an activity also owns the partition of the
orchestration waiting for it, sending the result through the control queue
costs three storage requests (send, receive, delete) and a polling delay, only
to come back to the same process. Instead the result joins the instance's next
batch in memory. The work item is deleted only once the episode that applied
the result has committed its history, so the queued work item stays the
recovery path: if this process dies first, the work item reappears, the
activity runs again, and its result travels by queue as usual.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from durable_azure.azure_storage import MessageData, ReceivedMessage

LOCAL_QUEUE = "(in-process)"


class LocalInbox:
    def __init__(self) -> None:
        self._settled: dict[str, asyncio.Future[bool]] = {}

    @staticmethod
    def is_local(message: ReceivedMessage) -> bool:
        return message.queue_name == LOCAL_QUEUE

    def wrap(self, data: MessageData) -> tuple[ReceivedMessage, asyncio.Future[bool]]:
        """A message that looks received, and a future that says whether its episode committed it."""
        message = ReceivedMessage(
            data=data,
            decode_error=None,
            message_id=f"local-{uuid.uuid4().hex}",
            pop_receipt="",
            dequeue_count=1,
            insertion_time=datetime.now(UTC),
            queue_name=LOCAL_QUEUE,
            raw_body="",
        )
        settled: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._settled[message.message_id] = settled
        return message, settled

    def settle(self, message: ReceivedMessage, *, is_applied: bool) -> None:
        """True: the episode committed it (or dropped it as a duplicate); False: send it by queue instead."""
        settled = self._settled.pop(message.message_id, None)
        if settled is not None and not settled.done():
            settled.set_result(is_applied)
