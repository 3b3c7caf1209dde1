"""Blob receipts and the scan cursor, in the host's container `azure-webjobs-hosts`, at the host's paths.

A receipt `blobreceipts/{hostId}/Host.Functions.{fn}/{etag}/{container}/{blob}` records that one version
(ETag) of a blob was handled for one function. It is created `If-None-Match: *` with the metadata
`Incomplete`, so exactly one process creates it; whoever holds its 60-second lease (renewed while the
function runs) is the one running the function. The `Incomplete` key is removed only after the function
succeeded, or after it failed `maxDequeueCount` times and the poison notice was sent: so a receipt is
"complete" when the version needs nothing more, which is stronger than the host's "dispatched" (the host
hands the blob to an internal queue; we run it here, and the receipt's lease plays the queue message's
part). A process that dies mid-run leaves the receipt incomplete; its lease expires and the next scan by
any process with the same host id claims it again. Attempts are counted in the receipt's metadata
(`DequeueCount`, our addition), so the retry budget survives restarts.

`blobscaninfo/{hostId}/{accountName}/{container}/scanInfo` holds `{"LatestScan": ...}`: blobs modified
before it are not looked at again.
"""

from __future__ import annotations

import enum
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from durable_azure.azure_storage.blob_service import BlobProperties, BlobService, LeaseAction
from durable_azure.errors import LeaseLostError, StorageError

logger = logging.getLogger(__name__)

HOSTS_CONTAINER = "azure-webjobs-hosts"
LEASE_SECONDS = 60
_INCOMPLETE = "Incomplete"
_ATTEMPTS = "DequeueCount"


def function_id(function_name: str) -> str:
    """The id the host gives a function in receipt and lock paths."""
    return f"Host.Functions.{function_name}"


def receipt_name(host_id: str, function_name: str, etag: str, container: str, blob_name: str) -> str:
    return f"blobreceipts/{host_id}/{function_id(function_name)}/{etag}/{container}/{blob_name}"


def scan_info_name(host_id: str, account_name: str, container: str) -> str:
    return f"blobscaninfo/{host_id}/{account_name}/{container}/scanInfo"


class ClaimOutcome(enum.Enum):
    CLAIMED = "claimed"
    DONE = "done"
    """The receipt is complete: this version was handled."""
    BUSY = "busy"
    """Another process holds the receipt's lease: it is running the function now."""


@dataclass(slots=True, kw_only=True)
class Claim:
    """A receipt this process leased: it alone runs the function for this blob version until it lets go."""

    receipt: str
    lease_id: str
    attempts: int
    """Attempts made so far, by any process."""


class ReceiptStore:
    """The receipts of one function, in the host account's `azure-webjobs-hosts` container."""

    def __init__(self, blobs: BlobService, host_id: str, function_name: str) -> None:
        self._blobs = blobs
        self._host_id = host_id
        self._function_name = function_name

    async def prepare(self) -> None:
        await self._blobs.create_container(HOSTS_CONTAINER)

    async def claim(self, container: str, blob_name: str, etag: str) -> tuple[ClaimOutcome, Claim | None]:
        """Create the receipt if needed and lease it. Requests: one HEAD, a create for a new version, one lease
        and one HEAD (the receipt may have been completed between the first look and the lease)."""
        name = receipt_name(self._host_id, self._function_name, etag, container, blob_name)
        properties = await self._blobs.properties(HOSTS_CONTAINER, name)
        if properties is None:
            await self._blobs.put(HOSTS_CONTAINER, name, b"", metadata={_INCOMPLETE: _INCOMPLETE}, create_only=True)
        elif not _is_incomplete(properties):
            return ClaimOutcome.DONE, None
        elif properties.is_leased:
            return ClaimOutcome.BUSY, None
        lease_id = str(uuid.uuid4())
        try:
            await self._blobs.lease(
                HOSTS_CONTAINER, name, LeaseAction.ACQUIRE, lease_id=lease_id, duration=LEASE_SECONDS
            )
        except LeaseLostError:
            return ClaimOutcome.BUSY, None
        properties = await self._blobs.properties(HOSTS_CONTAINER, name)
        if properties is None or not _is_incomplete(properties):
            await self.release(Claim(receipt=name, lease_id=lease_id, attempts=0))
            return ClaimOutcome.DONE, None
        return ClaimOutcome.CLAIMED, Claim(receipt=name, lease_id=lease_id, attempts=_attempts(properties))

    async def record_attempt(self, claim: Claim) -> int:
        """Count one more attempt in the receipt (one upload under the lease); returns the attempt's number."""
        claim.attempts += 1
        metadata = {_INCOMPLETE: _INCOMPLETE, _ATTEMPTS: str(claim.attempts)}
        await self._blobs.put(HOSTS_CONTAINER, claim.receipt, b"", metadata=metadata, lease_id=claim.lease_id)
        return claim.attempts

    async def renew(self, claim: Claim) -> None:
        await self._blobs.lease(HOSTS_CONTAINER, claim.receipt, LeaseAction.RENEW, lease_id=claim.lease_id)

    async def complete(self, claim: Claim) -> None:
        """Mark the version handled (the receipt without `Incomplete`), then let the lease go."""
        await self._blobs.put(HOSTS_CONTAINER, claim.receipt, b"", lease_id=claim.lease_id)
        await self.release(claim)

    async def release(self, claim: Claim) -> None:
        """Let the lease go, so another process may claim an unfinished receipt at once (best effort)."""
        try:
            await self._blobs.lease(HOSTS_CONTAINER, claim.receipt, LeaseAction.RELEASE, lease_id=claim.lease_id)
        except StorageError as error:
            logger.warning("blob_trigger.release_failed receipt=%s error=%s", claim.receipt, error)


class ScanCursor:
    """The container scan's cursor: the latest LastModified whose blobs were all handled (or being handled)."""

    def __init__(self, blobs: BlobService, host_id: str, account_name: str, container: str) -> None:
        self._blobs = blobs
        self._name = scan_info_name(host_id, account_name, container)

    async def read(self) -> datetime | None:
        blob = await self._blobs.get(HOSTS_CONTAINER, self._name)
        if blob is None:
            return None
        try:
            return datetime.fromisoformat(json.loads(blob.data)["LatestScan"])
        except (ValueError, KeyError, TypeError):
            logger.warning("blob_trigger.scan_info_unreadable blob=%s: scanning the whole container", self._name)
            return None

    async def write(self, latest_scan: datetime) -> None:
        """As the host's Json.NET writes a UTC DateTime: `2024-05-01T10:00:00Z` (fraction only when there is one)."""
        utc = latest_scan.astimezone(UTC)
        text = utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else "")
        data = json.dumps({"LatestScan": text + "Z"}).encode()
        await self._blobs.put(HOSTS_CONTAINER, self._name, data, content_type="application/json")


def _is_incomplete(properties: BlobProperties) -> bool:
    return any(key.lower() == _INCOMPLETE.lower() for key in properties.metadata)


def _attempts(properties: BlobProperties) -> int:
    for key, value in properties.metadata.items():
        if key.lower() == _ATTEMPTS.lower() and value.isdigit():
            return int(value)
    return 0


__all__ = ["HOSTS_CONTAINER", "Claim", "ClaimOutcome", "ReceiptStore", "ScanCursor", "function_id", "receipt_name"]
