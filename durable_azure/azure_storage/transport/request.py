"""What the runtime asks of storage, and what comes back: one request type for every service.

Every storage call the runtime makes, queue, table or blob, is built as a
`StorageRequest` by the service modules (`queue_service.py`,
`table_service.py`, `blob_service.py`) and sent by the one `StorageClient`
(`client.py`), which signs it, sends it through the account's transport,
retries it by one policy and translates failures into our errors. The request
says what the policy needs to know: which statuses mean success, and what
repeating the request would do (`Safety`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

# Characters a path keeps unescaped. aiohttp (under the SDK transport) normalises %21, %24, %26 ... back to
# these before sending, and storage signs the path exactly as it arrives, so both transports must send them
# unescaped, as the signer saw them.
_PATH_SAFE = "!$&'()*,:;=@~"


def encode_path_segment(value: str, *, keep_slashes: bool = False) -> str:
    """`value` percent-encoded for a URL path, in the one form both transports put on the wire."""
    return quote(value, safe=_PATH_SAFE + ("/" if keep_slashes else ""))


class Service(enum.StrEnum):
    BLOB = "blob"
    QUEUE = "queue"
    TABLE = "table"


class Safety(enum.Enum):
    """What sending a request again does if an earlier attempt did reach storage.

    An attempt is *ambiguous* when the request may have been applied although
    no success came back: the connection broke after the request was sent, the
    reply timed out, or storage answered 500/502/504. Every request here is
    retried after an ambiguous attempt; this says how its outcome is read then.
    """

    IDEMPOTENT = "idempotent"
    """Reads, overwrites, insert-or-merge, renewals: the repeat changes nothing more.
    A delete's 404 after an ambiguous attempt is a success."""

    CONDITIONAL = "conditional"
    """Guarded by an ETag, a lease or create-only: after an applied attempt the repeat fails
    with 409/412, and the error says `maybe_applied` so the caller reloads and compares."""

    DUPLICATE_DROPPED = "duplicate dropped"
    """A queue send: the repeat after an applied attempt stores the message twice. Every
    receiver recognises the copy (completions by task id, starts by execution id, timers by
    timer id, events by the envelope's ActivityId) and drops it; a lost message would be worse."""

    RECEIPT = "receipt"
    """A visibility update: the repeat after an applied attempt fails (PopReceiptMismatch),
    and the error says `maybe_applied`: the message stays invisible until the requested time,
    under a pop receipt nobody saw; it comes back then and its redelivery is absorbed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageRequest:
    """One REST request against one service of the account, before signing."""

    service: Service
    method: str
    path: str
    """Below the service endpoint, starting with "/", each segment already percent-encoded."""
    query: tuple[tuple[str, str], ...] = ()
    """Unencoded names and values, in the order they are sent."""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    kind: str
    """The request counter's key, e.g. "queue.send" (account.py's COUNTER_KEYS)."""
    operation: str
    """What it does, for error messages: "send message"."""
    context: str = ""
    """Which resource, for error messages: "queue='hub-control-00'". Never a secret."""
    safety: Safety
    success: frozenset[int]
    """Statuses that are a normal answer; the caller reads the response (e.g. 404 for a point read)."""


@dataclass(frozen=True, slots=True)
class StorageResponse:
    status: int
    headers: Mapping[str, str]
    """Names in lower case."""
    body: bytes
    after_ambiguous: bool = False
    """An earlier attempt of the same request may have been applied (set by the client on the answer it returns):
    a 404 to a delete, or a conflict inside a batch, may then be our own doing."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())
