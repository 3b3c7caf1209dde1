"""A task hub: every queue, table and container of one hub, and their creation and deletion.

Creation is idempotent and safe to race (create-if-not-exists everywhere, lease
blobs create-only); `taskhub.json` is written last, so `exists()` is true only
once a create finished (dtfx-azure-storage.md §1).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from durable_azure.azure_storage.account import StorageAccount
from durable_azure.azure_storage.blobs import LargeMessageStore
from durable_azure.azure_storage.history_table import HistoryTable
from durable_azure.azure_storage.instances_table import InstancesTable
from durable_azure.azure_storage.leases import LeaseStore
from durable_azure.azure_storage.messages import MessageCodec
from durable_azure.azure_storage.names import TaskHubNames, partition_index
from durable_azure.azure_storage.presence import WorkerPresence
from durable_azure.azure_storage.queues import TaskHubQueue
from durable_azure.errors import ConfigurationError
from durable_azure.history import format_datetime

MIN_PARTITION_COUNT = 1
MAX_PARTITION_COUNT = 16


class TaskHub:
    """The storage resources of one task hub, built (without I/O) from an account and a name."""

    def __init__(self, account: StorageAccount, hub_name: str, *, partition_count: int = 4) -> None:
        if not MIN_PARTITION_COUNT <= partition_count <= MAX_PARTITION_COUNT:
            raise ConfigurationError(
                f"partition count must be {MIN_PARTITION_COUNT}-{MAX_PARTITION_COUNT}, not {partition_count}"
            )
        self.names = TaskHubNames(hub_name)
        self.hub_name = hub_name
        self.partition_count = partition_count
        self.account = account
        self.large_messages = LargeMessageStore(account.blobs, self.names.large_messages_container)
        codec = MessageCodec(self.large_messages)
        self.poison_queue = TaskHubQueue(account.queues, self.names.poison_queue, codec)
        self.control_queues = [self._queue(self.names.control_queue(index), codec) for index in range(partition_count)]
        self.work_item_queue = self._queue(self.names.work_item_queue, codec)
        self.history = HistoryTable(account.tables, self.names.history_table, self.large_messages)
        self.instances = InstancesTable(account.tables, self.names.instances_table, self.large_messages)
        self.leases = LeaseStore(account.blobs, self.names)
        self.presence = WorkerPresence(account.blobs, self.names.leases_container)

    def _queue(self, name: str, codec: MessageCodec) -> TaskHubQueue:
        return TaskHubQueue(self.account.queues, name, codec, poison_queue=self.poison_queue)

    def __repr__(self) -> str:
        return f"TaskHub({self.hub_name!r}, partition_count={self.partition_count})"

    @property
    def all_queues(self) -> list[TaskHubQueue]:
        return [*self.control_queues, self.work_item_queue, self.poison_queue]

    def control_queue_for(self, instance_id: str) -> TaskHubQueue:
        return self.control_queues[partition_index(instance_id, self.partition_count)]

    def queue_named(self, name: str) -> TaskHubQueue:
        """The queue object for a queue name (a partition id, or a received message's `queue_name`)."""
        for queue in self.all_queues:
            if queue.name == name:
                return queue
        raise KeyError(f"task hub {self.hub_name} has no queue named {name}")

    async def create_if_not_exists(self) -> None:
        """Create tables, queues and containers (in parallel), then lease blobs, then `taskhub.json`."""
        await asyncio.gather(
            *(queue.create() for queue in self.all_queues),
            self.account.tables.create_table(self.names.history_table),
            self.account.tables.create_table(self.names.instances_table),
            self.account.blobs.create_container(self.names.leases_container),
            self.account.blobs.create_container(self.names.large_messages_container),
        )
        await asyncio.gather(*(self.leases.create(queue.name) for queue in self.control_queues))
        await self._write_task_hub_info()

    async def _write_task_hub_info(self) -> None:
        info = {
            "TaskHubName": self.hub_name,
            "CreatedAt": format_datetime(datetime.now(UTC)),
            "PartitionCount": self.partition_count,
        }
        await self.account.blobs.put(
            self.names.leases_container,
            self.names.task_hub_info_blob,
            json.dumps(info).encode(),
            create_only=True,
            content_type="application/json",
        )

    async def exists(self) -> bool:
        """True once `taskhub.json` exists (written last by create): one request."""
        return await self.account.blobs.exists(self.names.leases_container, self.names.task_hub_info_blob)

    async def delete(self) -> None:
        """Delete every queue (incl. poison), both tables and both containers; missing ones are fine."""
        await asyncio.gather(
            *(queue.delete_queue() for queue in self.all_queues),
            self.account.tables.delete_table(self.names.history_table),
            self.account.tables.delete_table(self.names.instances_table),
            self.account.blobs.delete_container(self.names.leases_container),
            self.account.blobs.delete_container(self.names.large_messages_container),
        )
