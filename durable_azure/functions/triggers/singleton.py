"""The host's singleton listener lock: one blob lease per function, so one process of the app runs its timer.

The WebJobs host runs a timer listener only on the instance holding a lease on
`azure-webjobs-hosts/locks/{hostId}/Host.Functions.{function}.Listener` in the AzureWebJobsStorage account
(an empty blob, metadata `FunctionInstance` naming the holder). The lease lasts 60 s and is renewed every
30 s; the others try again periodically (the host: every minute; we default to every 10 s, so a stopped
or dead holder is replaced sooner, at one request per 10 s per waiting process). Processes of one app share
the host id, so they share the lock, with each other and with a Functions host on the same storage.

The lock also guards writes: `write_metadata` sends the holder's lease id, so storage refuses it once the
lease has moved to another process, even if this one has not noticed yet. The timer listener stores the
last occurrence it claimed there, which is what makes a handover unable to fire an occurrence twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping

from durable_azure.azure_storage.blob_service import BlobService, LeaseAction
from durable_azure.errors import LeaseLostError, StorageError

logger = logging.getLogger(__name__)

HOSTS_CONTAINER = "azure-webjobs-hosts"
LEASE_SECONDS = 60
RETRY_SECONDS = 10.0
"""How often a process without the lock tries to take it (the host waits 1 min)."""
_RENEW_RETRY_SECONDS = 2.0


def listener_lock_name(host_id: str, function_name: str) -> str:
    """The lock blob of a function's listener, as the host names it."""
    return f"locks/{host_id}/Host.Functions.{function_name}.Listener"


def instance_name() -> str:
    """Who holds a lock, for people reading the blob's metadata: host, process and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class ListenerLock:
    """Acquire, renew, release and write through one lock blob; one lease id for this process's lifetime."""

    def __init__(
        self,
        blobs: BlobService,
        blob_name: str,
        *,
        owner: str | None = None,
        lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        self._blobs = blobs
        self.blob_name = blob_name
        self.owner = owner or instance_name()
        self.lease_seconds = lease_seconds
        self._lease_id = str(uuid.uuid4())
        self._is_created = False
        self.is_held = False
        self._renewed_at = 0.0

    async def try_acquire(self) -> bool:
        """Take the lease if it is free (or already ours); False when another process holds it.

        One request when the blob exists; the container and the blob are created on first use.
        """
        if not self._is_created:
            await self._blobs.create_container(HOSTS_CONTAINER)
            with contextlib.suppress(LeaseLostError):  # exists and leased: another process holds it
                await self._blobs.put(HOSTS_CONTAINER, self.blob_name, b"", create_only=True)
            self._is_created = True
        try:
            await self._lease(LeaseAction.ACQUIRE)
        except LeaseLostError:
            return False
        except StorageError as error:
            if error.status != 404:
                raise
            self._is_created = False  # deleted under us: create it again next time
            return False
        self.is_held = True
        self._renewed_at = time.monotonic()
        logger.info("singleton.acquired lock=%s owner=%s", self.blob_name, self.owner)
        return True

    async def keep_renewed(self) -> None:
        """Renew every half lease period while held; returns when the lease is lost (or could not be renewed
        for a whole period, after which another process may have it). Cancel it to stop renewing."""
        delay = self.lease_seconds / 2
        while True:
            await asyncio.sleep(delay)
            try:
                await self._lease(LeaseAction.RENEW)
            except LeaseLostError:
                logger.warning("singleton.lost lock=%s owner=%s", self.blob_name, self.owner)
                break
            except StorageError as error:
                if time.monotonic() - self._renewed_at >= self.lease_seconds - _RENEW_RETRY_SECONDS:
                    logger.warning("singleton.lost lock=%s: not renewed for a lease period (%s)", self.blob_name, error)
                    break
                logger.warning("singleton.renew_failed lock=%s: %s", self.blob_name, error)
                delay = _RENEW_RETRY_SECONDS
                continue
            self._renewed_at = time.monotonic()
            delay = self.lease_seconds / 2
        self.is_held = False

    async def release(self) -> None:
        """Give the lease up so another process takes over at its next try; a lease already lost is fine."""
        if not self.is_held:
            return
        self.is_held = False
        try:
            await self._lease(LeaseAction.RELEASE)
        except StorageError as error:
            logger.warning("singleton.release_failed lock=%s: %s", self.blob_name, error)
            return
        logger.info("singleton.released lock=%s owner=%s", self.blob_name, self.owner)

    async def read_metadata(self) -> dict[str, str]:
        """The lock blob's metadata (what the previous holders recorded), names lower-cased (HTTP headers keep
        no case); empty if the blob is gone."""
        blob = await self._blobs.get(HOSTS_CONTAINER, self.blob_name)
        return {name.lower(): value for name, value in blob.metadata.items()} if blob is not None else {}

    async def write_metadata(self, metadata: Mapping[str, str]) -> None:
        """Replace the metadata, only if the lease is still ours: LeaseLostError otherwise (and the lock is
        then marked as not held). `FunctionInstance` (the holder) is always written, as the host does."""
        try:
            await self._blobs.put(
                HOSTS_CONTAINER,
                self.blob_name,
                b"",
                metadata={"FunctionInstance": self.owner, **metadata},
                lease_id=self._lease_id,
            )
        except LeaseLostError:
            self.is_held = False
            raise

    async def _lease(self, action: LeaseAction) -> None:
        await self._blobs.lease(
            HOSTS_CONTAINER,
            self.blob_name,
            action,
            lease_id=self._lease_id,
            duration=self.lease_seconds if action is LeaseAction.ACQUIRE else None,
        )


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when it was set."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


__all__ = [
    "HOSTS_CONTAINER",
    "LEASE_SECONDS",
    "RETRY_SECONDS",
    "ListenerLock",
    "instance_name",
    "listener_lock_name",
    "wait_or_stop",
]
