"""Partition leases as blob leases, DTFx's legacy blob manager layout (dtfx-azure-storage.md §5.1).

One blob per control queue, `{hub}-leases/default/{controlQueueName}`, holding
JSON `{PartitionId, Owner, Token, Epoch}`; the blob lease is the lock. Stealing
changes the live lease using the token recorded in the JSON, as DTFx does. We
also copy Owner/Token/Epoch into blob metadata, so `list` is one request;
blobs written by DTFx (no metadata) are downloaded instead.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage.blob_service import BlobItem, BlobService, LeaseAction
from durable_azure.azure_storage.names import TaskHubNames
from durable_azure.azure_storage.presence import WORKERS_PREFIX
from durable_azure.errors import ConfigurationError, LeaseLostError, StorageError

logger = logging.getLogger(__name__)

MIN_LEASE_SECONDS = 15
MAX_LEASE_SECONDS = 60
_LEASE_PREFIX = "default/"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionLease:
    partition_id: str
    owner: str | None
    epoch: int
    token: str | None
    is_leased: bool


def lease_document(partition_id: str, owner: str | None, token: str | None, epoch: int) -> dict[str, Any]:
    return {"PartitionId": partition_id, "Owner": owner, "Token": token, "Epoch": epoch}


def _metadata(document: dict[str, Any]) -> dict[str, str]:
    return {"owner": document["Owner"] or "", "token": document["Token"] or "", "epoch": str(document["Epoch"])}


class LeaseStore:
    """Acquire, steal, renew and release the partition lease blobs of one task hub."""

    def __init__(self, blobs: BlobService, names: TaskHubNames) -> None:
        self._blobs = blobs
        self._container = names.leases_container
        self._names = names

    def _blob_name(self, partition_id: str) -> str:
        return self._names.lease_blob(partition_id)

    async def _lease(
        self,
        partition_id: str,
        action: LeaseAction,
        lease_id: str,
        *,
        proposed_lease_id: str | None = None,
        duration: int | None = None,
    ) -> None:
        await self._blobs.lease(
            self._container,
            self._blob_name(partition_id),
            action,
            lease_id=lease_id,
            proposed_lease_id=proposed_lease_id,
            duration=duration,
        )

    async def create(self, partition_id: str) -> None:
        """Write the initial lease blob unless it exists (create-only, safe to race)."""
        document = lease_document(partition_id, None, None, 0)
        await self._blobs.put(
            self._container,
            self._blob_name(partition_id),
            json.dumps(document).encode(),
            metadata=_metadata(document),
            create_only=True,
        )

    async def list(self) -> builtins.list[PartitionLease]:
        """One list request; blobs without our metadata (written by DTFx) cost one download each."""
        blobs = await self._blobs.list_blobs(self._container, prefix=_LEASE_PREFIX, include_metadata=True)
        return [*await asyncio.gather(*(self._from_listing(blob) for blob in blobs))]

    async def list_with_workers(self) -> tuple[builtins.list[PartitionLease], builtins.list[str]]:
        """Partition leases and live workers (presence.py) from ONE list request, for the balancer's round."""
        blobs = await self._blobs.list_blobs(self._container, include_metadata=True)
        partitions = [blob for blob in blobs if blob.name.startswith(_LEASE_PREFIX)]
        workers = sorted(
            blob.name[len(WORKERS_PREFIX) :]
            for blob in blobs
            if blob.name.startswith(WORKERS_PREFIX) and blob.is_leased
        )
        return list(await asyncio.gather(*(self._from_listing(blob) for blob in partitions))), workers

    async def _from_listing(self, blob: BlobItem) -> PartitionLease:
        partition_id = blob.name[len(_LEASE_PREFIX) :]
        is_leased = blob.is_leased
        metadata = blob.metadata or {}
        if "epoch" not in metadata:
            document, is_leased = await self._read(partition_id)
            return _lease(partition_id, document, is_leased)
        return PartitionLease(
            partition_id=partition_id,
            owner=metadata.get("owner") or None,
            epoch=int(metadata["epoch"]),
            token=metadata.get("token") or None,
            is_leased=is_leased,
        )

    async def _read(self, partition_id: str) -> tuple[dict[str, Any], bool]:
        blob = await self._blobs.get(self._container, self._blob_name(partition_id))
        if blob is None:
            raise StorageError(f"lease blob of partition {partition_id} is missing", status=404, code="BlobNotFound")
        return json.loads(blob.data or b"{}"), blob.is_leased

    async def _write(self, partition_id: str, document: dict[str, Any], lease_id: str) -> None:
        await self._blobs.put(
            self._container,
            self._blob_name(partition_id),
            json.dumps(document).encode(),
            metadata=_metadata(document),
            lease_id=lease_id,
        )

    async def acquire(self, partition_id: str, owner: str, duration: int) -> PartitionLease | None:
        """Acquire, read the epoch, write `{Owner, Token, Epoch+1}` (3 requests); None if leased by someone."""
        _check_duration(duration)
        lease_id = str(uuid.uuid4())
        try:
            await self._lease(partition_id, LeaseAction.ACQUIRE, lease_id, duration=duration)
            return await self._take(partition_id, owner, lease_id)
        except LeaseLostError:  # taken by another worker first, or gone again before we wrote it
            return None

    async def steal(self, partition_id: str, owner: str, duration: int) -> PartitionLease | None:
        """Change the live lease using the token recorded in the blob; an unleased blob is just acquired."""
        _check_duration(duration)
        document, is_leased = await self._read(partition_id)
        token = document.get("Token")
        if not is_leased:
            return await self.acquire(partition_id, owner, duration)
        if not token:
            return None
        lease_id = str(uuid.uuid4())
        try:
            await self._lease(partition_id, LeaseAction.CHANGE, token, proposed_lease_id=lease_id)
        except StorageError:
            return None
        logger.info("lease.stolen: %s from %s by %s", partition_id, document.get("Owner"), owner)
        return await self._take(partition_id, owner, lease_id)

    async def _take(self, partition_id: str, owner: str, lease_id: str) -> PartitionLease:
        document, _ = await self._read(partition_id)
        epoch = int(document.get("Epoch") or 0) + 1
        await self._write(partition_id, lease_document(partition_id, owner, lease_id, epoch), lease_id)
        return PartitionLease(partition_id=partition_id, owner=owner, epoch=epoch, token=lease_id, is_leased=True)

    async def renew(self, lease: PartitionLease) -> PartitionLease:
        """One renew request; LeaseLostError when the lease is no longer ours."""
        if not lease.token:
            raise LeaseLostError(f"lease of {lease.partition_id} has no token")
        await self._lease(lease.partition_id, LeaseAction.RENEW, lease.token)
        return lease

    async def release(self, lease: PartitionLease) -> None:
        """Clear Owner/Token in the blob, then release the lease; a lease already lost is only logged."""
        if not lease.token:
            return
        document = lease_document(lease.partition_id, None, None, lease.epoch)
        try:
            await self._write(lease.partition_id, document, lease.token)
            await self._lease(lease.partition_id, LeaseAction.RELEASE, lease.token)
        except LeaseLostError:
            logger.warning("lease.lost: %s was no longer ours at release", lease.partition_id)


def _lease(partition_id: str, document: dict[str, Any], is_leased: bool) -> PartitionLease:
    return PartitionLease(
        partition_id=partition_id,
        owner=document.get("Owner") or None,
        epoch=int(document.get("Epoch") or 0),
        token=document.get("Token") or None,
        is_leased=is_leased,
    )


def _check_duration(duration: int) -> None:
    if not MIN_LEASE_SECONDS <= duration <= MAX_LEASE_SECONDS:
        raise ConfigurationError(f"lease duration must be {MIN_LEASE_SECONDS}-{MAX_LEASE_SECONDS} s, not {duration}")
