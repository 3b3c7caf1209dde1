"""A task hub: every queue, table and container of one hub, and their creation and deletion.

Creation is idempotent and safe to race (create-if-not-exists everywhere, lease
blobs create-only); `taskhub.json` is written last, so `exists()` is true only
once a create finished (dtfx-azure-storage.md §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from durable_azure.azure_storage.account import StorageAccount, translate_storage_errors
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
        self._leases_container = account.blob_service.get_container_client(self.names.leases_container)
        self._large_messages_container = account.blob_service.get_container_client(self.names.large_messages_container)
        self.large_messages = LargeMessageStore(self._large_messages_container)
        codec = MessageCodec(self.large_messages)
        self.poison_queue = TaskHubQueue(
            account.queue_service.get_queue_client(self.names.poison_queue), codec, wire=account.queue_wire
        )
        self.control_queues = [self._queue(self.names.control_queue(index), codec) for index in range(partition_count)]
        self.work_item_queue = self._queue(self.names.work_item_queue, codec)
        self._history_client = account.table_service.get_table_client(self.names.history_table)
        self._instances_client = account.table_service.get_table_client(self.names.instances_table)
        self.history = HistoryTable(self._history_client, self.large_messages, wire=account.table_wire)
        self.instances = InstancesTable(self._instances_client, self.large_messages, wire=account.table_wire)
        self.leases = LeaseStore(self._leases_container, self.names)
        self.presence = WorkerPresence(self._leases_container)

    def _queue(self, name: str, codec: MessageCodec) -> TaskHubQueue:
        client = self.account.queue_service.get_queue_client(name)
        return TaskHubQueue(client, codec, poison_queue=self.poison_queue, wire=self.account.queue_wire)

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
            self._create_table(self.names.history_table),
            self._create_table(self.names.instances_table),
            self._create_container(self._leases_container),
            self._create_container(self._large_messages_container),
        )
        await asyncio.gather(*(self.leases.create(queue.name) for queue in self.control_queues))
        await self._write_task_hub_info()

    async def _create_table(self, name: str) -> None:
        with translate_storage_errors("create table", table=name), contextlib.suppress(ResourceExistsError):
            await self.account.table_service.create_table(name)

    async def _create_container(self, container: ContainerClient) -> None:
        with (
            translate_storage_errors("create container", container=container.container_name),
            contextlib.suppress(ResourceExistsError),
        ):
            await container.create_container()

    async def _write_task_hub_info(self) -> None:
        info = {
            "TaskHubName": self.hub_name,
            "CreatedAt": format_datetime(datetime.now(UTC)),
            "PartitionCount": self.partition_count,
        }
        blob = self._leases_container.get_blob_client(self.names.task_hub_info_blob)
        with (
            translate_storage_errors("write taskhub.json", hub=self.hub_name),
            contextlib.suppress(ResourceExistsError),
        ):
            await blob.upload_blob(json.dumps(info), overwrite=False)

    async def exists(self) -> bool:
        """True once `taskhub.json` exists (written last by create): one request."""
        blob = self._leases_container.get_blob_client(self.names.task_hub_info_blob)
        with translate_storage_errors("check task hub", hub=self.hub_name):
            try:
                return bool(await blob.exists())
            except ResourceNotFoundError:
                return False

    async def delete(self) -> None:
        """Delete every queue (incl. poison), both tables and both containers; missing ones are fine."""
        await asyncio.gather(
            *(queue.delete_queue() for queue in self.all_queues),
            self._delete_table(self.names.history_table),
            self._delete_table(self.names.instances_table),
            self._delete_container(self._leases_container),
            self._delete_container(self._large_messages_container),
        )

    async def _delete_table(self, name: str) -> None:
        with translate_storage_errors("delete table", table=name):
            await self.account.table_service.delete_table(name)  # the SDK ignores a missing table

    async def _delete_container(self, container: ContainerClient) -> None:
        with (
            translate_storage_errors("delete container", container=container.container_name),
            contextlib.suppress(ResourceNotFoundError),
        ):
            await container.delete_container()
