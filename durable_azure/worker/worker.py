"""A worker process's runtime: partition leases, the two dispatchers, shutdown.

`Worker` only wires the pieces together and owns their lifecycle; each piece
is its own module. Stopping is graceful: stop taking new work, let in-flight
episodes and activities finish (or hand their messages back), then release the
leases so other workers take the partitions over at once.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import socket
import uuid
from datetime import timedelta
from types import TracebackType

from durable_azure.azure_storage import TaskHub
from durable_azure.azure_storage.presence import RunningActivity
from durable_azure.entities import EntityOptions
from durable_azure.errors import DurableAzureError, StorageError
from durable_azure.orchestration.http import HttpSettings
from durable_azure.settings import DurableTaskSettings
from durable_azure.worker.activity_dispatcher import ActivityDispatcher
from durable_azure.worker.anchors import AnchorBook
from durable_azure.worker.episode import EpisodeRunner, utc_now
from durable_azure.worker.instance_cache import InstanceCache
from durable_azure.worker.orchestration_dispatcher import OrchestrationDispatcher
from durable_azure.worker.partitions import LeaseTiming, PartitionManager
from durable_azure.worker.registry import Registry
from durable_azure.worker.repair import StuckInstanceRepair

logger = logging.getLogger(__name__)


class WorkerState(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


def default_worker_id() -> str:
    """Unique per process, readable in the lease blobs: host, pid and a short random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs the orchestrations and activities of `registry` on `hub` until stopped."""

    def __init__(
        self,
        hub: TaskHub,
        registry: Registry,
        settings: DurableTaskSettings | None = None,
        *,
        worker_id: str | None = None,
    ):
        self.settings = settings or DurableTaskSettings()
        self.worker_id = worker_id or default_worker_id()
        self.hub = hub
        self._state = WorkerState.NEW
        self.instance_cache = InstanceCache()
        self._anchors = AnchorBook(
            hub, visibility_timeout=self.settings.control_queue_visibility_timeout.total_seconds()
        )
        stuck_after = self.settings.stuck_instance_after
        self.repair = StuckInstanceRepair(hub, after=stuck_after, clock=utc_now, running_here=self._held_activities)
        runner = EpisodeRunner(
            hub,
            registry,
            self.instance_cache,
            anchors=self._anchors,
            instance_refresh=stuck_after / 2,
            on_storage_behind=self.repair.suspect_lost_writes,
            http_settings=HttpSettings(
                timedelta(milliseconds=self.settings.default_async_request_sleep_time_milliseconds)
            ),
            entity_options=EntityOptions(
                max_batch=self.settings.max_entity_operation_batch_size,
                reorder_window=timedelta(minutes=self.settings.entity_message_reorder_window_in_minutes),
            ),
        )
        self._orchestrations = OrchestrationDispatcher(
            hub,
            runner,
            batch_size=self.settings.control_queue_batch_size,
            visibility_timeout=self.settings.control_queue_visibility_timeout.total_seconds(),
            max_concurrent_episodes=self.settings.max_concurrent_orchestrator_functions,
            buffer_threshold=self.settings.control_queue_buffer_threshold,
            max_dequeue_count=self.settings.max_dequeue_count,
            max_polling_interval=self.settings.max_queue_polling_interval.total_seconds(),
            anchors=self._anchors,
        )
        self._activities = ActivityDispatcher(
            hub,
            registry,
            max_concurrent=self.settings.max_concurrent_activity_functions,
            visibility_timeout=self.settings.work_item_queue_visibility_timeout.total_seconds(),
            max_dequeue_count=self.settings.max_dequeue_count,
            max_polling_interval=self.settings.max_queue_polling_interval.total_seconds(),
            deliver_local=self._orchestrations.deliver_local,
        )
        self._anchors.attach(self._activities)
        self._partitions = PartitionManager(
            hub,
            owner=self.worker_id,
            timing=LeaseTiming(
                duration=int(self.settings.lease_interval.total_seconds()),
                renew_interval=self.settings.lease_renew_interval.total_seconds(),
                acquire_interval=self.settings.lease_acquire_interval.total_seconds(),
            ),
            on_acquired=self._orchestrations.start_partition,
            on_released=self._orchestrations.stop_partition,
            report_running=self._long_running_activities,
        )
        self._repair_loop: asyncio.Task[None] | None = None

    def _held_activities(self) -> set[RunningActivity]:
        """Activities this process runs or is about to run: their work items are not lost, they are here.

        Requests a fan-out window holds back are not among them: they go out only when results come
        back, and if those were lost, the repair's work item is what moves the instance on.
        """
        return self._activities.running_activities() | self._activities.waiting_activities()

    def _long_running_activities(self) -> set[RunningActivity]:
        """What the presence blob tells other workers' repair sweeps: activities running here for a while."""
        longer_than = min(60.0, self.settings.stuck_instance_after.total_seconds() / 4)
        return self._activities.running_activities(longer_than=longer_than)

    def _owns(self, instance_id: str) -> bool:
        return self.hub.control_queue_for(instance_id).name in self._partitions.owned_partitions

    async def _sweep_for_stuck_instances(self) -> None:
        """Every repairInterval: the repair sweep over the partitions this worker owns (repair.py)."""
        while True:
            await asyncio.sleep(self.settings.repair_interval.total_seconds())
            try:
                await self.repair.sweep(owns=self._owns)
            except StorageError as error:
                logger.warning("repair.sweep_failed error=%s", error)
            except Exception:  # a bug must not end the sweeps for good: log it, try again next round
                logger.exception("repair.sweep_failed")

    @property
    def owned_partitions(self) -> list[str]:
        return self._partitions.owned_partitions

    async def start(self) -> None:
        """Create the task hub if needed, start the activity dispatcher, then claim partitions."""
        if self._state is not WorkerState.NEW:
            raise DurableAzureError(f"a worker can be started once; this one is {self._state.value}")
        self._state = WorkerState.RUNNING
        await self.hub.create_if_not_exists()
        self._activities.start()
        self._anchors.start()
        await self._partitions.start()
        self._repair_loop = asyncio.create_task(self._sweep_for_stuck_instances(), name="repair-sweep")
        logger.info(
            "worker.started id=%s hub=%s partitions=%s", self.worker_id, self.hub.hub_name, self.owned_partitions
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop: finish or hand back in-flight work, then release every lease."""
        if self._state is not WorkerState.RUNNING:
            self._state = WorkerState.STOPPED
            return
        self._state = WorkerState.STOPPED
        if self._repair_loop is not None:
            self._repair_loop.cancel()
            await asyncio.gather(self._repair_loop, return_exceptions=True)
        for partition_id in self._partitions.owned_partitions:
            await self._orchestrations.stop_partition(partition_id, drain_timeout=timeout)
        await self._orchestrations.stop(timeout)
        await self._activities.stop(timeout)
        await self._anchors.stop()
        await self._partitions.stop()
        logger.info("worker.stopped id=%s", self.worker_id)

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()
