"""Queue service requests (REST API "Queue Service"): create and delete queues, send, receive, delete, update.

Built once here and sent by the account's StorageClient through either
transport. Each method is one request (plus the client's retries) and says
what repeating it does (`Safety`). Message bodies are XML-escaped text; the
envelope inside is `messages.py`'s business.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from durable_azure.azure_storage.transport.client import StorageClient
from durable_azure.azure_storage.transport.request import Safety, Service, StorageRequest, encode_path_segment
from durable_azure.errors import StorageError

_XML = {"Content-Type": "application/xml"}


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """A message as storage returned it: id, pop receipt, dequeue count, insertion/expiry/next-visible times, text."""

    message_id: str
    pop_receipt: str
    dequeue_count: int
    insertion_time: datetime
    text: str
    expiration_time: datetime | None = None
    time_next_visible: datetime | None = None
    """When the message becomes visible again (after a receive: when our claim on it ends)."""


@dataclass(frozen=True, slots=True)
class QueueProperties:
    approximate_message_count: int


class QueueService:
    def __init__(self, client: StorageClient) -> None:
        self._client = client

    def _request(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        operation: str,
        queue: str,
        safety: Safety,
        success: frozenset[int],
        query: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> StorageRequest:
        return StorageRequest(
            service=Service.QUEUE,
            method=method,
            path=path,
            query=query,
            headers=_XML if body else {},
            body=body,
            kind=kind,
            operation=operation,
            context=f"queue={queue!r}",
            safety=safety,
            success=success,
        )

    async def create_queue(self, queue: str) -> None:
        """Create the queue; one that exists already is fine (201 created, 204 or 409 there)."""
        await self._client.send(
            self._request(
                "PUT",
                f"/{queue}",
                kind="other",
                operation="create queue",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({201, 204, 409}),
            )
        )

    async def delete_queue(self, queue: str) -> None:
        """Delete the queue; one that is gone is fine."""
        await self._client.send(
            self._request(
                "DELETE",
                f"/{queue}",
                kind="other",
                operation="delete queue",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({204, 404}),
            )
        )

    async def clear(self, queue: str) -> None:
        """Delete every message of the queue (one request): for maintenance and tests, never the runtime."""
        await self._client.send(
            self._request(
                "DELETE",
                f"/{queue}/messages",
                kind="other",
                operation="clear messages",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({204}),
            )
        )

    async def properties(self, queue: str) -> QueueProperties:
        response = await self._client.send(
            self._request(
                "GET",
                f"/{queue}",
                kind="other",
                operation="get queue properties",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({200}),
                query=(("comp", "metadata"),),
            )
        )
        return QueueProperties(int(response.header("x-ms-approximate-messages-count") or 0))

    async def send(self, queue: str, text: str, *, visibility_timeout: int, time_to_live: int = -1) -> StoredMessage:
        """One send; returns the new message with its pop receipt, so the sender can renew or delete it unreceived.

        That is how a worker claims the work item it sends (worker/activity_dispatcher.py).
        """
        body = f"<QueueMessage><MessageText>{escape(text)}</MessageText></QueueMessage>".encode()
        query = [("messagettl", str(time_to_live))]
        if visibility_timeout:
            query.append(("visibilitytimeout", str(visibility_timeout)))
        response = await self._client.send(
            self._request(
                "POST",
                f"/{queue}/messages",
                kind="queue.send",
                operation="send message",
                queue=queue,
                safety=Safety.DUPLICATE_DROPPED,
                success=frozenset({201}),
                query=tuple(query),
                body=body,
            )
        )
        return _parse_sent(response.body, text)

    async def receive(self, queue: str, count: int, *, visibility_timeout: int) -> list[StoredMessage]:
        """One receive of up to `count` (1-32) messages, invisible for `visibility_timeout` seconds.

        Repeating a receive whose answer was lost is harmless but costly: the
        messages it took stay invisible until their timeout.
        """
        response = await self._client.send(
            self._request(
                "GET",
                f"/{queue}/messages",
                kind="queue.receive",
                operation="receive messages",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({200}),
                query=(("numofmessages", str(count)), ("visibilitytimeout", str(visibility_timeout))),
            )
        )
        return [_parse_message(element) for element in ElementTree.fromstring(response.body).iter("QueueMessage")]

    async def peek(self, queue: str, count: int) -> list[StoredMessage]:
        """Up to `count` visible messages, left as they are (no pop receipt)."""
        response = await self._client.send(
            self._request(
                "GET",
                f"/{queue}/messages",
                kind="other",
                operation="peek messages",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({200}),
                query=(("numofmessages", str(count)), ("peekonly", "true")),
            )
        )
        return [_parse_message(element) for element in ElementTree.fromstring(response.body).iter("QueueMessage")]

    async def delete_message(self, queue: str, message_id: str, pop_receipt: str) -> None:
        """One delete; MessageGoneError when it is gone or the receipt is stale (`maybe_applied`: by us)."""
        await self._client.send(
            self._request(
                "DELETE",
                f"/{queue}/messages/{encode_path_segment(message_id)}",
                kind="queue.delete",
                operation="delete message",
                queue=queue,
                safety=Safety.IDEMPOTENT,
                success=frozenset({204}),
                query=(("popreceipt", pop_receipt),),
            )
        )

    async def update_visibility(self, queue: str, message_id: str, pop_receipt: str, visibility_timeout: int) -> str:
        """One update; returns the new pop receipt. MessageGoneError when it is gone or the receipt is stale.

        After an ambiguous attempt the repeat is refused if the first one took
        effect (`maybe_applied` on the error): the message is then invisible
        for the requested time under a receipt we never saw.
        """
        response = await self._client.send(
            self._request(
                "PUT",
                f"/{queue}/messages/{encode_path_segment(message_id)}",
                kind="queue.update",
                operation="update message",
                queue=queue,
                safety=Safety.RECEIPT,
                success=frozenset({204}),
                query=(("popreceipt", pop_receipt), ("visibilitytimeout", str(visibility_timeout))),
            )
        )
        receipt = response.header("x-ms-popreceipt")
        if not receipt:
            raise StorageError(f"update message: the reply has no pop receipt (queue={queue!r})")
        return receipt


def _parse_message(element: ElementTree.Element) -> StoredMessage:
    def text(tag: str) -> str:
        return element.findtext(tag) or ""

    def time(tag: str) -> datetime | None:
        value = text(tag)
        return parsedate_to_datetime(value) if value else None

    return StoredMessage(
        message_id=text("MessageId"),
        pop_receipt=text("PopReceipt"),
        dequeue_count=int(text("DequeueCount") or 0),
        insertion_time=parsedate_to_datetime(text("InsertionTime")),
        text=text("MessageText"),
        expiration_time=time("ExpirationTime"),
        time_next_visible=time("TimeNextVisible"),
    )


def _parse_sent(body: bytes, text: str) -> StoredMessage:
    """Put Message's reply: `<QueueMessagesList><QueueMessage>` with id, times and pop receipt, but no text."""
    element = ElementTree.fromstring(body).find("QueueMessage")
    if element is None:
        raise StorageError("send message: the reply does not describe the new message")
    return dataclasses.replace(_parse_message(element), dequeue_count=0, text=text)  # never received yet
