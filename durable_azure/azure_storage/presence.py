"""Which workers are alive: one leased blob per worker, `{hub}-leases/workers/{workerId}`.

Our addition to the DTFx layout. Balancing partitions needs the number of
live workers, including those that own no partition yet; DTFx's blob managers
infer owners from the partition leases alone and therefore have to steal,
which lets two workers process one partition for a while. Knowing every live
worker lets an owner with too many partitions hand one over cleanly instead.
A worker's blob lease lapses when it dies, which is all "alive" means here.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobLeaseClient, ContainerClient

from durable_azure.azure_storage.account import translate_storage_errors
from durable_azure.errors import LeaseLostError, StorageError

logger = logging.getLogger(__name__)

WORKERS_PREFIX = "workers/"
_PREFIX = WORKERS_PREFIX


class WorkerPresence:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def _lease(self, worker_id: str, lease_id: str) -> BlobLeaseClient:
        return BlobLeaseClient(self._container.get_blob_client(_PREFIX + worker_id), lease_id=lease_id)

    async def announce(self, worker_id: str, duration: int) -> str:
        """Create the worker's blob and lease it (2 requests); returns the lease id to renew with."""
        blob = self._container.get_blob_client(_PREFIX + worker_id)
        with translate_storage_errors("announce worker", worker_id=worker_id), contextlib.suppress(ResourceExistsError):
            await blob.upload_blob(b"", overwrite=False)
        lease_id = str(uuid.uuid4())
        with translate_storage_errors("announce worker", worker_id=worker_id):
            await self._lease(worker_id, lease_id).acquire(lease_duration=duration)
        return lease_id

    async def renew(self, worker_id: str, lease_id: str) -> None:
        """One request; LeaseLostError if the lease lapsed and someone removed the blob or took it."""
        with translate_storage_errors("renew worker presence", worker_id=worker_id):
            try:
                await self._lease(worker_id, lease_id).renew()
            except ResourceNotFoundError as error:
                raise LeaseLostError(f"presence blob of worker {worker_id} is gone") from error

    async def withdraw(self, worker_id: str, lease_id: str) -> None:
        """Release and delete the worker's blob (a clean stop); a lapsed lease is only logged."""
        try:
            with translate_storage_errors("withdraw worker", worker_id=worker_id):
                await self._container.get_blob_client(_PREFIX + worker_id).delete_blob(lease=lease_id)
        except StorageError as error:
            logger.warning("worker.presence_lost worker=%s at withdraw: %s", worker_id, error)

    async def live_workers(self) -> list[str]:
        """One list request: the workers whose presence lease is held."""
        with translate_storage_errors("list workers"):
            blobs = [blob async for blob in self._container.list_blobs(name_starts_with=_PREFIX)]
        return sorted(blob.name[len(_PREFIX) :] for blob in blobs if blob.lease.status == "locked")
