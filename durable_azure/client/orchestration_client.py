"""`DurableOrchestrationClient`: start, query, signal, suspend, rewind and purge orchestration instances.

Method names and parameters are those of `azure.durable_functions`'
DurableOrchestrationClient, so porting is an import change; but this client
talks to the task hub's storage directly instead of to a .NET host's HTTP API.

Every refusal (bad id, bad input, an instance in the wrong state) is raised
before anything is written. Requests to a live instance (event, terminate,
suspend, resume, rewind) are in `instance_control`.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from durable_azure.azure_storage import StorageAccount, StorageConnection, TaskHub
from durable_azure.client import binding as client_binding
from durable_azure.client.entity_client import EntityClientMixin
from durable_azure.client.history_view import history_json
from durable_azure.client.http_payloads import HttpPayloadsMixin, ManagementLinks
from durable_azure.client.instance_control import InstanceControlMixin, OtherHubs
from durable_azure.client.instance_ids import new_instance_id, validate_instance_id
from durable_azure.client.instance_start import is_active, start_instance
from durable_azure.client.maintenance import purge_instance
from durable_azure.client.values import json_text, status_from_record, status_name
from durable_azure.errors import DurableAzureError, InstanceNotFoundError, InstanceRunningError, WaitTimeoutError
from durable_azure.history import OrchestrationStatus
from durable_azure.settings import DurableTaskSettings
from durable_azure.status import (
    DurableOrchestrationStatus,
    InstanceStatusPage,
    OrchestrationRuntimeStatus,
    PurgeHistoryResult,
)

MAX_PAGE_SIZE = 1000
"""Azure Tables returns at most 1,000 entities per request."""
_TERMINAL_RUNTIME_STATUSES = tuple(status for status in OrchestrationRuntimeStatus if status.to_status().is_terminal)


class ClientState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class DurableOrchestrationClient(InstanceControlMixin, EntityClientMixin, HttpPayloadsMixin):
    """Async client of one task hub. Use `async with` (or `close()`) to release its connections.

    `context` may also be the JSON string of a durableClient binding (function.json apps write
    `DurableOrchestrationClient(starter)`): the client then shares the invocation's connections.
    `management` holds the host's HTTP management links, which the check-status helpers need.
    """

    def __init__(
        self,
        context: TaskHub | str,
        function_invocation_id: str | None = None,
        *,
        owns_account: bool = False,
        management: ManagementLinks | None = None,
        other_hubs: OtherHubs | None = None,
        refuse_finished: bool = False,
    ):
        """`context` is a TaskHub, or (as in azure.durable_functions) the JSON string of a durableClient binding.

        `function_invocation_id` is accepted for the SDK's signature; the SDK only tags its HTTP requests with
        it, and this client sends none. `other_hubs` gives clients for the `task_hub_name`/`connection_name`
        arguments of `raise_event` and `rewind` (the host passes its own). `refuse_finished`: terminate,
        suspend and resume of a finished instance raise InstanceCompletedError (the extension's HTTP 410, which
        the host's management API must answer) instead of doing nothing (what the official client does with
        that 410).
        """
        self._hub_ready = False
        task_hub = context
        if isinstance(task_hub, str):
            source = client_binding.resolve(task_hub)
            task_hub, management, owns_account = source.hub, source.management, False
            other_hubs = other_hubs or source.other_hubs
            self._hub_ready = source.hub_ready
        self._hub: TaskHub = task_hub
        self._owns_account = owns_account
        self._state = ClientState.OPEN
        self.management = management
        self.function_invocation_id = function_invocation_id
        self._other_hubs = other_hubs
        self._refuse_finished = refuse_finished

    def bound_hub(self) -> client_binding.BoundHub:
        """This client's task hub and links, for a binding string (binding.py keeps no clients)."""
        return client_binding.BoundHub(self._hub, self.management, self._other_hubs, self._hub_ready)

    def with_management(self, management: ManagementLinks | None) -> DurableOrchestrationClient:
        """A client on the same task hub and connections whose HTTP helpers use `management`.

        Closing it closes nothing shared: the host hands one to each invocation. It behaves as the official
        client (a finished instance is no error for terminate, suspend and resume).
        """
        view = DurableOrchestrationClient(self._hub, management=management, other_hubs=self._other_hubs)
        view._hub_ready = self._hub_ready
        return view

    @classmethod
    def from_connection_string(
        cls, connection_string: str, task_hub: str = "TestHubName", *, partition_count: int = 4
    ) -> DurableOrchestrationClient:
        """A client with its own storage connections, closed with the client."""
        account = StorageAccount.from_connection_string(connection_string)
        return cls(TaskHub(account, task_hub, partition_count=partition_count), owns_account=True)

    @classmethod
    def from_connection(
        cls,
        connection: StorageConnection,
        task_hub: str = "TestHubName",
        *,
        partition_count: int = 4,
        settings: DurableTaskSettings | None = None,
    ) -> DurableOrchestrationClient:
        """A client with its own storage connections (Shared Key, SAS or an identity), closed with the client.

        `connection` comes from `durable_azure.azure_storage.resolve_connection` (app settings, as the
        Functions host reads them) or `parse_connection_string`; `settings` (host.json) choose the storage
        transport and retry policy.
        """
        if settings is None:
            account = StorageAccount.from_connection(connection)
        else:
            account = StorageAccount.for_settings(connection, settings)
        return cls(TaskHub(account, task_hub, partition_count=partition_count), owns_account=True)

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any = None,
        version: str | None = None,
    ) -> str:
        """Create a Pending instance and enqueue its ExecutionStarted; returns the instance id.

        A finished instance with the same id is replaced (the singleton
        pattern); an active one raises InstanceAlreadyExistsError.
        """
        self._check_open()
        if not isinstance(orchestration_function_name, str) or not orchestration_function_name:
            raise ValueError("orchestration_function_name must be a non-empty string")
        instance_id = new_instance_id() if instance_id is None else validate_instance_id(instance_id)
        what = f"input of orchestration '{orchestration_function_name}'"
        input_text = json_text(client_input, what) if client_input is not None else None
        await self._ensure_hub()
        if version is not None and not isinstance(version, str):
            raise TypeError(f"version must be a string, not {type(version).__name__}")
        return await start_instance(self._hub, orchestration_function_name, instance_id, input_text, version=version)

    async def restart(self, instance_id: str, restart_with_new_instance_id: bool = True) -> str:
        """Start the instance's orchestrator again with its original input; returns the (new) instance id.

        Restarting under the same id replaces the instance, so it must have
        finished (else InstanceAlreadyExistsError).
        """
        self._check_open()
        await self._ensure_hub()
        record = await self._hub.instances.get(instance_id)
        if record is None:
            raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
        new_id = new_instance_id() if restart_with_new_instance_id else instance_id
        return await start_instance(self._hub, record.name, new_id, record.input, version=record.version)

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> DurableOrchestrationStatus | None:
        """The instance's status, or None when no such instance exists.

        As in azure.durable_functions, `input_` is read only with `show_input=True`.
        """
        self._check_open()
        await self._ensure_hub()
        record = await self._hub.instances.get(instance_id, include_input=show_input)
        if record is None:
            return None
        status = status_from_record(record, show_input=show_input)
        if not show_history or record.runtime_status == OrchestrationStatus.Pending:
            return status
        loaded = await self._hub.history.load(instance_id)
        history = history_json(loaded.events, show_input=show_input, show_history_output=show_history_output)
        return status.with_history(history)

    async def list_instances(
        self,
        *,
        instance_id_prefix: str | None = None,
        page_size: int = 100,
        continuation_token: str | None = None,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: Sequence[OrchestrationRuntimeStatus] | None = None,
        show_input: bool = False,
    ) -> InstanceStatusPage:
        """One page of instances (one storage query); pass the returned token back for the next page."""
        self._check_open()
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, not {page_size}")
        await self._ensure_hub()
        page = await self._hub.instances.query(
            created_from=created_time_from,
            created_to=created_time_to,
            statuses=[status.to_status() for status in runtime_status] if runtime_status else None,
            instance_id_prefix=instance_id_prefix,
            page_size=page_size,
            continuation_token=continuation_token,
            include_input=show_input,
        )
        instances = [status_from_record(record, show_input=show_input) for record in page.records]
        return InstanceStatusPage(instances=instances, continuation_token=page.continuation_token)

    async def get_status_all(self) -> list[DurableOrchestrationStatus]:
        """Every instance in the task hub, across all pages."""
        return [status async for status in self._all_pages()]

    async def get_status_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: Sequence[OrchestrationRuntimeStatus] | None = None,
        instance_id_prefix: str | None = None,
    ) -> list[DurableOrchestrationStatus]:
        """Every instance matching all given filters (creation time range inclusive), across all pages."""
        pages = self._all_pages(
            created_time_from=created_time_from,
            created_time_to=created_time_to,
            runtime_status=runtime_status,
            instance_id_prefix=instance_id_prefix,
        )
        return [status async for status in pages]

    async def _all_pages(self, **filters: Any) -> AsyncIterator[DurableOrchestrationStatus]:
        token: str | None = None
        while True:
            page = await self.list_instances(page_size=MAX_PAGE_SIZE, continuation_token=token, **filters)
            for status in page.instances:
                yield status
            token = page.continuation_token
            if token is None:
                return

    async def purge_instance_history(self, instance_id: str) -> PurgeHistoryResult:
        """Delete a finished instance: its history rows, its Instances row and its large-message blobs.

        Returns instances_deleted 0 for an unknown id; raises InstanceRunningError
        (deleting nothing) for a Pending, Running or Suspended instance.
        """
        self._check_open()
        await self._ensure_hub()
        record = await self._hub.instances.get(instance_id, include_input=False)
        if record is None:
            return PurgeHistoryResult(0)
        if is_active(record.runtime_status):
            raise InstanceRunningError(
                f"cannot purge instance '{instance_id}': it is {record.runtime_status.name}", instance_id=instance_id
            )
        return PurgeHistoryResult(await purge_instance(self._hub, instance_id))

    async def purge_instance_history_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: Sequence[OrchestrationRuntimeStatus] | None = None,
    ) -> PurgeHistoryResult:
        """Purge every finished instance matching the filters; active ones are never touched."""
        statuses = [s for s in runtime_status or _TERMINAL_RUNTIME_STATUSES if s in _TERMINAL_RUNTIME_STATUSES]
        if not statuses:
            return PurgeHistoryResult(0)
        matching = await self.get_status_by(created_time_from, created_time_to, statuses)
        deleted = 0
        for start in range(0, len(matching), 50):
            chunk = matching[start : start + 50]
            deleted += sum(
                await asyncio.gather(*(purge_instance(self._hub, str(status.instance_id)) for status in chunk))
            )
        return PurgeHistoryResult(deleted)

    async def wait_for_completion(
        self, instance_id: str, timeout: float | timedelta = 60.0
    ) -> DurableOrchestrationStatus:
        """Poll until the instance is Completed, Failed, Canceled or Terminated.

        Raises InstanceNotFoundError for an unknown instance and WaitTimeoutError
        when `timeout` passes first. Polls quickly at first (50 ms) and backs
        off to 1 s, so short orchestrations return promptly.
        """
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        deadline = time.monotonic() + seconds
        delay = 0.05
        while True:
            status = await self.get_status(instance_id, show_input=False)
            if status is None:
                raise InstanceNotFoundError(f"no instance with id '{instance_id}'", instance_id=instance_id)
            if status.runtime_status and status.runtime_status.to_status().is_terminal:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(f"instance '{instance_id}' is still {status_name(status)} after {seconds:g} s")
            await asyncio.sleep(min(delay, remaining))
            delay = min(1.0, delay * 2)

    async def delete_task_hub(self) -> None:
        """Delete every queue, table and container of the task hub (`func durable delete-task-hub`)."""
        self._check_open()
        await self._hub.delete()
        self._hub_ready = False

    async def close(self) -> None:
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        if self._owns_account:
            await self._hub.account.close()

    async def __aenter__(self) -> DurableOrchestrationClient:
        self._check_open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._state is ClientState.CLOSED:
            raise DurableAzureError("this DurableOrchestrationClient is closed; create a new one")

    async def _ensure_hub(self) -> None:
        if not self._hub_ready:
            await self._hub.create_if_not_exists()
            self._hub_ready = True
