"""Which workers are alive: one leased blob per worker, `{hub}-leases/workers/{workerId}`.

Our addition to the DTFx layout. Balancing partitions needs the number of
live workers, including those that own no partition yet; DTFx's blob managers
infer owners from the partition leases alone and therefore have to steal,
which lets two workers process one partition for a while. Knowing every live
worker lets an owner with too many partitions hand one over cleanly instead.
A worker's blob lease lapses when it dies, which is all "alive" means here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Collection

from durable_azure.azure_storage.blob_service import BlobService, LeaseAction
from durable_azure.errors import LeaseLostError, StorageError

logger = logging.getLogger(__name__)

WORKERS_PREFIX = "workers/"
_PREFIX = WORKERS_PREFIX

RunningActivity = tuple[str, str, int]
"""(instance id, execution id, task id) of an activity a worker is running."""


class WorkerPresence:
    def __init__(self, blobs: BlobService, container: str) -> None:
        self._blobs = blobs
        self._container = container

    async def announce(self, worker_id: str, duration: int) -> str:
        """Create the worker's blob and lease it (2 requests); returns the lease id to renew with.

        A blob that is gone again when the lease is asked for (storage lost the write it had just
        acknowledged) is created once more.
        """
        lease_id = str(uuid.uuid4())
        for attempt in range(3):
            await self._blobs.put(self._container, _PREFIX + worker_id, b"", create_only=True)
            try:
                await self._blobs.lease(
                    self._container, _PREFIX + worker_id, LeaseAction.ACQUIRE, lease_id=lease_id, duration=duration
                )
                return lease_id
            except StorageError as error:
                if error.status != 404 or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def renew(self, worker_id: str, lease_id: str) -> None:
        """One request; LeaseLostError if the lease lapsed and someone removed the blob or took it."""
        try:
            await self._blobs.lease(self._container, _PREFIX + worker_id, LeaseAction.RENEW, lease_id=lease_id)
        except StorageError as error:
            if error.status == 404:
                raise LeaseLostError(f"presence blob of worker {worker_id} is gone", status=404) from error
            raise

    async def withdraw(self, worker_id: str, lease_id: str) -> None:
        """Release and delete the worker's blob (a clean stop); a lapsed lease is only logged."""
        try:
            await self._blobs.delete(self._container, _PREFIX + worker_id, lease_id=lease_id)
        except StorageError as error:
            logger.warning("worker.presence_lost worker=%s at withdraw: %s", worker_id, error)

    async def live_workers(self) -> list[str]:
        """One list request: the workers whose presence lease is held."""
        blobs = await self._blobs.list_blobs(self._container, prefix=_PREFIX)
        return sorted(blob.name[len(_PREFIX) :] for blob in blobs if blob.is_leased)

    async def publish_running(
        self, worker_id: str, lease_id: str, running: Collection[RunningActivity], *, valid_for: float
    ) -> None:
        """Write the activities this worker has been running for a while into its presence blob (one upload).

        The repair sweep reads them (`running_activities`) so that an activity
        that runs long is not mistaken for one whose work item was lost. The
        list holds for `valid_for` seconds: the worker writes it again while it
        is not empty, so a list storage lost the update of (or a dead worker's)
        stops counting.
        """
        body = json.dumps({"validUntil": time.time() + valid_for, "running": sorted(running)}).encode()
        await self._blobs.put(self._container, _PREFIX + worker_id, body, lease_id=lease_id)

    async def running_activities(self) -> set[RunningActivity]:
        """What every live worker says it is running: one list, then one download per live worker."""
        blobs = [blob for blob in await self._blobs.list_blobs(self._container, prefix=_PREFIX) if blob.is_leased]
        downloads = await asyncio.gather(*(self._blobs.get(self._container, blob.name) for blob in blobs))
        running: set[RunningActivity] = set()
        for item, blob in zip(blobs, downloads, strict=True):
            if blob is None or not blob.data:
                continue
            try:
                document = json.loads(blob.data)
                if float(document.get("validUntil", 0)) < time.time():
                    continue
                entries = document.get("running", [])
                running.update((str(entry[0]), str(entry[1]), int(entry[2])) for entry in entries)
            except (ValueError, TypeError, IndexError, AttributeError):
                logger.warning("worker.presence_unreadable blob=%s", item.name)
        return running
