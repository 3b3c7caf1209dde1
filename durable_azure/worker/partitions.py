"""Partition ownership: which control queues this worker listens to.

Each control queue (partition) has one blob lease in `{hub}-leases`. A worker
listens to a queue only while it holds that lease, so any number of worker
processes can share a task hub with Azure Storage as the only arbiter, and a
partition never has two owners: leases are never stolen.

Balancing is cooperative instead. Every live worker holds a presence lease
(`workers/{id}`), so each one can count the workers, idle ones included. Every
acquire interval a worker takes free partitions up to its fair share
(`ceil(partitions / workers)`); a worker holding two or more partitions more
than the least loaded live worker hands one over: it stops receiving from that
queue, lets the episodes in flight on it finish, then releases the lease, and
the next round of an underloaded worker acquires it. This is the DTFx table
partition manager's drain-then-release hand-over, expressed with blob leases.

A dead worker stops renewing; its partition and presence leases lapse and the
others take its partitions on their next round. A worker that stops cleanly
releases everything at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from durable_azure.azure_storage import PartitionLease, TaskHub
from durable_azure.azure_storage.presence import RunningActivity
from durable_azure.errors import LeaseLostError, StorageError

logger = logging.getLogger(__name__)

PartitionCallback = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseTiming:
    duration: int = 30
    renew_interval: float = 10.0
    acquire_interval: float = 10.0


class PartitionManager:
    """Acquires, renews, balances and releases partition leases for one worker."""

    def __init__(
        self,
        hub: TaskHub,
        *,
        owner: str,
        timing: LeaseTiming,
        on_acquired: PartitionCallback,
        on_released: PartitionCallback,
        report_running: Callable[[], set[RunningActivity]] | None = None,
    ):
        self._leases = hub.leases
        self._presence = hub.presence
        self._partition_ids = [queue.name for queue in hub.control_queues]
        self._owner = owner
        self._timing = timing
        self._on_acquired = on_acquired
        self._on_released = on_released
        self._report_running = report_running
        self._published: frozenset[RunningActivity] = frozenset()
        self._owned: dict[str, PartitionLease] = {}
        self._presence_lease: str | None = None
        self._handed_over: dict[str, float] = {}  # partition -> loop time until which we leave it to others
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def owned_partitions(self) -> list[str]:
        return sorted(self._owned)

    async def start(self) -> None:
        self._presence_lease = await self._presence.announce(self._owner, self._timing.duration)
        try:
            await self.balance_once()
        except StorageError as error:  # the balancing loop tries again in a moment
            logger.warning("lease.loop_error step=balance_once error=%s", error)
        self._tasks = [
            asyncio.create_task(self._loop(self.balance_once, self._timing.acquire_interval), name="lease-balance"),
            asyncio.create_task(self._renew_loop(), name="lease-renew"),
        ]

    async def stop(self) -> None:
        """Stop balancing and release every lease so other workers take over at once."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for partition_id in list(self._owned):
            await self._hand_over(partition_id)
        if self._presence_lease is not None:
            await self._presence.withdraw(self._owner, self._presence_lease)
            self._presence_lease = None

    async def _loop(self, step: Callable[[], Awaitable[None]], interval: float) -> None:
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(interval):  # not wait_for: see polling.py
                    await self._stopping.wait()
                return
            except TimeoutError:
                pass
            try:
                await step()
            except StorageError as error:
                logger.warning("lease.loop_error step=%s error=%s", step.__name__, error)

    async def _renew_loop(self) -> None:
        """Renew every renew interval; after a failed renewal, try again within seconds, not a whole interval."""
        interval = self._timing.renew_interval
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(interval):  # not wait_for: see polling.py
                    await self._stopping.wait()
                return
            except TimeoutError:
                pass
            is_renewed = await self.renew_once()
            interval = self._timing.renew_interval if is_renewed else min(5.0, self._timing.renew_interval)

    async def renew_once(self) -> bool:
        """Renew presence and every owned lease; False when some renewal failed for a reason other than loss."""
        try:
            await self._renew_presence()
        except StorageError as error:
            logger.warning("worker.presence_renew_failed error=%s", error)
            return False
        is_renewed = True
        for partition_id, lease in list(self._owned.items()):
            try:
                self._owned[partition_id] = await self._leases.renew(lease)
            except LeaseLostError:
                logger.warning("lease.lost partition=%s", partition_id)
                if self._owned.pop(partition_id, None) is not None:
                    await self._on_released(partition_id)
            except StorageError as error:  # as DTFx: not proof of loss; try again soon
                logger.warning("lease.renew_failed partition=%s error=%s", partition_id, error)
                is_renewed = False
        return is_renewed

    async def _renew_presence(self) -> None:
        try:
            if self._presence_lease is not None:
                await self._presence.renew(self._owner, self._presence_lease)
        except LeaseLostError:
            self._presence_lease = await self._presence.announce(self._owner, self._timing.duration)
            self._published = frozenset()
        await self._publish_running()

    async def _publish_running(self) -> None:
        """Long-running activities go into the presence blob, so the repair sweep leaves them alone (repair.py).

        One upload per renewal while there are any (the list expires after three renewals, so one that
        storage lost stops counting), and one when the list becomes empty.
        """
        if self._report_running is None or self._presence_lease is None:
            return
        running = frozenset(self._report_running())
        if running or running != self._published:
            valid_for = 3 * self._timing.renew_interval
            await self._presence.publish_running(self._owner, self._presence_lease, running, valid_for=valid_for)
            self._published = running

    async def balance_once(self) -> None:
        """One round: acquire free partitions up to our share, or hand one over if we hold too many."""
        leases, live_workers = await self._leases.list_with_workers()
        await self._recreate_missing(leases)
        workers = set(live_workers) | {self._owner}
        await self._drop_leases_owned_elsewhere(leases)
        share = math.ceil(len(leases) / len(workers))
        counts = Counter({worker: 0 for worker in workers})
        counts.update(lease.owner for lease in leases if lease.is_leased and lease.owner in workers)
        counts[self._owner] = len(self._owned)
        if counts[self._owner] >= min(counts.values()) + 2:
            await self._hand_over(max(self._owned))
            return
        for lease in leases:
            if len(self._owned) >= share:
                return
            if not lease.is_leased and lease.partition_id not in self._owned and not self._recently_handed_over(lease):
                acquired = await self._leases.acquire(lease.partition_id, self._owner, self._timing.duration)
                if acquired is not None:
                    self._owned[acquired.partition_id] = acquired
                    logger.info("lease.acquired partition=%s owner=%s", acquired.partition_id, self._owner)
                    await self._on_acquired(acquired.partition_id)

    async def _recreate_missing(self, leases: list[PartitionLease]) -> None:
        """A partition whose lease blob is gone (deleted, or lost by storage) could never be owned again."""
        listed = {lease.partition_id for lease in leases}
        for partition_id in self._partition_ids:
            if partition_id not in listed:
                logger.warning("lease.recreated partition=%s: its lease blob was missing", partition_id)
                await self._leases.create(partition_id)

    def _recently_handed_over(self, lease: PartitionLease) -> bool:
        """Leave a partition we just handed over to the worker it was meant for, for two rounds."""
        until = self._handed_over.get(lease.partition_id)
        return until is not None and asyncio.get_running_loop().time() < until

    async def _hand_over(self, partition_id: str) -> None:
        """Stop and drain the partition (its lease still held), then release it for another worker."""
        if not self._stopping.is_set():
            self._handed_over[partition_id] = asyncio.get_running_loop().time() + 2.5 * self._timing.acquire_interval
        await self._on_released(partition_id)
        lease = self._owned.pop(partition_id, None)
        if lease is None:
            return
        try:
            await self._leases.release(lease)
            logger.info("lease.released partition=%s owner=%s", partition_id, self._owner)
        except StorageError as error:
            logger.warning("lease.release_failed partition=%s error=%s", partition_id, error)

    async def _drop_leases_owned_elsewhere(self, leases: list[PartitionLease]) -> None:
        """Self-healing after missed renewals: a lease that lapsed and was taken is not ours any more."""
        for lease in leases:
            if lease.partition_id in self._owned and lease.is_leased and lease.owner != self._owner:
                logger.warning("lease.lost partition=%s new_owner=%s", lease.partition_id, lease.owner)
                self._owned.pop(lease.partition_id, None)
                await self._on_released(lease.partition_id)
