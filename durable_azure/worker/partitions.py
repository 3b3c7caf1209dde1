"""Partition ownership: which control queues this worker listens to.

Each control queue (partition) has one blob lease in `{hub}-leases`. A worker
listens to a queue only while it holds that lease, so any number of worker
processes can share a task hub with Azure Storage as the only arbiter. The
balancing rule is DTFx's LeaseCollectionBalancer: every acquire interval, count
the owners of live leases (ourselves included), aim for an even share, take
free leases first and steal at most one per round from the owner holding the
most. A dead worker stops renewing, its leases expire and others take them; a
worker that stops cleanly releases them at once.

Stealing can briefly leave the old owner mid-episode on a partition it lost;
the History sentinel ETag makes the loser's commit fail instead of corrupting
the instance (see `episode.py`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from durable_azure.azure_storage import LeaseStore, PartitionLease
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
        leases: LeaseStore,
        *,
        owner: str,
        timing: LeaseTiming,
        on_acquired: PartitionCallback,
        on_lost: PartitionCallback,
    ):
        self._leases = leases
        self._owner = owner
        self._timing = timing
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._owned: dict[str, PartitionLease] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def owned_partitions(self) -> list[str]:
        return sorted(self._owned)

    async def start(self) -> None:
        await self.balance_once()
        self._tasks = [
            asyncio.create_task(self._loop(self.balance_once, self._timing.acquire_interval), name="lease-acquire"),
            asyncio.create_task(self._loop(self.renew_once, self._timing.renew_interval), name="lease-renew"),
        ]

    async def stop(self) -> None:
        """Stop balancing and release every lease so other workers take over at once."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for partition_id in list(self._owned):
            lease = self._owned.pop(partition_id)
            await self._on_lost(partition_id)
            try:
                await self._leases.release(lease)
                logger.info("lease.released partition=%s", partition_id)
            except StorageError as error:
                logger.warning("lease.release_failed partition=%s error=%s", partition_id, error)

    async def _loop(self, step: Callable[[], Awaitable[None]], interval: float) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                await step()
            except StorageError as error:
                logger.warning("lease.loop_error step=%s error=%s", step.__name__, error)

    async def renew_once(self) -> None:
        for partition_id, lease in list(self._owned.items()):
            try:
                self._owned[partition_id] = await self._leases.renew(lease)
            except LeaseLostError:
                logger.warning("lease.lost partition=%s", partition_id)
                await self._lose(partition_id)

    async def balance_once(self) -> None:
        """One balancing round: take free leases, else steal one if we are below our share."""
        leases = await self._leases.list()
        await self._forget_leases_taken_by_others(leases)
        target = self._target_share(leases)
        needed = target - len(self._owned)
        if needed <= 0:
            return
        free = [lease for lease in leases if not lease.is_leased and lease.partition_id not in self._owned]
        for lease in free[:needed]:
            acquired = await self._leases.acquire(lease.partition_id, self._owner, self._timing.duration)
            if acquired is not None:
                await self._gain(acquired)
                needed -= 1
        if needed > 0 and not free:
            await self._steal_one(leases, target)

    def _target_share(self, leases: list[PartitionLease]) -> int:
        owners = {lease.owner for lease in leases if lease.is_leased and lease.owner} | {self._owner}
        return max(1, math.ceil(len(leases) / len(owners)))

    async def _steal_one(self, leases: list[PartitionLease], target: int) -> None:
        counts: dict[str, list[PartitionLease]] = {}
        for lease in leases:
            if lease.is_leased and lease.owner and lease.owner != self._owner:
                counts.setdefault(lease.owner, []).append(lease)
        if not counts:
            return
        richest = max(counts.values(), key=len)
        if len(richest) <= target:
            return
        victim = richest[0]
        stolen = await self._leases.steal(victim.partition_id, self._owner, self._timing.duration)
        if stolen is not None:
            logger.info("lease.stolen partition=%s from=%s", victim.partition_id, victim.owner)
            await self._gain(stolen)

    async def _forget_leases_taken_by_others(self, leases: list[PartitionLease]) -> None:
        for lease in leases:
            if lease.partition_id in self._owned and lease.is_leased and lease.owner != self._owner:
                logger.warning("lease.lost partition=%s new_owner=%s", lease.partition_id, lease.owner)
                await self._lose(lease.partition_id)

    async def _gain(self, lease: PartitionLease) -> None:
        self._owned[lease.partition_id] = lease
        logger.info("lease.acquired partition=%s owner=%s", lease.partition_id, self._owner)
        await self._on_acquired(lease.partition_id)

    async def _lose(self, partition_id: str) -> None:
        if self._owned.pop(partition_id, None) is not None:
            await self._on_lost(partition_id)
