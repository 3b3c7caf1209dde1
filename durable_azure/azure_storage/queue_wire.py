"""The four hot queue operations (send, receive, delete, update) as plain signed HTTP requests.

Every activity costs a work-item send and delete, and every step of every
orchestration a few more queue calls. Through the azure-storage-queue
pipeline each request costs about 2.2 ms of client CPU; the same request
signed and sent here costs about 0.5 ms (measured on Azurite, see the README's
benchmark section), and the worker is CPU-bound on a small machine. Queue
management (create, delete) stays on the SDK.

Authentication is Shared Key (the storage REST API's "Authorization: SharedKey
account:signature"); a connection string without an account key (SAS) keeps
the SDK path. Requests are counted in the account's RequestCounter like the
SDK's, and failures raise the same StorageError family.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from durable_azure.azure_storage.http_pool import HttpReply, TransportError
from durable_azure.azure_storage.signed_rest import SignedRestClient
from durable_azure.errors import MessageGoneError, StorageError

logger = logging.getLogger(__name__)

API_VERSION = "2021-12-02"
_RETRIES = 3
_RETRIABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_GONE_CODES = frozenset({"MessageNotFound", "PopReceiptMismatch"})


@dataclass(frozen=True, slots=True, kw_only=True)
class WireMessage:
    message_id: str
    pop_receipt: str
    dequeue_count: int
    insertion_time: datetime
    text: str


class QueueWire(SignedRestClient):
    """Signed REST calls against one account's queue endpoint (e.g. `http://127.0.0.1:10001/devstoreaccount1/`)."""

    async def send(self, queue: str, text: str, *, visibility_timeout: int) -> WireMessage:
        """Returns the new message with its pop receipt, so the sender can renew or delete it unreceived.

        That is how a worker claims the work item it sends (worker/activity_dispatcher.py).
        """
        body = f"<QueueMessage><MessageText>{escape(text)}</MessageText></QueueMessage>".encode()
        query = {"messagettl": "-1"}
        if visibility_timeout:
            query["visibilitytimeout"] = str(visibility_timeout)
        reply = await self._call("POST", f"/{queue}/messages", query, body, operation="send message", expect=201)
        return _parse_sent(reply.body, text)

    async def receive(self, queue: str, count: int, *, visibility_timeout: int) -> list[WireMessage]:
        query = {"numofmessages": str(count), "visibilitytimeout": str(visibility_timeout)}
        reply = await self._call("GET", f"/{queue}/messages", query, b"", operation="receive messages", expect=200)
        return [_parse_message(element) for element in ElementTree.fromstring(reply.body).iter("QueueMessage")]

    async def delete(self, queue: str, message_id: str, pop_receipt: str) -> None:
        path = f"/{queue}/messages/{message_id}"
        await self._call("DELETE", path, {"popreceipt": pop_receipt}, b"", operation="delete message", expect=204)

    async def update_visibility(self, queue: str, message_id: str, pop_receipt: str, visibility_timeout: int) -> str:
        """Returns the new pop receipt."""
        query = {"popreceipt": pop_receipt, "visibilitytimeout": str(visibility_timeout)}
        path = f"/{queue}/messages/{message_id}"
        reply = await self._call("PUT", path, query, b"", operation="update message", expect=204)
        return reply.headers["x-ms-popreceipt"]

    async def _call(
        self, method: str, path: str, query: dict[str, str], body: bytes, *, operation: str, expect: int
    ) -> HttpReply:
        for attempt in range(_RETRIES + 1):
            try:
                reply = await self._request(method, path, query, body)
            except (TransportError, TimeoutError) as error:
                if attempt == _RETRIES:
                    raise StorageError(f"{operation} failed ({type(error).__name__}, queue path={path!r})") from error
            else:
                if reply.status == expect:
                    return reply
                if reply.status not in _RETRIABLE_STATUS or attempt == _RETRIES:
                    raise _error(operation, path, reply)
            await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, query: dict[str, str], body: bytes) -> HttpReply:
        full_path = f"{self._base_path}{path}"
        query_string = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
        headers = {"x-ms-date": self._now(), "x-ms-version": API_VERSION}
        if body:
            headers["Content-Type"] = "application/xml"
        headers["Authorization"] = self._authorization(method, full_path, query, headers, len(body))
        self._record("queue", method, f"{self._endpoint}{path}?{query_string}")
        return await self._pool.request(method, f"{quote(full_path)}?{query_string}", headers, body)

    def _authorization(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], content_length: int
    ) -> str:
        """Shared Key: HMAC-SHA256 of the canonical request (storage REST API, "Authorize with Shared Key")."""
        canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in sorted(headers) if name.startswith("x-ms-"))
        canonical_resource = f"/{self._account_name}{path}" + "".join(
            f"\n{name}:{query[name]}" for name in sorted(query)
        )
        string_to_sign = "\n".join(
            [
                method,
                "",  # Content-Encoding
                "",  # Content-Language
                str(content_length) if content_length else "",
                "",  # Content-MD5
                headers.get("Content-Type", ""),
                "",  # Date (x-ms-date is used)
                "",  # If-Modified-Since
                "",  # If-Match
                "",  # If-None-Match
                "",  # If-Unmodified-Since
                "",  # Range
            ]
        )
        return self._shared_key(string_to_sign + "\n" + canonical_headers + canonical_resource)


def _parse_message(element: ElementTree.Element) -> WireMessage:
    def text(tag: str) -> str:
        return element.findtext(tag) or ""

    return WireMessage(
        message_id=text("MessageId"),
        pop_receipt=text("PopReceipt"),
        dequeue_count=int(text("DequeueCount") or 0),
        insertion_time=parsedate_to_datetime(text("InsertionTime")),
        text=text("MessageText"),
    )


def _parse_sent(body: bytes, text: str) -> WireMessage:
    """Put Message's reply: `<QueueMessagesList><QueueMessage>` with id, times and pop receipt, but no text."""
    element = ElementTree.fromstring(body).find("QueueMessage")
    if element is None:
        raise StorageError("send message: the reply does not describe the new message")
    return dataclasses.replace(_parse_message(element), dequeue_count=0, text=text)  # never received yet


def _error(operation: str, path: str, reply: HttpReply) -> StorageError:
    code = reply.headers.get("x-ms-error-code") or _error_code_from_body(reply.body)
    message = f"{operation} failed (HTTP {reply.status}, {code}, queue path={path!r})"
    if code in _GONE_CODES or (reply.status == 404 and "/messages/" in path):
        return MessageGoneError(message)
    return StorageError(message)


def _error_code_from_body(body: bytes) -> str | None:
    try:
        return ElementTree.fromstring(body).findtext("Code")
    except ElementTree.ParseError:
        return None
